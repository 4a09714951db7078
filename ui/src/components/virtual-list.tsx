import type { ComponentChildren } from "preact";
import { useMemo, useState } from "preact/hooks";

/**
 * Renders only the rows in view (plus a margin), so a conversation of 100,000 messages costs
 * the same as one of 100 (and only the photos in view are loaded). Each row has a fixed height,
 * given per item (media rows are taller); long text is clamped by CSS.
 */
export function VirtualList<T>(props: {
  items: readonly T[];
  rowHeight: number | ((item: T) => number);
  height: number;
  render: (item: T, index: number) => ComponentChildren;
  testId?: string;
}) {
  const { items, rowHeight, height, render } = props;
  const [top, setTop] = useState(0);
  // offsets[i] is the top of row i; offsets[items.length] the total height.
  const offsets = useMemo(() => {
    const out: number[] = [0];
    let y = 0;
    for (const item of items) {
      y += typeof rowHeight === "number" ? rowHeight : rowHeight(item);
      out.push(y);
    }
    return out;
  }, [items, rowHeight]);
  const margin = 8;
  const first = Math.max(0, rowAt(offsets, top) - margin);
  const last = Math.min(items.length, rowAt(offsets, top + height) + 1 + margin);
  return (
    <div
      class="virtual-list"
      data-testid={props.testId}
      style={{ height: `${height}px`, overflowY: "auto", position: "relative" }}
      onScroll={(e) => setTop(e.currentTarget.scrollTop)}
    >
      <div style={{ height: `${offsets[items.length] ?? 0}px`, position: "relative" }}>
        {items.slice(first, last).map((item, i) => (
          <div
            key={first + i}
            class="virtual-row"
            style={{
              position: "absolute",
              top: `${offsets[first + i] ?? 0}px`,
              height: `${(offsets[first + i + 1] ?? 0) - (offsets[first + i] ?? 0)}px`,
              left: 0,
              right: 0,
            }}
          >
            {render(item, first + i)}
          </div>
        ))}
      </div>
    </div>
  );
}

/** The row at vertical position `y` (binary search over the row tops). */
export function rowAt(offsets: readonly number[], y: number): number {
  let lo = 0;
  let hi = offsets.length - 2;
  if (hi < 0) return 0;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((offsets[mid] ?? 0) <= y) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
