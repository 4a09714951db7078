import type { ComponentChildren } from "preact";

/** A `<select>` of fixed options, typed by their ids. */
export function Select<T extends string>(props: {
  id?: string;
  testId: string;
  value: T;
  options: readonly { id: T; label: string }[];
  onChange: (id: T) => void;
}) {
  return (
    <select id={props.id} data-testid={props.testId} value={props.value} onChange={(e) => props.onChange(e.currentTarget.value as T)}>
      {props.options.map((o) => (
        <option key={o.id} value={o.id}>
          {o.label}
        </option>
      ))}
    </select>
  );
}

/** A checkbox with its label on the same line. */
export function Checkbox(props: { testId?: string; class?: string; checked: boolean; onChange: (checked: boolean) => void; children: ComponentChildren }) {
  return (
    <label class={props.class ?? "inline"}>
      <input type="checkbox" data-testid={props.testId} checked={props.checked} onChange={(e) => props.onChange(e.currentTarget.checked)} />
      {props.children}
    </label>
  );
}
