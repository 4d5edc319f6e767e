import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, createApiKey, listApiKeys, revokeApiKey, rotateApiKey } from '../api/client';
import type { ApiKeyDto, ApiKeyScope, CreatedApiKey, RevocationOutcome } from '../api/types';
import { ErrorState, InlineError } from '../components/ErrorState';
import { SelectField } from '../components/SelectField';
import { Loading, SkeletonRows } from '../components/Skeleton';
import { useAsync, useTitle } from '../hooks';
import {
  buildNewKey,
  formatOrNever,
  MAX_KEY_NAME,
  minExpiryDate,
  revocationNote,
  SCOPE_CHOICES,
  scopeLabel,
  statusLabel,
} from '../lib/apikeys';
import { formatDateTime } from '../lib/format';

/** A just-issued key. The secret lives here, in this page's state only, until "Done". */
interface Issued {
  secret: string;
  name: string;
  id: number;
  rotated: boolean;
}

function issued(c: CreatedApiKey, rotated: boolean): Issued {
  return { secret: c.secret, name: c.key.name, id: c.key.id, rotated };
}

export function ApiKeysPage() {
  useTitle('API keys');
  const res = useAsync((signal) => listApiKeys(signal), []);
  const [name, setName] = useState('');
  const [scope, setScope] = useState<ApiKeyScope>('read');
  const [expiry, setExpiry] = useState('');
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<ApiError | string | null>(null);
  const [created, setCreated] = useState<Issued | null>(null);
  const [note, setNote] = useState<{ text: string; propagated: boolean } | null>(null);
  const headRef = useRef<HTMLHeadingElement>(null);
  const noteRef = useRef<HTMLParagraphElement>(null);
  const nameRef = useRef<HTMLInputElement>(null);
  /** where focus goes back to when the new key's panel is dismissed */
  const returnTo = useRef<HTMLElement | null>(null);
  const wasShowing = useRef(false);

  useEffect(() => {
    if (created) wasShowing.current = true;
    else if (wasShowing.current) {
      wasShowing.current = false;
      const el = returnTo.current;
      returnTo.current = null;
      if (el && el.isConnected && !(el as HTMLButtonElement).disabled) el.focus();
      else headRef.current?.focus();
    }
  }, [created]);

  // `from`: the control that asked (focus returns there after Done); not document.activeElement, which is <body>
  // by then (a focused button that turns disabled while busy loses focus)
  const show = (c: CreatedApiKey, rotated: boolean, from: HTMLElement | null) => {
    returnTo.current = from;
    setNote(null);
    setCreated(issued(c, rotated));
    res.reload();
  };

  const create = async (e: Event) => {
    e.preventDefault();
    const req = buildNewKey(name, scope, expiry, new Date());
    if (!req.ok) {
      setErr(req.error);
      return;
    }
    setBusy(true);
    setErr(null);
    try {
      const c = await createApiKey(req.body);
      setName('');
      setExpiry('');
      show(c, false, nameRef.current);
    } catch (x) {
      setErr(x as ApiError);
    } finally {
      setBusy(false);
    }
  };

  const revoked = (k: ApiKeyDto, outcome: RevocationOutcome) => {
    setNote({ text: revocationNote(k.name, outcome) ?? `“${k.name}” is revoked: it no longer works anywhere.`, propagated: outcome.propagated });
    res.reload();
  };
  // the revoke button's row loses its actions: focus goes to the message saying what happened
  useEffect(() => {
    if (note) noteRef.current?.focus();
  }, [note]);

  const keys = res.data;
  const prefixOf = new Map((keys ?? []).map((k) => [k.id, k.prefix]));
  return (
    <section class="page" aria-labelledby="keys-h">
      <div class="page-head">
        <h1 id="keys-h" ref={headRef} tabIndex={-1}>
          API keys
        </h1>
      </div>
      <p class="lede muted">
        API keys let your own systems call the bulbul partner API without a person's password, sent as{' '}
        <code>Authorization: Bearer &lt;key&gt;</code> or <code>x-api-key: &lt;key&gt;</code>; a read-only key can only read.
      </p>

      {created && <NewKeyPanel issued={created} onDone={() => setCreated(null)} />}

      <form class="card create-form" onSubmit={create} aria-labelledby="new-key-h" data-testid="create-key">
        <h2 id="new-key-h">New API key</h2>
        <div class="form-row form-row-top">
          <div class="field field-wide">
            <label for="k-name">Name</label>
            <input
              id="k-name"
              ref={nameRef}
              value={name}
              maxLength={MAX_KEY_NAME}
              required
              autoComplete="off"
              aria-describedby="k-name-hint"
              onInput={(e) => setName((e.target as HTMLInputElement).value)}
              data-testid="key-name"
            />
            <span id="k-name-hint" class="muted small">
              What uses it, e.g. “nightly CRM sync”.
            </span>
          </div>
          <SelectField id="k-scope" label="Access" value={scope} choices={SCOPE_CHOICES} onChange={(v) => setScope(v as ApiKeyScope)} testId="key-scope" />
          <div class="field">
            <label for="k-expiry">Expires (optional)</label>
            <input
              id="k-expiry"
              type="date"
              value={expiry}
              min={minExpiryDate(new Date())}
              aria-describedby="k-expiry-hint"
              onInput={(e) => setExpiry((e.target as HTMLInputElement).value)}
              data-testid="key-expiry"
            />
            <span id="k-expiry-hint" class="muted small">
              At the end of that day (UTC). Empty: never.
            </span>
          </div>
          <div class="field field-buttons">
            <span class="label-spacer" aria-hidden="true">
              &nbsp;
            </span>
            <button type="submit" class="btn btn-primary" disabled={busy || !!created} data-testid="key-create">
              {busy ? 'Creating…' : 'Create key'}
            </button>
          </div>
        </div>
        {created && <p class="muted small">Store the new key above and press Done before creating another.</p>}
        <InlineError error={err} />
      </form>

      {note && (
        <p class={note.propagated ? 'notice' : 'notice notice-warn'} role="status" tabIndex={-1} ref={noteRef} data-testid="revoke-note" data-propagated={String(note.propagated)}>
          {note.text}
        </p>
      )}
      {res.error && <ErrorState error={res.error} onRetry={res.reload} what="your API keys" />}
      <div class="table-wrap" aria-busy={res.status === 'loading'}>
        {res.status === 'loading' && <Loading label="Loading API keys" />}
        <table class="data keys" data-testid="api-keys">
          <caption class="sr-only">Your API keys</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col" class="hide-sm">
                Key
              </th>
              <th scope="col" class="hide-sm">
                Access
              </th>
              <th scope="col">Status</th>
              <th scope="col" class="hide-sm">
                Created
              </th>
              <th scope="col" class="hide-sm">
                Last used
              </th>
              <th scope="col" class="hide-sm">
                Expires
              </th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {!keys && res.status === 'loading' && <SkeletonRows rows={3} cols={8} />}
            {keys?.map((k) => (
              <KeyRow
                key={k.id}
                k={k}
                replaces={k.rotated_from != null ? prefixOf.get(k.rotated_from) ?? null : null}
                locked={!!created}
                onRotated={(c, from) => show(c, true, from)}
                onRevoked={(o) => revoked(k, o)}
              />
            ))}
          </tbody>
        </table>
        {keys && keys.length === 0 && (
          <div class="empty" data-testid="empty">
            <p>
              <strong>No API keys yet.</strong>
            </p>
            <p class="muted">Create one above to let your own systems call the bulbul API.</p>
          </div>
        )}
      </div>
    </section>
  );
}

