/** Shaping API rows into uPlot's columnar data: [xs, ...ys], xs in epoch seconds, ascending. */
import { epochSeconds } from './dates';

export type Row = Record<string, unknown> & { date: string };
export type Column = Array<number | null>;
export type AlignedData = [number[], ...Column[]];

function value(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** One profile's timeseries → [xs, metric1[], metric2[], ...]; rows are sorted by date, duplicates keep the last. */
export function toColumns(rows: Row[], metrics: string[]): AlignedData {
  const byX = new Map<number, Row>();
  for (const r of rows) {
    const x = epochSeconds(r.date);
    if (Number.isFinite(x)) byX.set(x, r);
  }
  const xs = [...byX.keys()].sort((a, b) => a - b);
  const ys = metrics.map((m) => xs.map((x) => value(byX.get(x)![m])));
  return [xs, ...ys];
}

/** Several profiles' series of one metric on a shared x axis (union of dates), null where a profile has no point. */
export function alignSeries(series: Array<Row[]>, metric: string): AlignedData {
  const xsSet = new Set<number>();
  const maps = series.map((rows) => {
    const m = new Map<number, number | null>();
    for (const r of rows) {
      const x = epochSeconds(r.date);
      if (!Number.isFinite(x)) continue;
      xsSet.add(x);
      m.set(x, value(r[metric]));
    }
    return m;
  });
  const xs = [...xsSet].sort((a, b) => a - b);
  return [xs, ...maps.map((m) => xs.map((x) => (m.has(x) ? m.get(x)! : null)))];
}

/** Rows for the accessible table twin of a chart: date label + each series' value. */
export function tableRows(data: AlignedData): Array<{ x: number; values: Column }> {
  const [xs, ...ys] = data;
  return xs.map((x, i) => ({ x, values: ys.map((y) => y[i] ?? null) }));
}

/** ISO date of an epoch-seconds x. */
export function xToDate(x: number): string {
  return new Date(x * 1000).toISOString().slice(0, 10);
}

/** Whether any y has at least one value (an all-null chart is an empty state, not a flat line). */
export function hasPoints(data: AlignedData): boolean {
  return data.slice(1).some((col) => (col as Column).some((v) => v != null));
}
