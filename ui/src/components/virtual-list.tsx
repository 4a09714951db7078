import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";

/**
 * Renders only the rows in view (plus a margin), so a conversation of 100,000 messages costs
 * the same as one of 100. Rows have a fixed height; long text is clamped by CSS.
 */
export function VirtualList<T>(props: {
  items: readonly T[];
  rowHeight: number;
  height: number;
  render: (item: T, index: number) => ComponentChildren;
  testId?: string;
}) {
  const { items, rowHeight, height, render } = props;
  const [top, setTop] = useState(0);
  const margin = 8;
  const first = Math.max(0, Math.floor(top / rowHeight) - margin);
  const last = Math.min(items.length, Math.ceil((top + height) / rowHeight) + margin);
  return (
    <div
      class="virtual-list"
      data-testid={props.testId}
      style={{ height: `${height}px`, overflowY: "auto", position: "relative" }}
      onScroll={(e) => setTop(e.currentTarget.scrollTop)}
    >
      <div style={{ height: `${items.length * rowHeight}px`, position: "relative" }}>
        {items.slice(first, last).map((item, i) => (
          <div
            key={first + i}
            class="virtual-row"
            style={{ position: "absolute", top: `${(first + i) * rowHeight}px`, height: `${rowHeight}px`, left: 0, right: 0 }}
          >
            {render(item, first + i)}
          </div>
        ))}
      </div>
    </div>
  );
}
