import type { ComponentChildren } from 'preact';

/** A column heading: its text, or `{ label, numeric }`; `hidden` headings are for screen readers only. */
export type Column = string | { readonly label: string; readonly numeric?: boolean; readonly hidden?: boolean };

/**
 * A data table with a caption (read by screen readers), column headings and the rows given as
 * children, inside a box that scrolls sideways on a narrow screen so the page itself never does.
 */
export function DataTable({ caption, columns, className, children }: { readonly caption: string; readonly columns: readonly Column[]; readonly className?: string; readonly children: ComponentChildren }) {
  return (
    <div class="table-wrap">
      <table class={className}>
        <caption class="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            {columns.map((column) => {
              const { label, numeric = false, hidden = false } = typeof column === 'string' ? { label: column } : column;
              return (
                <th scope="col" class={numeric ? 'numeric' : undefined} key={label}>
                  {hidden ? <span class="visually-hidden">{label}</span> : label}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
