import { online, useStore } from '../store';

export function OfflineBanner() {
  const ok = useStore(online);
  if (ok) return null;
  return (
    <div class="offline-banner" role="status" data-testid="offline-banner">
      You are offline — showing what was loaded. Actions will work again when the connection is back.
    </div>
  );
}
