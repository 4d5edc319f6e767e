import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api/problem';

export interface Async<T> {
  status: 'loading' | 'ok' | 'error';
  /** the last good data; kept while reloading so the layout does not jump */
  data: T | undefined;
  error: ApiError | null;
  reload: () => void;
  setData: (d: T) => void;
}

function asApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  return new ApiError('http', { type: 'about:blank', title: 'Unexpected error', status: 0, detail: String(e) });
}

/** Runs an async loader whenever deps change (aborting the previous one). */
export function useAsync<T>(fn: (signal: AbortSignal) => Promise<T>, deps: unknown[]): Async<T> {
  const [state, setState] = useState<{ status: Async<T>['status']; data: T | undefined; error: ApiError | null }>({
    status: 'loading',
    data: undefined,
    error: null,
  });
  const [tick, setTick] = useState(0);
  const fnRef = useRef(fn);
  fnRef.current = fn;
  useEffect(() => {
    const ctl = new AbortController();
    setState((s) => ({ status: 'loading', data: s.data, error: null }));
    fnRef.current(ctl.signal).then(
      (data) => !ctl.signal.aborted && setState({ status: 'ok', data, error: null }),
      (e) => {
        const err = asApiError(e);
        if (!ctl.signal.aborted && err.kind !== 'aborted') setState((s) => ({ status: 'error', data: s.data, error: err }));
      },
    );
    return () => ctl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const setData = useCallback((data: T) => setState({ status: 'ok', data, error: null }), []);
  return { ...state, reload, setData };
}

/** Seconds left until `until` (ms epoch), ticking each second; 0 when past or null. */
export function useCountdown(until: number | null): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (until == null) return;
    setNow(Date.now());
    const t = setInterval(() => {
      setNow(Date.now());
      if (Date.now() >= until) clearInterval(t);
    }, 250);
    return () => clearInterval(t);
  }, [until]);
  return until == null ? 0 : Math.max(0, Math.ceil((until - now) / 1000));
}

/** Sets document.title. */
export function useTitle(title: string): void {
  useEffect(() => {
    document.title = title ? `${title} · bulbul` : 'bulbul';
  }, [title]);
}
