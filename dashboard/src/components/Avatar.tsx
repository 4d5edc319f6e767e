import { useState } from 'preact/hooks';
import { initials } from '../lib/format';

/** Profile picture, or initials when there is none or it does not load (unknown hosts offline). */
export function Avatar({ name, handle, url, size = 36 }: { name: string; handle: string; url?: string | null; size?: number }) {
  const [failed, setFailed] = useState(false);
  const style = { width: size, height: size, fontSize: Math.round(size * 0.38) };
  if (!url || failed) {
    return (
      <span class="avatar avatar-initials" style={style} aria-hidden="true" data-testid="avatar-initials">
        {initials(name, handle)}
      </span>
    );
  }
  return (
    <img
      class="avatar"
      src={url}
      alt=""
      width={size}
      height={size}
      loading="lazy"
      decoding="async"
      referrerpolicy="no-referrer"
      onError={() => setFailed(true)}
      style={style}
    />
  );
}
