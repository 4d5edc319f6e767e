/** A small history-API router: a location store, pattern matching, and link interception. */
import { store, useStore } from './store';

export interface Loc {
  path: string;
  search: string;
}

/** Paths the gateway owns; the SPA never routes them (a click on such a link is a real navigation). */
export const SERVER_PREFIXES = ['/coffee', '/identity', '/partners', '/beat', '/health', '/ready', '/metrics', '/heartbeat', '/assets'];

export function isServerPath(path: string): boolean {
  return SERVER_PREFIXES.some((p) => path === p || path.startsWith(p + '/'));
}

function current(): Loc {
  return { path: location.pathname, search: location.search };
}

export const loc = store<Loc>(typeof location === 'undefined' ? { path: '/', search: '' } : current());

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  const url = new URL(to, location.href);
  const next = url.pathname + url.search + url.hash;
  if (next === location.pathname + location.search + location.hash && !opts.replace) return;
  if (opts.replace) history.replaceState(null, '', next);
  else history.pushState(null, '', next);
  loc.set(current());
}

/** Matches "/p/:platform/:id" against a path; returns params or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const a = pattern.split('/').filter(Boolean);
  const b = path.split('/').filter(Boolean);
  if (a.length !== b.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < a.length; i++) {
    if (a[i].startsWith(':')) {
      try {
        params[a[i].slice(1)] = decodeURIComponent(b[i]);
      } catch {
        return null;
      }
    } else if (a[i] !== b[i]) return null;
  }
  return params;
}

export function useLocation(): Loc {
  return useStore(loc);
}

export function useQuery(): URLSearchParams {
  return new URLSearchParams(useLocation().search);
}

/** Replaces the current entry's query (state that should not create history entries). */
export function setQuery(q: string, opts: { replace?: boolean } = {}): void {
  navigate(location.pathname + (q ? '?' + q : ''), opts);
}

export function startRouter(): void {
  window.addEventListener('popstate', () => loc.set(current()));
  document.addEventListener('click', (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = (e.target as Element | null)?.closest?.('a');
    if (!a || !a.href || a.target || a.hasAttribute('download') || a.getAttribute('rel') === 'external') return;
    const url = new URL(a.href);
    if (url.origin !== location.origin || isServerPath(url.pathname)) return;
    e.preventDefault();
    navigate(url.pathname + url.search + url.hash);
  });
}
