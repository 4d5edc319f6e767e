import { useEffect, useRef, useState } from 'preact/hooks';
import { logout } from './api/client';
import { endSession, refreshUsage, safeNext, SIGNED_OUT } from './auth';
import { PLATFORMS, type Platform } from './api/types';
import { OfflineBanner } from './components/OfflineBanner';
import { UsageMeter } from './components/UsageMeter';
import { match, navigate, useLocation } from './router';
import { session, useStore } from './store';
import { LoginPage } from './pages/Login';
import { DiscoverPage } from './pages/Discover';
import { ProfilePage } from './pages/Profile';
import { ComparePage } from './pages/Compare';
import { LeaderboardsPage } from './pages/Leaderboards';
import { CollectionsPage } from './pages/Collections';
import { CollectionPage } from './pages/Collection';
import { ApiKeysPage } from './pages/ApiKeys';
import { NotFound } from './pages/NotFound';

function platformOf(p: Record<string, string>): Platform | null {
  return PLATFORMS.includes(p.platform as Platform) ? (p.platform as Platform) : null;
}

function resolve(path: string) {
  let m: Record<string, string> | null;
  if ((m = match('/discover/:platform', path)) && platformOf(m)) return <DiscoverPage platform={platformOf(m)!} />;
  if ((m = match('/p/:platform/:id', path)) && platformOf(m) && /^\d+$/.test(m.id))
    return <ProfilePage key={`${m.platform}/${m.id}`} platform={platformOf(m)!} id={Number(m.id)} />;
  if ((m = match('/compare/:platform', path)) && platformOf(m)) return <ComparePage platform={platformOf(m)!} />;
  if ((m = match('/leaderboards/:platform', path)) && platformOf(m)) return <LeaderboardsPage platform={platformOf(m)!} />;
  if (match('/collections', path)) return <CollectionsPage />;
  if ((m = match('/collections/:id', path)) && /^\d+$/.test(m.id)) return <CollectionPage key={m.id} id={Number(m.id)} />;
  if (match('/api-keys', path)) return <ApiKeysPage />;
  return <NotFound />;
}

const NAV: Array<{ href: string; label: string; section: string }> = [
  { href: '/discover/instagram', label: 'Discover', section: 'discover' },
  { href: '/compare/instagram', label: 'Compare', section: 'compare' },
  { href: '/leaderboards/instagram', label: 'Leaderboards', section: 'leaderboards' },
  { href: '/collections', label: 'Collections', section: 'collections' },
  { href: '/api-keys', label: 'API keys', section: 'api-keys' },
];

export function App() {
  const s = useStore(session);
  const { path } = useLocation();
  const mainRef = useRef<HTMLElement>(null);
  const first = useRef(true);
  const [loggingOut, setLoggingOut] = useState(false);

  const needsLogin = !s && path !== '/login';
  useEffect(() => {
    if (needsLogin) {
      const q = new URLSearchParams();
      if (path !== '/') q.set('next', location.pathname + location.search);
      navigate('/login' + (q.toString() ? '?' + q : ''), { replace: true });
    } else if (s && path === '/') navigate('/discover/instagram', { replace: true });
    else if (s && path === '/login') navigate(safeNext(new URLSearchParams(location.search).get('next')), { replace: true });
  }, [needsLogin, path, s]);

  useEffect(() => {
    if (s) refreshUsage();
  }, [s?.token]);

  // Move focus to the page on client-side navigation (not on the first load), so screen readers hear the new page.
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const h1 = mainRef.current?.querySelector('h1') as HTMLElement | null;
    (h1 ?? mainRef.current)?.focus({ preventScroll: false });
    window.scrollTo(0, 0);
  }, [path]);

  const doLogout = async () => {
    const tok = s?.token;
    setLoggingOut(true);
    try {
      if (tok) await logout(tok);
    } catch {
      /* the local session ends anyway; the server one expires */
    } finally {
      setLoggingOut(false);
      endSession(SIGNED_OUT);
    }
  };

  if (path === '/login' && !s) {
    return (
      <>
        <a class="skip-link" href="#main">
          Skip to content
        </a>
        <OfflineBanner />
        <main id="main" ref={mainRef} tabIndex={-1} class="login-main">
          <LoginPage />
        </main>
      </>
    );
  }
  if (!s) return null;

  const section = path.split('/')[1] === 'p' ? 'discover' : path.split('/')[1];
  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <a class="brand" href="/discover/instagram" aria-label="bulbul home">
          <span class="brand-dot" aria-hidden="true" />
          bulbul
        </a>
        <nav aria-label="Main">
          <ul class="nav">
            {NAV.map((n) => (
              <li key={n.href}>
                <a href={n.href} aria-current={section === n.section ? 'page' : undefined} data-testid={`nav-${n.section}`}>
                  {n.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="topbar-right">
          <UsageMeter compact />
          <span class="user muted" title={s.session.user_name}>
            {s.session.user_name}
          </span>
          <button type="button" class="btn btn-ghost" onClick={doLogout} disabled={loggingOut} data-testid="logout">
            {loggingOut ? 'Signing out…' : 'Log out'}
          </button>
        </div>
      </header>
      <OfflineBanner />
      <main id="main" ref={mainRef} tabIndex={-1}>
        {resolve(path)}
      </main>
    </>
  );
}
