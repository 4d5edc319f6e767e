import { useState } from 'preact/hooks';
import { ApiError, login } from '../api/client';
import { InlineError } from '../components/ErrorState';
import { useTitle } from '../hooks';
import { navigate, useQuery } from '../router';
import { session } from '../store';
import { safeNext, SIGNED_OUT } from '../auth';

export function LoginPage() {
  useTitle('Log in');
  const q = useQuery();
  const reason = q.get('reason');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<ApiError | string | null>(null);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!email.trim() || !password) {
      setErr('Enter your email and password.');
      return;
    }
    setBusy(true);
    setErr(null);
    try {
      const r = await login(email.trim(), password);
      session.set({ token: r.token, expires_at: r.expires_at, session: r.session });
      navigate(safeNext(q.get('next')), { replace: true });
    } catch (x) {
      const a = x as ApiError;
      setErr(a.status === 401 ? `Wrong email or password. ${a.detail !== a.problem.title ? a.detail : ''}`.trim() : a);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="login-card">
      <p class="brand brand-lg">
        <span class="brand-dot" aria-hidden="true" />
        bulbul
      </p>
      <h1 tabIndex={-1}>Log in</h1>
      {reason && (
        <p class={reason === SIGNED_OUT ? 'notice' : 'notice notice-warn'} role="status" data-testid="login-reason">
          {reason === SIGNED_OUT ? reason : `Please log in again: ${reason}`}
        </p>
      )}
      <form onSubmit={submit} noValidate data-testid="login-form">
        <div class="field">
          <label for="email">Email</label>
          <input id="email" name="email" type="email" autoComplete="username" required value={email} onInput={(e) => setEmail((e.target as HTMLInputElement).value)} />
        </div>
        <div class="field">
          <label for="password">Password</label>
          <input id="password" name="password" type="password" autoComplete="current-password" required value={password} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
        </div>
        <InlineError error={err} />
        <button type="submit" class="btn btn-primary btn-block" disabled={busy} data-testid="login-submit">
          {busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
    </section>
  );
}
