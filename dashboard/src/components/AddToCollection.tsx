import { useEffect, useState } from 'preact/hooks';
import { addItem, ApiError, listCollections } from '../api/client';
import type { CollectionDto, Platform } from '../api/types';
import { store, useStore } from '../store';
import { InlineError } from './ErrorState';

/** The partner's collections, shared by every picker on the page; refreshed on demand. */
export const collectionsCache = store<CollectionDto[] | null>(null);
let inflight: Promise<void> | null = null;
export function loadCollections(force = false): Promise<void> {
  if (!force && (collectionsCache.get() || inflight)) return inflight ?? Promise.resolve();
  inflight = listCollections()
    .then((p) => collectionsCache.set(p.items))
    .finally(() => (inflight = null));
  return inflight;
}

/** "Add to collection" picker for one or several profiles. */
export function AddToCollection({ platform, ids, idPrefix }: { platform: Platform; ids: number[]; idPrefix: string }) {
  const cols = useStore(collectionsCache);
  const [target, setTarget] = useState<string>('');
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState<string | null>(null);
  const [err, setErr] = useState<ApiError | string | null>(null);

  useEffect(() => {
    loadCollections().catch((e) => setErr(e as ApiError));
  }, []);
  useEffect(() => {
    if (cols && cols.length && !cols.some((c) => String(c.id) === target)) setTarget(String(cols[0].id));
  }, [cols]);

  const add = async (e: Event) => {
    e.preventDefault();
    const col = cols?.find((c) => String(c.id) === target);
    if (!col || !ids.length) return;
    setBusy(true);
    setMsg(null);
    setErr(null);
    let added = 0;
    let dup = 0;
    try {
      for (const id of ids) {
        try {
          await addItem(col.id, platform, id);
          added++;
        } catch (x) {
          if (x instanceof ApiError && x.status === 409) dup++;
          else throw x;
        }
      }
      const parts = [];
      if (added) parts.push(`Added ${added === 1 && ids.length === 1 ? 'to' : `${added} to`} “${col.name}”`);
      if (dup) parts.push(`${dup === 1 && ids.length === 1 ? 'Already' : `${dup} already`} in “${col.name}”`);
      setMsg(parts.join('; ') + '.');
      loadCollections(true).catch(() => {});
    } catch (x) {
      setErr(x as ApiError);
    } finally {
      setBusy(false);
    }
  };

  const selectId = `${idPrefix}-collection`;
  if (cols && cols.length === 0) {
    return (
      <p class="muted small">
        No collections yet — <a href="/collections">create one</a>.
      </p>
    );
  }
  return (
    <form class="add-to-collection" onSubmit={add} data-testid="add-to-collection">
      <label for={selectId}>Add to collection</label>
      <select id={selectId} value={target} onChange={(e) => setTarget((e.target as HTMLSelectElement).value)} disabled={!cols}>
        {!cols && <option value="">Loading…</option>}
        {cols?.map((c) => (
          <option key={c.id} value={String(c.id)}>
            {c.name} ({c.item_count})
          </option>
        ))}
      </select>
      <button type="submit" class="btn" disabled={busy || !cols || !ids.length} data-testid="add-to-collection-submit">
        {busy ? 'Adding…' : 'Add'}
      </button>
      <span role="status" class="small" data-testid="add-to-collection-status">
        {msg}
      </span>
      <InlineError error={err} />
    </form>
  );
}
