/** Rank movement between two months' leaderboards. */
export type Movement =
  | { kind: 'new' }
  | { kind: 'up'; by: number }
  | { kind: 'down'; by: number }
  | { kind: 'same' }
  | { kind: 'unknown' };

/**
 * previous: the previous month's ranks by profile id, or null when that month could not be loaded.
 * A profile absent from the previous month's list is "new" (to the list).
 */
export function rankMovement(
  profileId: number,
  rank: number,
  previous: Map<number, number> | null,
): Movement {
  if (!previous) return { kind: 'unknown' };
  const before = previous.get(profileId);
  if (before === undefined) return { kind: 'new' };
  if (before > rank) return { kind: 'up', by: before - rank };
  if (before < rank) return { kind: 'down', by: rank - before };
  return { kind: 'same' };
}

export function movementLabel(m: Movement): string {
  switch (m.kind) {
    case 'new':
      return 'new';
    case 'up':
      return `▲${m.by}`;
    case 'down':
      return `▼${m.by}`;
    case 'same':
      return '=';
    default:
      return '–';
  }
}

/** Words for screen readers: "up 3 places", "new this month". */
export function movementText(m: Movement): string {
  switch (m.kind) {
    case 'new':
      return 'new in this month’s list';
    case 'up':
      return `up ${m.by} place${m.by === 1 ? '' : 's'}`;
    case 'down':
      return `down ${m.by} place${m.by === 1 ? '' : 's'}`;
    case 'same':
      return 'same rank as last month';
    default:
      return 'no previous month to compare';
  }
}

export function ranksById(entries: Array<{ rank: number; profile: { id: number } }>): Map<number, number> {
  const m = new Map<number, number>();
  for (const e of entries) if (!m.has(e.profile.id)) m.set(e.profile.id, e.rank);
  return m;
}
