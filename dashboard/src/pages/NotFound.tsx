import { useTitle } from '../hooks';

export function NotFound() {
  useTitle('Not found');
  return (
    <section class="page">
      <h1 tabIndex={-1}>Page not found</h1>
      <p>
        There is nothing at this address. Try <a href="/discover/instagram">Discover</a>.
      </p>
    </section>
  );
}
