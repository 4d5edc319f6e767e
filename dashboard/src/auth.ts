/** Session lifecycle: usage refresh, ending a session (401, logout), safe post-login redirects. */
import { getUsage, setUnauthorizedHandler } from './api/client';
import { collectionsCache } from './components/AddToCollection';
import { isServerPath, navigate } from './router';
import { session, usage } from './store';

export function refreshUsage(): void {
  if (!session.get()) return;
  getUsage()
    .then((u) => usage.set(u))
    .catch(() => {});
}

export const SIGNED_OUT = 'You have signed out.';

/** Ends the local session and goes to the login page with a reason. */
export function endSession(reason: string): void {
  const here = location.pathname + location.search;
  session.set(null);
  usage.set(null);
  collectionsCache.set(null);
  const q = new URLSearchParams({ reason });
  if (!here.startsWith('/login') && reason !== SIGNED_OUT) q.set('next', here);
  navigate('/login?' + q.toString(), { replace: true });
}

setUnauthorizedHandler((detail) => endSession(detail || 'Your session has ended.'));

/** A same-origin app path to return to after login, never an external or server URL. */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/login')) return '/discover/instagram';
  const path = next.split('?')[0];
  return isServerPath(path) ? '/discover/instagram' : next;
}