/** The secret, shown once: copy it, store it, press Done (then it is gone from the page). */
function NewKeyPanel({ issued: k, onDone }: { issued: Issued; onDone: () => void }) {
  const panelRef = useRef<HTMLElement>(null);
  const inputRef = useRef<HTMLInputElement>(null);
  const [copy, setCopy] = useState<'idle' | 'copied' | 'manual'>('idle');

  useEffect(() => {
    panelRef.current?.focus();
  }, []);

  const selectSecret = () => {
    inputRef.current?.focus();
    inputRef.current?.select();
  };
  const doCopy = async () => {
    try {
      if (!navigator.clipboard?.writeText) throw new Error('no clipboard');
      await navigator.clipboard.writeText(k.secret);
      setCopy('copied');
    } catch {
      selectSecret();
      setCopy('manual');
    }
  };

  return (
    <section
      class="card secret-panel"
      ref={panelRef}
      tabIndex={-1}
      aria-labelledby="new-key-panel-h"
      aria-describedby="new-key-warning"
      data-testid="new-key-panel"
      data-key-id={k.id}
    >
      <h2 id="new-key-panel-h">
        {k.rotated ? 'Replacement key' : 'New key'} for “{k.name}”
      </h2>
      <p id="new-key-warning" class="notice notice-warn">
        <strong>This is the only time the key is shown. Store it now.</strong>
        {k.rotated ? ' The key it replaces keeps working until you revoke it.' : ''}
      </p>
      <div class="field">
        <label for="new-key-secret">Your API key</label>
        <div class="secret-field">
          <input
            id="new-key-secret"
            ref={inputRef}
            value={k.secret}
            readOnly
            autoComplete="off"
            spellcheck={false}
            onFocus={(e) => (e.currentTarget as HTMLInputElement).select()}
            data-testid="new-key-secret"
          />
          <button type="button" class="btn" onClick={doCopy} data-testid="copy-key">
            Copy
          </button>
        </div>
      </div>
      <p class="small copy-status" role="status" data-testid="copy-status">
        {copy === 'copied' ? 'Copied to the clipboard.' : copy === 'manual' ? 'Could not copy automatically: the key is selected, press Ctrl+C (⌘C on a Mac).' : ''}
      </p>
      <button type="button" class="btn btn-primary" onClick={onDone} data-testid="new-key-done">
        Done
      </button>
    </section>
  );
}

