import { describe, expect, it } from 'vitest';
import { render, screen, within } from '@testing-library/react';
import { MantineProvider } from '@mantine/core';
import { MeterChart, ScheduleChart, Bars } from './Charts';
import { meterRows, meterSummary, scheduleRows } from './series';
import { meter } from '../test/fixtures';

const wrap = (ui: React.ReactElement) => render(<MantineProvider env="test">{ui}</MantineProvider>);

describe('chart data', () => {
  it('turns meter series into rows per instant, in kW and kWh', () => {
    const rows = meterRows(meter.series, { 'Power.Active.Import': 'Power (kW)', 'Energy.Active.Import.Register': 'Energy (kWh)' });
    expect(rows).toEqual([
      { time: Date.parse('2026-01-01T00:00:00Z'), 'Power (kW)': 7, 'Energy (kWh)': 0 },
      { time: Date.parse('2026-01-01T00:01:00Z'), 'Power (kW)': 7.2, 'Energy (kWh)': 0.12 },
    ]);
  });

  it('sums the phases when a frame has no total, and prefers the total when it has one', () => {
    const phase = (p: string, v: number) => ({ measurand: 'Power.Active.Import', phase: p, unit: 'W', points: [{ timestamp: '2026-01-01T00:00:00Z', numericValue: v }] });
    expect(meterRows([phase('L1', 1000), phase('L2', 1000), phase('L3', 1500)], { 'Power.Active.Import': 'kW' })[0].kW).toBe(3.5);
    const total = { ...phase('L1', 0), phase: null, points: [{ timestamp: '2026-01-01T00:00:00Z', numericValue: 9000 }] };
    expect(meterRows([phase('L1', 1000), total], { 'Power.Active.Import': 'kW' })[0].kW).toBe(9);
  });

  it('says in words what a meter chart draws: readings, span, latest and range per line', () => {
    const rows = meterRows(meter.series, { 'Power.Active.Import': 'Power (kW)', 'Energy.Active.Import.Register': 'Energy (kWh)' });
    const hhmm = (t: number) => new Date(t).toISOString().slice(11, 16);
    expect(meterSummary(rows, ['Power (kW)', 'Energy (kWh)', 'SoC (%)'], hhmm)).toBe(
      'Power (kW): 2 readings from 00:00 to 00:01; latest 7.2, lowest 7, highest 7.2. ' +
        'Energy (kWh): 2 readings from 00:00 to 00:01; latest 0.12, lowest 0, highest 0.12. ' +
        'SoC (%): no readings.',
    );
    expect(meterSummary(rows.slice(0, 1), ['Power (kW)'], hhmm)).toBe('Power (kW): 1 reading at 00:00; latest 7, lowest 7, highest 7.');
  });

  it('draws a schedule as steps up to its duration', () => {
    expect(scheduleRows([{ startPeriod: 3600, limit: 10 }, { startPeriod: 0, limit: 32 }], 7200)).toEqual([
      { second: 0, limit: 32 },
      { second: 3600, limit: 10 },
      { second: 7200, limit: 10 },
    ]);
  });
});

describe('charts render from data', () => {
  it('draws the meter chart, or says there is nothing yet', () => {
    const { unmount } = wrap(<MeterChart title="Power" series={meter.series} columns={{ 'Power.Active.Import': 'Power (kW)' }} />);
    const figure = screen.getByRole('figure', { name: 'Power' });
    expect(within(figure).getByTestId('meter-chart')).toBeInTheDocument();
    // The drawing is hidden from assistive technology; its summary in words stands for it.
    expect(within(figure).getByTestId('meter-chart')).toHaveAttribute('aria-hidden', 'true');
    expect(figure).toHaveTextContent(/Power \(kW\): 2 readings from .* latest 7\.2, lowest 7, highest 7\.2\./);
    expect(within(figure).queryByText('No values.')).not.toBeInTheDocument();
    unmount();
    wrap(<MeterChart title="Power" series={[]} columns={{ 'Power.Active.Import': 'Power (kW)' }} />);
    expect(screen.getByText('No values.')).toBeInTheDocument();
  });

  it('draws a schedule with its periods readable as a table', () => {
    wrap(<ScheduleChart title="Profile preview" periods={[{ startPeriod: 0, limit: 16 }, { startPeriod: 1800, limit: 8 }]} unit="A" />);
    expect(screen.getByTestId('schedule-chart')).toBeInTheDocument();
    const table = screen.getByRole('table', { name: 'Profile preview periods' });
    expect(within(table).getAllByRole('row').map((r) => r.textContent)).toEqual(['Start (s)Limit (A)', '016', '18008']);
  });

  it('draws bars, with their values readable as a table', () => {
    wrap(<Bars title="Energy per day" data={[{ period: '2026-01-01', kWh: 3 }, { period: '2026-01-02', kWh: 4.5 }]} dataKey="period" series={[{ name: 'kWh', label: 'Energy (kWh)', color: 'teal.6' }]} />);
    expect(screen.getByTestId('bar-chart')).toHaveAttribute('aria-hidden', 'true');
    const table = screen.getByRole('table', { name: 'Energy per day: values' });
    expect(within(table).getAllByRole('row').map((r) => r.textContent)).toEqual(['periodEnergy (kWh)', '2026-01-013', '2026-01-024.5']);
  });
});
