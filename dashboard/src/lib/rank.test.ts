import { describe, expect, it } from 'vitest';
import { movementLabel, movementText, rankMovement, ranksById } from './rank';

const prev = ranksById([
  { rank: 1, profile: { id: 14 } },
  { rank: 2, profile: { id: 65 } },
  { rank: 5, profile: { id: 7 } },
]);

describe('rankMovement', () => {
  it('moves up when the rank number shrinks', () => {
    const m = rankMovement(7, 2, prev);
    expect(m).toEqual({ kind: 'up', by: 3 });
    expect(movementLabel(m)).toBe('▲3');
    expect(movementText(m)).toBe('up 3 places');
  });
  it('moves down when the rank number grows', () => {
    const m = rankMovement(14, 3, prev);
    expect(m).toEqual({ kind: 'down', by: 2 });
    expect(movementLabel(m)).toBe('▼2');
    expect(movementText(rankMovement(65, 3, prev))).toBe('down 1 place');
  });
  it('is new when absent from the previous month', () => {
    const m = rankMovement(999, 1, prev);
    expect(m).toEqual({ kind: 'new' });
    expect(movementLabel(m)).toBe('new');
  });
  it('is the same when unchanged', () => {
    expect(rankMovement(65, 2, prev)).toEqual({ kind: 'same' });
    expect(movementLabel({ kind: 'same' })).toBe('=');
  });
  it('is unknown without a previous month', () => {
    expect(rankMovement(14, 1, null)).toEqual({ kind: 'unknown' });
    expect(movementLabel({ kind: 'unknown' })).toBe('–');
  });
  it('keeps the first rank of a duplicated profile', () => {
    const m = ranksById([
      { rank: 1, profile: { id: 1 } },
      { rank: 4, profile: { id: 1 } },
    ]);
    expect(m.get(1)).toBe(1);
  });
});