function KeyRow({
  k,
  replaces,
  locked,
  onRotated,
  onRevoked,
}: {
  k: ApiKeyDto;
  replaces: string | null;
  locked: boolean;
  onRotated: (c: CreatedApiKey, from: HTMLElement | null) => void;
  onRevoked: (o: RevocationOutcome) => void;
}) {
  const rotateRef = useRef<HTMLButtonElement>(null);
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [err, setErr] = useState<ApiError | null>(null);
  const active = k.status === 'active';
  const rotate = async () => {
    setBusy(true);
    setErr(null);
    try {
      onRotated(await rotateApiKey(k.id), rotateRef.current);
    } catch (x) {
      setErr(x as ApiError);
    } finally {
      setBusy(false);
    }
  };
  return (
    <tr data-testid="api-key-row" data-key-id={k.id} data-status={k.status}>
      <td>
        <span class="key-name">{k.name}</span>
        {/* narrow screens: the key and access columns are hidden, shown here instead */}
        <div class="show-sm muted small">
          <code>{k.prefix}</code>… · {scopeLabel(k.scope)}
        </div>
        {replaces && (
          <div class="muted small">
            replaces <code>{replaces}</code>…
          </div>
        )}
      </td>
      <td class="nowrap hide-sm">
        <code data-testid="key-prefix">{k.prefix}</code>…
      </td>
      <td class="hide-sm">{scopeLabel(k.scope)}</td>
      <td>
        <span class={`badge badge-${k.status}`} data-testid="key-status">
          {statusLabel(k.status)}
        </span>
      </td>
      <td class="hide-sm">{formatDateTime(k.created_at)}</td>
      <td class="hide-sm">{formatOrNever(k.last_used_at)}</td>
      <td class="hide-sm">{formatOrNever(k.expires_at)}</td>
      <td class="actions">
        {active && (
          <>
            {!confirming && (
              <>
                <button type="button" ref={rotateRef} class="btn btn-small btn-ghost" onClick={rotate} disabled={busy || locked} data-testid="rotate-key">
                  {busy ? 'Rotating…' : 'Rotate'}
                  <span class="sr-only"> {k.name}</span>
                </button>{' '}
              </>
            )}
            <RevokeButton k={k} confirm={confirming} setConfirm={setConfirming} onRevoked={onRevoked} />
            <InlineError error={err} />
          </>
        )}
      </td>
    </tr>
  );
}

/** Revoke, confirmed inline (like a collection's Delete); `confirm` is the row's, which hides Rotate meanwhile. */
function RevokeButton({
  k,
  confirm,
  setConfirm,
  onRevoked,
}: {
  k: ApiKeyDto;
  confirm: boolean;
  setConfirm: (c: boolean) => void;
  onRevoked: (o: RevocationOutcome) => void;
}) {
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<ApiError | null>(null);
  const triggerRef = useRef<HTMLButtonElement>(null);
  const cancelled = useRef(false);
  useEffect(() => {
    if (!confirm && cancelled.current) {
      cancelled.current = false;
      triggerRef.current?.focus();
    }
  }, [confirm]);
  const revoke = async () => {
    setBusy(true);
    setErr(null);
    try {
      onRevoked(await revokeApiKey(k.id));
    } catch (x) {
      setErr(x as ApiError);
      setBusy(false);
    }
  };
  const cancel = () => {
    cancelled.current = true;
    setErr(null);
    setConfirm(false);
  };
  if (!confirm)
    return (
      <button type="button" ref={triggerRef} class="btn btn-small btn-danger-ghost" onClick={() => setConfirm(true)} data-testid="revoke-key">
        Revoke<span class="sr-only"> {k.name}</span>
      </button>
    );
  return (
    <span class="confirm" role="group" aria-label={`Confirm revoking ${k.name}`}>
      <span>Revoke “{k.name}”?</span>{' '}
      <button type="button" class="btn btn-small btn-danger" onClick={revoke} disabled={busy} autoFocus data-testid="confirm-revoke">
        {busy ? 'Revoking…' : 'Yes, revoke'}
      </button>{' '}
      <button type="button" class="btn btn-small btn-ghost" onClick={cancel} data-testid="cancel-revoke">
        Cancel
      </button>
      <InlineError error={err} />
    </span>
  );
}
