/** Meter series (MeterSeriesOut) and schedules as rows a chart draws. */
export interface MeterPoint {
  timestamp?: string;
  numericValue?: number | null;
  value?: string;
  avg?: number | null;
  last?: number | null;
  bucketStart?: string;
}
export interface MeterSeries {
  measurand: string;
  phase: string | null;
  unit: string;
  location?: string;
  points: MeterPoint[];
}

export interface ChartRow {
  time: number;
  [key: string]: number;
}

const SCALE: Record<string, { to: string; factor: number }> = {
  W: { to: 'kW', factor: 0.001 },
  kW: { to: 'kW', factor: 1 },
  Wh: { to: 'kWh', factor: 0.001 },
  kWh: { to: 'kWh', factor: 1 },
  Percent: { to: '%', factor: 1 },
};

/**
 * Power in kW, energy in kWh: a station that names no unit gets OCPP's default, which for
 * power readings is taken as W (2.0.1 defaults every unit to Wh).
 */
function scaleOf(measurand: string, unit: string): { factor: number } {
  if (unit === 'kW' || unit === 'kWh' || unit === 'kvarh' || unit === 'kvar') return { factor: 1 };
  if (measurand.startsWith('Power.') || measurand.startsWith('Energy.')) return { factor: 0.001 };
  return SCALE[unit] ?? { factor: 1 };
}

function pointValue(p: MeterPoint, register: boolean): number | null {
  if (typeof p.numericValue === 'number') return p.numericValue;
  if (register && typeof p.last === 'number') return p.last;
  if (typeof p.avg === 'number') return p.avg;
  if (typeof p.last === 'number') return p.last;
  const n = Number(p.value);
  return p.value !== undefined && Number.isFinite(n) ? n : null;
}

function pointTime(p: MeterPoint): number {
  return Date.parse(p.timestamp ?? p.bucketStart ?? '');
}

/**
 * One row per instant with a column per measurand (kW, kWh, %): the series without a phase
 * when there is one, else the phases summed.
 */
export function meterRows(series: MeterSeries[], columns: Record<string, string>): ChartRow[] {
  const rows = new Map<number, ChartRow>();
  for (const [measurand, column] of Object.entries(columns)) {
    const candidates = series.filter((s) => s.measurand === measurand);
    const whole = candidates.filter((s) => !s.phase);
    const chosen = whole.length ? whole.slice(0, 1) : candidates.filter((s) => /^L[123](-N)?$/.test(s.phase ?? ''));
    for (const s of chosen) {
      const scale = scaleOf(measurand, s.unit);
      for (const p of s.points) {
        const v = pointValue(p, measurand.startsWith('Energy'));
        const t = pointTime(p);
        if (v === null || Number.isNaN(t)) continue;
        const row = rows.get(t) ?? { time: t };
        row[column] = Math.round(((row[column] ?? 0) + v * scale.factor) * 1000) / 1000;
        rows.set(t, row);
      }
    }
  }
  return [...rows.values()].sort((a, b) => a.time - b.time);
}

export interface SchedulePeriod {
  startPeriod: number;
  limit: number;
}

/** A step series of a schedule's periods: one point per period start and one at its end. */
export function scheduleRows(periods: SchedulePeriod[], durationSeconds?: number | null): { second: number; limit: number }[] {
  const sorted = [...periods].sort((a, b) => a.startPeriod - b.startPeriod);
  if (!sorted.length) return [];
  const rows = sorted.map((p) => ({ second: p.startPeriod, limit: p.limit }));
  const last = sorted[sorted.length - 1];
  const end = durationSeconds && durationSeconds > last.startPeriod ? durationSeconds : last.startPeriod + 3600;
  rows.push({ second: end, limit: last.limit });
  return rows;
}

/**
 * A chart's text alternative (WCAG 1.1.1): per column, how many readings over which span, the
 * latest and the range, e.g. "Power (kW): 42 readings from 10:00:01 to 10:00:43; latest 11,
 * lowest 7.2, highest 11." A live chart gains a reading a second, so a table of every reading
 * would be too long to listen to.
 */
export function meterSummary(rows: ChartRow[], labels: string[], time: (t: number) => string): string {
  return labels
    .map((label) => {
      const points = rows.filter((r) => typeof r[label] === 'number');
      if (!points.length) return `${label}: no readings.`;
      const values = points.map((r) => r[label]);
      const first = points[0].time;
      const last = points[points.length - 1].time;
      const span = points.length === 1 ? `1 reading at ${time(first)}` : `${points.length} readings from ${time(first)} to ${time(last)}`;
      return `${label}: ${span}; latest ${values[values.length - 1]}, lowest ${Math.min(...values)}, highest ${Math.max(...values)}.`;
    })
    .join(' ');
}
