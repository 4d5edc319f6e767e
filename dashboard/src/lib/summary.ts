/** Client-side metrics of a collection of profiles (the API has no summary for profile collections). */
export interface ProfileLike {
  platform: string;
  followers: number;
  engagement_rate: number;
  avg_likes: number;
  avg_views: number;
  category?: string | null;
  is_verified?: boolean;
}

export interface CollectionSummary {
  profiles: number;
  totalFollowers: number;
  medianFollowers: number | null;
  /** followers-weighted engagement rate, percent */
  weightedEngagement: number | null;
  /** simple mean engagement rate, percent */
  meanEngagement: number | null;
  totalAvgViews: number;
  byPlatform: Record<string, number>;
  topCategories: Array<[string, number]>;
  verified: number;
}

export function median(xs: number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function summarize(profiles: ProfileLike[]): CollectionSummary {
  const byPlatform: Record<string, number> = {};
  const cats = new Map<string, number>();
  let totalFollowers = 0;
  let weighted = 0;
  let erSum = 0;
  let views = 0;
  let verified = 0;
  for (const p of profiles) {
    byPlatform[p.platform] = (byPlatform[p.platform] ?? 0) + 1;
    if (p.category) cats.set(p.category, (cats.get(p.category) ?? 0) + 1);
    totalFollowers += p.followers;
    weighted += p.engagement_rate * p.followers;
    erSum += p.engagement_rate;
    views += p.avg_views;
    if (p.is_verified) verified++;
  }
  return {
    profiles: profiles.length,
    totalFollowers,
    medianFollowers: median(profiles.map((p) => p.followers)),
    weightedEngagement: totalFollowers > 0 ? weighted / totalFollowers : null,
    meanEngagement: profiles.length ? erSum / profiles.length : null,
    totalAvgViews: views,
    byPlatform,
    topCategories: [...cats.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 3),
    verified,
  };
}

/** Splits ids into chunks (the compare endpoint takes at most 10). */
export function chunk<T>(xs: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}
