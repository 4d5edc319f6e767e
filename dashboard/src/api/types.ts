/** Types from /coffee/openapi.json, /beat/openapi.json and the identity routes. */

export type Platform = 'instagram' | 'youtube';
export const PLATFORMS: Platform[] = ['instagram', 'youtube'];
export type Granularity = 'day' | 'week' | 'month';

export interface SessionInfo {
  sid: string;
  user_id: number;
  user_name: string;
  partner_id: number;
  account_id?: number | null;
  expires_at: string;
}

export interface LoginResponse {
  token: string;
  expires_at: string;
  session: SessionInfo;
}

export interface LogoutOutcome {
  revoked: boolean;
  propagated: boolean;
}

export interface ProfileDto {
  platform: Platform;
  id: number;
  external_id: string;
  handle: string;
  name: string;
  bio: string;
  category?: string | null;
  country?: string | null;
  language?: string | null;
  followers: number;
  posts: number;
  /** percent */
  engagement_rate: number;
  avg_likes: number;
  avg_comments: number;
  avg_views: number;
  is_verified: boolean;
  picture_url?: string | null;
  /** premium: null for FREE plans */
  email?: string | null;
  phone?: string | null;
  contact?: Record<string, unknown> | null;
  audience_demographics?: Record<string, unknown> | null;
  last_scraped_at?: string | null;
  updated_at: string;
}

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  size: number;
}

/** One row of GET …/timeseries: a date and the requested metrics. */
export interface TimeseriesRow {
  date: string;
  followers?: number;
  following?: number;
  posts?: number;
  engagement_rate?: number;
  avg_likes?: number;
  avg_comments?: number;
  avg_views?: number;
  [k: string]: unknown;
}

export interface Growth {
  profile_id: number;
  first_date: string;
  last_date: string;
  followers_start: number;
  followers_end: number;
  followers_change: number;
  /** percent; null when the start was 0 */
  followers_change_pct?: number | null;
  engagement_rate_start: number;
  engagement_rate_end: number;
  engagement_rate_change: number;
}

export interface Compared {
  profile: ProfileDto;
  /** null when the profile has no data in the range */
  growth?: Growth | null;
}

export interface PlatformMonth {
  month: string;
  profiles: number;
  followers_start: number;
  followers_end: number;
  followers_change_pct?: number | null;
}

export type LeaderboardMetric = 'followers' | 'engagement_rate' | 'views' | 'follower_growth';
export const LEADERBOARD_METRICS: Array<{ value: LeaderboardMetric; label: string }> = [
  { value: 'followers', label: 'Followers' },
  { value: 'engagement_rate', label: 'Engagement rate' },
  { value: 'views', label: 'Average views' },
  { value: 'follower_growth', label: 'Follower growth' },
];

export interface LeaderboardEntry {
  rank: number;
  profile: ProfileDto;
  value: number;
  category: string;
  followers_start: number;
  followers_end: number;
  follower_growth: number;
  follower_growth_pct?: number | null;
  engagement_rate: number;
  avg_views: number;
}

export interface Leaderboard {
  platform: Platform;
  month: string;
  metric: string;
  category?: string | null;
  entries: LeaderboardEntry[];
}

export interface CollectionDto {
  id: number;
  name: string;
  description: string;
  item_count: number;
  created_by?: number | null;
  created_at: string;
  updated_at: string;
}

export interface ItemDto {
  id: number;
  platform: Platform;
  target_id: number;
  note: string;
  added_by?: number | null;
  created_at: string;
}

export interface CollectionDetail extends CollectionDto {
  items: ItemDto[];
}

export interface UsageDto {
  month: string;
  plan: string;
  profile_views: number;
  unique_profiles: number;
  searches: number;
  /** distinct profiles allowed per month; null when unlimited */
  profile_quota?: number | null;
  profiles_remaining?: number | null;
}

/** What an API key may do: read only, or read and write. */
export type ApiKeyScope = 'read' | 'read_write';
export type ApiKeyStatus = 'active' | 'expired' | 'revoked';

/** A partner API key as listed (never its secret). */
export interface ApiKeyDto {
  id: number;
  name: string;
  /** the key's client id (its requests' x-bb-client-id) */
  client_id: string;
  /** "bb_live_" and the next 4 characters, to tell keys apart */
  prefix: string;
  scope: ApiKeyScope;
  status: ApiKeyStatus;
  created_at: string;
  created_by?: number | null;
  /** reported by the gateways in batches: a few seconds behind */
  last_used_at?: string | null;
  /** null: never expires */
  expires_at?: string | null;
  revoked_at?: string | null;
  /** the key this one replaced (rotation) */
  rotated_from?: number | null;
}

/** POST /coffee/api-keys */
export interface NewApiKey {
  /** 1 to 100 characters */
  name: string;
  scope: ApiKeyScope;
  /** in the future; absent: never expires */
  expires_at?: string;
}

/** A created or rotated key: the secret is in this answer only, never again. */
export interface CreatedApiKey {
  secret: string;
  key: ApiKeyDto;
}

/** A revocation: 204 means every gateway knows (propagated), 202 that they learn within seconds. */
export interface RevocationOutcome {
  revoked: boolean;
  propagated: boolean;
}

/** beat's StoredProfile (answer of a refresh). */
export interface StoredProfile {
  id: number;
  platform: string;
  external_id: string;
  handle: string;
  name: string;
  bio: string;
  followers: number;
  following?: number | null;
  content_count: number;
  verified: boolean;
  engagement_rate: number;
  avg_likes: number;
  avg_comments: number;
  avg_views: number;
  avatar_url?: string | null;
  category?: string | null;
  country?: string | null;
  total_views?: number | null;
  last_scraped_at?: string | null;
  updated_at: string;
}

/** Known categories in the data (the API has no category list); the inputs accept any slug. */
export const CATEGORIES = [
  'beauty', 'comedy', 'education', 'fashion', 'finance', 'fitness', 'food', 'gaming', 'music', 'parenting', 'tech', 'travel',
];
export const COUNTRIES = ['AE', 'BR', 'DE', 'FR', 'GB', 'ID', 'IN', 'MX', 'NG', 'US'];

export const PREMIUM_PLANS = ['SAAS', 'PAID'];
export function isPremium(plan: string | null | undefined): boolean {
  return !!plan && PREMIUM_PLANS.includes(plan.toUpperCase());
}
