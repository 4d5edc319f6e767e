import { formatSignedCount, formatSignedPercent } from '../lib/format';
import { trend } from '../lib/growth';

/** A signed change with its percent, coloured by direction (and worded, not colour-only). */
export function GrowthBadge({ absolute, percent, format = formatSignedCount }: { absolute: number | null; percent?: number | null; format?: (n: number) => string }) {
  const t = trend(absolute);
  const arrow = t === 'up' ? '▲' : t === 'down' ? '▼' : '';
  return (
    <span class={`growth growth-${t}`} data-testid="growth">
      <span aria-hidden="true">{arrow} </span>
      <span class="sr-only">{t === 'up' ? 'up' : t === 'down' ? 'down' : ''} </span>
      {absolute == null ? '—' : format(absolute)}
      {percent !== undefined && <span class="growth-pct"> ({formatSignedPercent(percent)})</span>}
    </span>
  );
}
