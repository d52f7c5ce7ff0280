import { describe, expect, it } from 'vitest';
import { bucketDays, byLocation, formatSeconds, pivot, weekOf } from './Reports';

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

describe('energy tables', () => {
  const days = (...d: [string, number, number][]) => d.map(([date, energyWh, sessionCount]) => ({ date, energyWh, sessionCount }));

  it('puts each station on a row and each day (or week) with activity in a column', () => {
    const table = pivot(
      [
        { key: 'CP-1', label: 'CP-1', days: days(['2026-12-06', 1500, 1], ['2026-12-07', 250, 1]), energyWh: 1750, sessionCount: 2 },
        { key: 'CP-2', label: 'CP-2', days: days(['2026-12-08', 42, 1]), energyWh: 42, sessionCount: 1 },
      ],
      'day',
    );
    expect(table.periods).toEqual(['2026-12-06', '2026-12-07', '2026-12-08']);
    expect(table.rows[0]).toMatchObject({ key: 'CP-1', kWh: { '2026-12-06': 1.5, '2026-12-07': 0.25 }, totalWh: 1750, sessions: 2 });
    expect(table.rows[1].kWh).toEqual({ '2026-12-08': 0.042 });
    expect(pivot([{ key: 'CP-1', label: 'CP-1', days: days(['2026-12-06', 1500, 1], ['2026-12-07', 250, 1]), energyWh: 1750, sessionCount: 2 }], 'week').periods).toEqual([
      'week of 2026-11-30',
      'week of 2026-12-07',
    ]);
  });

  it('adds the stations up per location, named, those at none last', () => {
    const groups = byLocation(
      [
        { locationId: 'north', days: days(['2026-12-07', 100, 1]), energyWh: 100, sessionCount: 1 },
        { locationId: null, days: days(['2026-12-07', 5, 1]), energyWh: 5, sessionCount: 1 },
        { locationId: 'north', days: days(['2026-12-07', 20, 2]), energyWh: 20, sessionCount: 2 },
        { locationId: 'airport', days: days(['2026-12-06', 7, 1]), energyWh: 7, sessionCount: 1 },
      ],
      { north: 'North car park', airport: 'Airport' },
    );
    expect(groups.map((g) => [g.label, g.energyWh, g.sessionCount])).toEqual([
      ['Airport', 7, 1],
      ['North car park', 120, 3],
      ['No location', 5, 1],
    ]);
    expect(pivot(groups, 'day').rows[1].kWh).toEqual({ '2026-12-07': 0.12 });
  });

  it('says a duration in words', () => {
    expect(formatSeconds(41.6)).toBe('42 s');
    expect(formatSeconds(185)).toBe('3 min 5 s');
    expect(formatSeconds(7440)).toBe('2 h 4 min');
  });
});
