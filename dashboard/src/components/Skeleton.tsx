/** Placeholders with the final layout's size, so content replaces them without a jump. */
export function Skeleton({ height = 16, width = '100%', class: cls = '' }: { height?: number | string; width?: number | string; class?: string }) {
  return <span class={`skeleton ${cls}`} style={{ height, width }} aria-hidden="true" />;
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <span class="sr-only" role="status">
      {label}
    </span>
  );
}

export function SkeletonRows({ rows, cols, rowHeight = 52 }: { rows: number; cols: number; rowHeight?: number }) {
  return (
    <>
      {Array.from({ length: rows }, (_, r) => (
        <tr key={r} aria-hidden="true" class="skeleton-row" style={{ height: rowHeight }}>
          {Array.from({ length: cols }, (_, c) => (
            <td key={c}>
              <Skeleton height={14} width={c === 0 ? '80%' : '60%'} />
            </td>
          ))}
        </tr>
      ))}
    </>
  );
}
