import { useEffect, useRef } from 'preact/hooks';
import type uPlot from 'uplot';
import { type AlignedData, hasPoints, tableRows, xToDate } from '../lib/series';

export const PALETTE = ['#4f7cff', '#e8590c', '#2f9e44', '#c2255c', '#7048e8', '#0c8599', '#e67700', '#5c940d', '#d6336c', '#868e96'];

export interface ChartSeries {
  label: string;
  color?: string;
}

/** uPlot (≈20 KB gz) is loaded on the first chart, keeping the first page load small. */
let uplotLoading: Promise<typeof uPlot> | null = null;
function loadUplot(): Promise<typeof uPlot> {
  uplotLoading ??= Promise.all([import('uplot'), import('uplot/dist/uPlot.min.css')]).then(([m]) => m.default);
  return uplotLoading;
}

type ChartElement = HTMLDivElement & { __chartData?: AlignedData; __uplot?: uPlot };

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

/**
 * A uPlot line chart with an accessible table twin. The drawn data is reachable as element.__chartData
 * ([xs, ...ys], xs in epoch seconds) for tests.
 */
export function Chart({
  title,
  data,
  series,
  format = (v: number) => String(v),
  height = 240,
  testid = 'chart',
  metric,
}: {
  title: string;
  data: AlignedData;
  series: ChartSeries[];
  format?: (v: number) => string;
  height?: number;
  testid?: string;
  metric?: string;
}) {
  const box = useRef<ChartElement>(null);
  const plotRef = useRef<HTMLDivElement>(null);
  const empty = !hasPoints(data);

  useEffect(() => {
    const el = box.current;
    const target = plotRef.current;
    if (!el || !target) return;
    el.__chartData = data;
    if (empty) return;
    let u: uPlot | null = null;
    let UPlot: typeof uPlot | null = null;
    let cancelled = false;
    el.removeAttribute('data-ready');
    const make = () => {
      if (!UPlot || cancelled) return;
      u?.destroy();
      const axis = cssVar('--muted', '#666');
      const grid = cssVar('--grid', 'rgba(128,128,128,.2)');
      const single = data[0].length < 2;
      u = new UPlot(
        {
          width: Math.max(200, target.clientWidth),
          height,
          legend: { show: true, live: true },
          cursor: { drag: { x: false, y: false } },
          // a single point would get a years-wide automatic x range: pad it by a few days instead
          scales: {
            x: single && data[0].length ? { time: true, auto: false, range: [data[0][0] - 3 * 86400, data[0][0] + 3 * 86400] } : { time: true },
          },
          series: [
            { label: 'Date', value: (_u, v) => (v == null ? '—' : xToDate(v)) },
            ...series.map((s, i) => ({
              label: s.label,
              stroke: s.color ?? PALETTE[i % PALETTE.length],
              width: 2,
              spanGaps: true,
              points: { show: single || data[0].length <= 40, size: 5 },
              value: (_u: uPlot, v: number | null) => (v == null ? '—' : format(v)),
            })),
          ],
          axes: [
            { stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } },
            {
              stroke: axis,
              grid: { stroke: grid, width: 1 },
              ticks: { stroke: grid },
              size: 64,
              values: (_u, vals) => vals.map((v) => (v == null ? '' : format(v))),
            },
          ],
        },
        data as uPlot.AlignedData,
        target,
      );
      el.__uplot = u;
      el.setAttribute('data-ready', 'true');
    };
    loadUplot().then(
      (m) => {
        UPlot = m;
        make();
      },
      () => el.setAttribute('data-ready', 'error'),
    );
    const ro = new ResizeObserver(() => {
      if (u && target.clientWidth && Math.abs(u.width - target.clientWidth) > 2) u.setSize({ width: target.clientWidth, height });
    });
    ro.observe(target);
    const mq = matchMedia('(prefers-color-scheme: dark)');
    mq.addEventListener('change', make);
    return () => {
      cancelled = true;
      ro.disconnect();
      mq.removeEventListener('change', make);
      u?.destroy();
      el.__uplot = undefined;
    };
  }, [data, series.map((s) => s.label).join('|'), height, empty]);

  const rows = tableRows(data);
  return (
    <figure class="chart" ref={box} data-testid={testid} data-metric={metric} data-points={data[0].length}>
      <figcaption class="chart-title">{title}</figcaption>
      {empty ? (
        <div class="chart-empty" style={{ height }} data-testid="chart-empty">
          No data points in this range.
        </div>
      ) : (
        <div class="chart-plot" ref={plotRef} style={{ minHeight: height + 32 }} aria-hidden="true" />
      )}
      {/* the accessible twin of the plot; the wrapper (not the table, whose layout ignores width) is visually hidden */}
      <div class="sr-only">
      <table class="chart-table">
        <caption>{title} (data table)</caption>
        <thead>
          <tr>
            <th scope="col">Date</th>
            {series.map((s) => (
              <th scope="col" key={s.label}>
                {s.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.x}>
              <th scope="row">{xToDate(r.x)}</th>
              {r.values.map((v, i) => (
                <td key={i}>{v == null ? '—' : format(v)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      </div>
    </figure>
  );
}

/** A chart-sized placeholder. */
export function ChartSkeleton({ title, height = 240 }: { title: string; height?: number }) {
  return (
    <figure class="chart" aria-busy="true">
      <figcaption class="chart-title">{title}</figcaption>
      <span class="skeleton" style={{ height: height + 32, width: '100%', display: 'block' }} aria-hidden="true" />
    </figure>
  );
}
