/** The typed API client: bearer auth, problem parsing, 401 handling, connectivity tracking. */
import { toSearchRequest, type DiscoverState } from '../lib/query';
import { online, session } from '../store';
import { ApiError, errorFromResponse, networkError } from './problem';
import type {
  ApiKeyDto,
  CollectionDetail,
  CollectionDto,
  Compared,
  CreatedApiKey,
  Granularity,
  Growth,
  ItemDto,
  Leaderboard,
  LoginResponse,
  LogoutOutcome,
  NewApiKey,
  Page,
  Platform,
  PlatformMonth,
  ProfileDto,
  RevocationOutcome,
  StoredProfile,
  TimeseriesRow,
  UsageDto,
} from './types';

export { ApiError };

type Query = Record<string, string | number | boolean | null | undefined>;

interface RequestOptions {
  query?: Query;
  body?: unknown;
  signal?: AbortSignal;
  /** for login/logout: a 401 is the caller's business, not a reason to end the session */
  noAuthRedirect?: boolean;
  token?: string | null;
}

/** Called when the API refuses the token (401): the app sends the user to /login with the reason. */
let onUnauthorized: (reason: string) => void = () => {};
export function setUnauthorizedHandler(fn: (reason: string) => void): void {
  onUnauthorized = fn;
}

export function buildUrl(path: string, query?: Query): string {
  if (!query) return path;
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v != null && v !== '') p.set(k, String(v));
  const qs = p.toString();
  return qs ? `${path}?${qs}` : path;
}

export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json, application/problem+json' };
  const token = opts.token !== undefined ? opts.token : session.get()?.token;
  if (token) headers.authorization = `Bearer ${token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(buildUrl(path, opts.query), {
      method,
      headers,
      body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
      signal: opts.signal,
      credentials: 'omit',
    });
  } catch (e) {
    const err = networkError(e);
    if (err.kind === 'network') online.set(false);
    throw err;
  }
  if (typeof navigator === 'undefined' || navigator.onLine) online.set(true);
  if (!res.ok) {
    const err = await errorFromResponse(res);
    if (err.status === 401 && !opts.noAuthRedirect) onUnauthorized(err.detail);
    throw err;
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

// ---- identity ----
export const login = (email: string, password: string) =>
  request<LoginResponse>('POST', '/identity/login', { body: { email, password }, noAuthRedirect: true, token: null });

/** 204 (undefined) or 202 {revoked, propagated}. Sends only the Authorization header. */
export const logout = (token: string) =>
  request<LogoutOutcome | undefined>('POST', '/identity/logout', { noAuthRedirect: true, token });

// ---- profiles ----
export const searchProfiles = (platform: Platform, s: DiscoverState, signal?: AbortSignal) =>
  request<Page<ProfileDto>>('POST', `/coffee/profiles/${platform}/search`, { body: toSearchRequest(s), signal });

export const getProfile = (platform: Platform, id: number, signal?: AbortSignal) =>
  request<ProfileDto>('GET', `/coffee/profiles/${platform}/${id}`, { signal });

export const getProfileByHandle = (platform: Platform, handle: string, signal?: AbortSignal) =>
  request<ProfileDto>('GET', `/coffee/profiles/${platform}/byhandle/${encodeURIComponent(handle)}`, { signal });

// ---- analytics ----
export const getTimeseries = (
  platform: Platform,
  id: number,
  q: { from: string; to: string; granularity: Granularity; metrics?: string },
  signal?: AbortSignal,
) => request<TimeseriesRow[]>('GET', `/coffee/analytics/${platform}/${id}/timeseries`, { query: q, signal });

export const getGrowth = (platform: Platform, id: number, q: { from: string; to: string }, signal?: AbortSignal) =>
  request<Growth>('GET', `/coffee/analytics/${platform}/${id}/growth`, { query: q, signal });

export const compareProfiles = (
  platform: Platform,
  ids: number[],
  q: { from: string; to: string },
  signal?: AbortSignal,
) => request<Compared[]>('GET', `/coffee/analytics/${platform}/compare`, { query: { ids: ids.join(','), ...q }, signal });

export const getMonthlyGrowth = (platform: Platform, q: { from: string; to: string }, signal?: AbortSignal) =>
  request<PlatformMonth[]>('GET', `/coffee/analytics/${platform}/monthly-growth`, { query: q, signal });

// ---- leaderboards ----
export const getLeaderboard = (
  platform: Platform,
  q: { month: string; metric?: string; category?: string; limit?: number },
  signal?: AbortSignal,
) => request<Leaderboard>('GET', `/coffee/leaderboard/${platform}`, { query: q, signal });

// ---- collections ----
export const listCollections = (signal?: AbortSignal) =>
  request<Page<CollectionDto>>('GET', '/coffee/collections', { query: { page: 1, size: 100 }, signal });
export const getCollection = (id: number, signal?: AbortSignal) =>
  request<CollectionDetail>('GET', `/coffee/collections/${id}`, { signal });
export const createCollection = (name: string, description = '') =>
  request<CollectionDto>('POST', '/coffee/collections', { body: { name, description } });
export const updateCollection = (id: number, patch: { name?: string; description?: string }) =>
  request<CollectionDto>('PATCH', `/coffee/collections/${id}`, { body: patch });
export const deleteCollection = (id: number) => request<void>('DELETE', `/coffee/collections/${id}`);
export const addItem = (id: number, platform: Platform, targetId: number, note = '') =>
  request<ItemDto>('POST', `/coffee/collections/${id}/items`, { body: { platform, target_id: targetId, note } });
export const removeItem = (id: number, itemId: number) =>
  request<void>('DELETE', `/coffee/collections/${id}/items/${itemId}`);

// ---- API keys (managed with a person's session; a key cannot manage keys) ----
export const listApiKeys = (signal?: AbortSignal) => request<ApiKeyDto[]>('GET', '/coffee/api-keys', { signal });
/** 201 with the secret, shown this once. */
export const createApiKey = (body: NewApiKey) => request<CreatedApiKey>('POST', '/coffee/api-keys', { body });
/** A replacement with the same name, scope and expiry; the old key keeps working until revoked. */
export const rotateApiKey = (id: number) => request<CreatedApiKey>('POST', `/coffee/api-keys/${id}/rotate`);
/** 204 (no body: every gateway knows at once) or 202 {revoked, propagated: false} (they learn within seconds). */
export const revokeApiKey = async (id: number): Promise<RevocationOutcome> =>
  (await request<RevocationOutcome | undefined>('DELETE', `/coffee/api-keys/${id}`)) ?? { revoked: true, propagated: true };

// ---- usage ----
export const getUsage = (signal?: AbortSignal) => request<UsageDto>('GET', '/coffee/usage', { signal });

// ---- beat: refresh now ----
export const refreshProfile = (platform: Platform, handle: string) =>
  request<StoredProfile>('GET', `/beat/profiles/${platform}/byhandle/${encodeURIComponent(handle)}`, {
    query: { full_refresh: true, force_refresh: true },
  });
