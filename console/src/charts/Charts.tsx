/** Charts (Recharts through @mantine/charts), loaded only by the pages that draw them. */
import { BarChart, LineChart } from '@mantine/charts';
import '@mantine/charts/styles.css';
import { Text, VisuallyHidden } from '@mantine/core';
import { meterRows, meterSummary, scheduleRows, type MeterSeries, type SchedulePeriod } from './series';

const timeLabel = (t: number) => new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });

export interface MeterChartProps {
  title: string;
  series: MeterSeries[];
  /** measurand → column label, e.g. {'Power.Active.Import': 'Power (kW)'} */
  columns: Record<string, string>;
  colors?: string[];
}

/** A line per measurand over time; says so in words when there is nothing to draw. */
export function MeterChart({ title, series, columns, colors = ['blue.6', 'teal.6', 'orange.6'] }: MeterChartProps) {
  const rows = meterRows(series, columns);
  const labels = Object.values(columns).filter((c) => rows.some((r) => c in r));
  return (
    <figure aria-label={title} style={{ margin: 0 }}>
      <Text component="figcaption" fw={600} size="sm" mb={4}>
        {title}
      </Text>
      {rows.length && labels.length ? (
        <>
          {/* The drawing's text alternative (WCAG 1.1.1); the drawing itself is hidden from it. */}
          <VisuallyHidden component="p">{meterSummary(rows, labels, (t) => new Date(t).toLocaleString())}</VisuallyHidden>
          <LineChart
            aria-hidden
            h={220}
            data={rows}
            dataKey="time"
            series={labels.map((name, i) => ({ name, color: colors[i % colors.length], yAxisId: i === 0 ? 'left' : 'right' }))}
            withRightYAxis={labels.length > 1}
            curveType="linear"
            withDots={rows.length < 40}
            connectNulls
            xAxisProps={{ tickFormatter: timeLabel, type: 'number', domain: ['dataMin', 'dataMax'], scale: 'time' }}
            tooltipProps={{ labelFormatter: (t: number) => new Date(t).toLocaleString() }}
            withLegend
            data-testid="meter-chart"
          />
        </>
      ) : (
        <Text size="sm" c="dimmed">
          No values.
        </Text>
      )}
    </figure>
  );
}

export interface ScheduleChartProps {
  title: string;
  periods: SchedulePeriod[];
  unit: string;
  durationSeconds?: number | null;
  start?: string | null;
}

/** A charging schedule as a step line: the limit from each period's start. */
export function ScheduleChart({ title, periods, unit, durationSeconds, start }: ScheduleChartProps) {
  const rows = scheduleRows(periods, durationSeconds);
  const origin = start ? Date.parse(start) : NaN;
  const fmt = (s: number) =>
    Number.isNaN(origin)
      ? `${Math.floor(s / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}`
      : new Date(origin + s * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return (
    <figure aria-label={title} style={{ margin: 0 }}>
      <Text component="figcaption" fw={600} size="sm" mb={4}>
        {title}
      </Text>
      {rows.length ? (
        <LineChart
          aria-hidden
          h={220}
          data={rows}
          dataKey="second"
          series={[{ name: 'limit', label: `Limit (${unit})`, color: 'violet.6' }]}
          curveType="stepAfter"
          xAxisProps={{ tickFormatter: fmt, type: 'number', domain: ['dataMin', 'dataMax'] }}
          tooltipProps={{ labelFormatter: (s: number) => fmt(s) }}
          unit={` ${unit}`}
          data-testid="schedule-chart"
        />
      ) : (
        <Text size="sm" c="dimmed">
          No periods.
        </Text>
      )}
      <VisuallyHidden component="table" aria-label={`${title} periods`}>
        <thead>
          <tr>
            <th>Start (s)</th>
            <th>Limit ({unit})</th>
          </tr>
        </thead>
        <tbody>
          {periods.map((p) => (
            <tr key={p.startPeriod}>
              <td>{p.startPeriod}</td>
              <td>{p.limit}</td>
            </tr>
          ))}
        </tbody>
      </VisuallyHidden>
    </figure>
  );
}

export interface BarsProps {
  title: string;
  data: Record<string, string | number>[];
  dataKey: string;
  series: { name: string; label?: string; color: string }[];
  unit?: string;
}

export function Bars({ title, data, dataKey, series, unit }: BarsProps) {
  return (
    <figure aria-label={title} style={{ margin: 0 }}>
      <Text component="figcaption" fw={600} size="sm" mb={4}>
        {title}
      </Text>
      {data.length ? (
        <>
          <BarChart aria-hidden h={240} data={data} dataKey={dataKey} series={series} unit={unit} withLegend data-testid="bar-chart" />
          {/* The bars' text alternative (WCAG 1.1.1): their values as a table. */}
          <VisuallyHidden component="table" aria-label={`${title}: values`}>
            <thead>
              <tr>
                <th>{dataKey}</th>
                {series.map((s) => (
                  <th key={s.name}>{s.label ?? s.name}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {data.map((row) => (
                <tr key={String(row[dataKey])}>
                  <th scope="row">{row[dataKey]}</th>
                  {series.map((s) => (
                    <td key={s.name}>
                      {row[s.name] ?? '—'}
                      {unit && row[s.name] !== undefined ? ` ${unit.trim()}` : ''}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </VisuallyHidden>
        </>
      ) : (
        <Text size="sm" c="dimmed">
          Nothing in this range.
        </Text>
      )}
    </figure>
  );
}

export default { MeterChart, ScheduleChart, Bars };
