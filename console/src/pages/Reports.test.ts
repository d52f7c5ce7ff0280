import { describe, expect, it } from 'vitest';
import { bucketDays, weekOf } from './Reports';

describe('reports', () => {
  it('groups days into ISO weeks starting on Monday', () => {
    expect(weekOf('2026-12-06')).toBe('2026-11-30'); // a Sunday
    expect(weekOf('2026-12-07')).toBe('2026-12-07'); // a Monday
    expect(
      bucketDays(
        [
          { date: '2026-12-06', energyWh: 1500, sessionCount: 1 },
          { date: '2026-12-07', energyWh: 2000, sessionCount: 2 },
          { date: '2026-12-08', energyWh: 500, sessionCount: 1 },
        ],
        'week',
      ),
    ).toEqual([
      { period: 'week of 2026-11-30', kWh: 1.5, sessions: 1 },
      { period: 'week of 2026-12-07', kWh: 2.5, sessions: 3 },
    ]);
  });
});
