import { useState } from 'preact/hooks';
import { ApiError, createCollection, deleteCollection, listCollections, updateCollection } from '../api/client';
import type { CollectionDto } from '../api/types';
import { collectionsCache } from '../components/AddToCollection';
import { ErrorState, InlineError } from '../components/ErrorState';
import { Loading, SkeletonRows } from '../components/Skeleton';
import { useAsync, useTitle } from '../hooks';
import { formatDateTime } from '../lib/format';
import { navigate } from '../router';

export function CollectionsPage() {
  useTitle('Collections');
  const res = useAsync(async (signal) => {
    const p = await listCollections(signal);
    collectionsCache.set(p.items);
    return p;
  }, []);
  const [name, setName] = useState('');
  const [desc, setDesc] = useState('');
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<ApiError | string | null>(null);

  const create = async (e: Event) => {
    e.preventDefault();
    if (!name.trim()) {
      setErr('Give the collection a name.');
      return;
    }
    setBusy(true);
    setErr(null);
    try {
      const c = await createCollection(name.trim(), desc.trim());
      setName('');
      setDesc('');
      collectionsCache.set(null);
      navigate(`/collections/${c.id}`);
    } catch (x) {
      setErr(x as ApiError);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="page" aria-labelledby="col-h">
      <div class="page-head">
        <h1 id="col-h" tabIndex={-1}>
          Collections
        </h1>
      </div>
      <form class="card create-form" onSubmit={create} aria-labelledby="new-col-h" data-testid="create-collection">
        <h2 id="new-col-h">New collection</h2>
        <div class="form-row">
          <div class="field">
            <label for="c-name">Name</label>
            <input id="c-name" value={name} maxLength={200} required onInput={(e) => setName((e.target as HTMLInputElement).value)} data-testid="collection-name" />
          </div>
          <div class="field field-wide">
            <label for="c-desc">Description (optional)</label>
            <input id="c-desc" value={desc} maxLength={1000} onInput={(e) => setDesc((e.target as HTMLInputElement).value)} />
          </div>
          <div class="field field-buttons">
            <span class="label-spacer" aria-hidden="true">&nbsp;</span>
            <button type="submit" class="btn btn-primary" disabled={busy} data-testid="collection-create">
              {busy ? 'Creating…' : 'Create'}
            </button>
          </div>
        </div>
        <InlineError error={err} />
      </form>

      {res.error && <ErrorState error={res.error} onRetry={res.reload} what="your collections" />}
      <div class="table-wrap" aria-busy={res.status === 'loading'}>
        {res.status === 'loading' && <Loading label="Loading collections" />}
        <table class="data" data-testid="collections">
          <caption class="sr-only">Your collections</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col" class="num">
                Profiles
              </th>
              <th scope="col" class="hide-sm">
                Updated
              </th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {!res.data && res.status === 'loading' && <SkeletonRows rows={3} cols={4} />}
            {res.data?.items.map((c) => <CollectionRow key={c.id} c={c} onChanged={res.reload} />)}
          </tbody>
        </table>
        {res.data && res.data.items.length === 0 && (
          <div class="empty" data-testid="empty">
            <p>
              <strong>No collections yet.</strong>
            </p>
            <p class="muted">Create one above, then add creators from Discover or a profile page.</p>
          </div>
        )}
      </div>
    </section>
  );
}

export function RenameForm({ c, onDone, onCancel }: { c: CollectionDto; onDone: (c: CollectionDto) => void; onCancel: () => void }) {
  const [name, setName] = useState(c.name);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<ApiError | string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!name.trim()) return setErr('The name cannot be empty.');
    if (name.trim() === c.name) return onCancel();
    setBusy(true);
    setErr(null);
    try {
      const u = await updateCollection(c.id, { name: name.trim() });
      collectionsCache.set(null);
      onDone(u);
    } catch (x) {
      setErr(x as ApiError);
    } finally {
      setBusy(false);
    }
  };
  const id = `rename-${c.id}`;
  return (
    <form class="inline-form" onSubmit={submit} data-testid="rename-form">
      <label for={id} class="sr-only">
        New name for {c.name}
      </label>
      <input id={id} value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} autoFocus data-testid="rename-input" />
      <button type="submit" class="btn btn-small btn-primary" disabled={busy} data-testid="rename-save">
        Save
      </button>
      <button type="button" class="btn btn-small btn-ghost" onClick={onCancel}>
        Cancel
      </button>
      <InlineError error={err} />
    </form>
  );
}

export function DeleteButton({ c, onDeleted }: { c: CollectionDto; onDeleted: () => void }) {
  const [confirm, setConfirm] = useState(false);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<ApiError | null>(null);
  const del = async () => {
    setBusy(true);
    setErr(null);
    try {
      await deleteCollection(c.id);
      collectionsCache.set(null);
      onDeleted();
    } catch (x) {
      setErr(x as ApiError);
      setBusy(false);
    }
  };
  if (!confirm)
    return (
      <button type="button" class="btn btn-small btn-danger-ghost" onClick={() => setConfirm(true)} data-testid="delete-collection">
        Delete<span class="sr-only"> {c.name}</span>
      </button>
    );
  return (
    <span class="confirm" role="group" aria-label={`Confirm deleting ${c.name}`}>
      <span>Delete “{c.name}”?</span>{' '}
      <button type="button" class="btn btn-small btn-danger" onClick={del} disabled={busy} autoFocus data-testid="confirm-delete">
        {busy ? 'Deleting…' : 'Yes, delete'}
      </button>{' '}
      <button type="button" class="btn btn-small btn-ghost" onClick={() => setConfirm(false)}>
        Cancel
      </button>
      <InlineError error={err} />
    </span>
  );
}

function CollectionRow({ c, onChanged }: { c: CollectionDto; onChanged: () => void }) {
  const [renaming, setRenaming] = useState(false);
  return (
    <tr data-testid="collection-row" data-collection-id={c.id}>
      <td>
        {renaming ? (
          <RenameForm c={c} onCancel={() => setRenaming(false)} onDone={() => { setRenaming(false); onChanged(); }} />
        ) : (
          <>
            <a href={`/collections/${c.id}`} data-testid="collection-link">
              {c.name}
            </a>
            {c.description && <div class="muted small">{c.description}</div>}
          </>
        )}
      </td>
      <td class="num">{c.item_count}</td>
      <td class="hide-sm">{formatDateTime(c.updated_at)}</td>
      <td class="actions">
        {!renaming && (
          <button type="button" class="btn btn-small btn-ghost" onClick={() => setRenaming(true)} data-testid="rename-collection">
            Rename<span class="sr-only"> {c.name}</span>
          </button>
        )}{' '}
        <DeleteButton c={c} onDeleted={onChanged} />
      </td>
    </tr>
  );
}
