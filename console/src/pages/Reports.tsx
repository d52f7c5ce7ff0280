import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Card, Group, SegmentedControl, Select, SimpleGrid, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { DatePickerInput } from '@mantine/dates';
import '@mantine/dates/styles.css';
import { useApi } from '../context';
import { data } from '../api/client';
import { formatKwh, Muted, ProblemAlert } from '../components/common';
import { Bars } from '../charts/lazy';

interface Day {
  date: string;
  energyWh: number;
  sessionCount: number;
}

/** Monday of the ISO week of a YYYY-MM-DD (UTC) day. */
export function weekOf(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
  return d.toISOString().slice(0, 10);
}

/** Days, or weeks (starting Monday), with energy in kWh and session counts. */
export function bucketDays(days: Day[], by: 'day' | 'week'): { period: string; kWh: number; sessions: number }[] {
  const out = new Map<string, { period: string; kWh: number; sessions: number }>();
  for (const d of days) {
    const period = by === 'week' ? `week of ${weekOf(d.date)}` : d.date;
    const row = out.get(period) ?? { period, kWh: 0, sessions: 0 };
    row.kWh = Math.round((row.kWh + d.energyWh / 1000) * 1000) / 1000;
    row.sessions += d.sessionCount;
    out.set(period, row);
  }
  return [...out.values()].sort((a, b) => a.period.localeCompare(b.period));
}

export interface EnergyRow {
  key: string;
  label: string;
  /** kWh per period (only the periods of the table's columns) */
  kWh: Record<string, number>;
  totalWh: number;
  sessions: number;
}

/**
 * Energy per group (a station, a location) and period: the rows, and the periods with any
 * activity as the columns, in order.
 */
export function pivot(
  groups: { key: string; label: string; days: Day[]; energyWh: number; sessionCount: number }[],
  by: 'day' | 'week',
): { periods: string[]; rows: EnergyRow[] } {
  const periods = new Set<string>();
  const rows = groups.map((g) => {
    const kWh: Record<string, number> = {};
    for (const b of bucketDays(g.days, by)) {
      kWh[b.period] = b.kWh;
      periods.add(b.period);
    }
    return { key: g.key, label: g.label, kWh, totalWh: g.energyWh, sessions: g.sessionCount };
  });
  return { periods: [...periods].sort(), rows };
}

/** The stations' energy added up per location they are at now (none: "No location"). */
export function byLocation(
  stations: { locationId?: string | null; days: Day[]; energyWh: number; sessionCount: number }[],
  names: Record<string, string>,
): { key: string; label: string; days: Day[]; energyWh: number; sessionCount: number }[] {
  const out = new Map<string, { key: string; label: string; days: Day[]; energyWh: number; sessionCount: number }>();
  for (const s of stations) {
    const key = s.locationId ?? '';
    const row = out.get(key) ?? { key, label: key ? (names[key] ?? key) : 'No location', days: [], energyWh: 0, sessionCount: 0 };
    row.days.push(...s.days);
    row.energyWh += s.energyWh;
    row.sessionCount += s.sessionCount;
    out.set(key, row);
  }
  return [...out.values()].sort((a, b) => (!a.key ? 1 : !b.key ? -1 : a.label.localeCompare(b.label)));
}

/** A duration in words: "42 s", "3 min 5 s", "2 h 4 min". */
export function formatSeconds(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

const kwh = (v: number | undefined) => (v === undefined ? '—' : v.toFixed(3));

function EnergyTable({ title, first, table, by }: { title: string; first: string; table: ReturnType<typeof pivot>; by: 'day' | 'week' }) {
  return (
    <Table.ScrollContainer minWidth={500}>
      <Table aria-label={title} striped>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{first}</Table.Th>
            {table.periods.map((p) => (
              <Table.Th key={p}>{p} (kWh)</Table.Th>
            ))}
            <Table.Th>Total (kWh)</Table.Th>
            <Table.Th>Sessions</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {table.rows.map((r) => (
            <Table.Tr key={r.key}>
              <Table.Th scope="row" fw={500}>
                {r.label}
              </Table.Th>
              {table.periods.map((p) => (
                <Table.Td key={p}>{kwh(r.kWh[p])}</Table.Td>
              ))}
              <Table.Td>{kwh(r.totalWh / 1000)}</Table.Td>
              <Table.Td>{r.sessions}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {!table.rows.length ? <Muted>No energy in this range.</Muted> : null}
      <Text size="xs" c="dimmed">
        Energy per {by}; days are UTC days{by === 'week' ? ', weeks start on Monday' : ''}.
      </Text>
    </Table.ScrollContainer>
  );
}

const isoDay = (d: Date) => d.toISOString().slice(0, 10);

export default function ReportsPage() {
  const api = useApi();
  const [range, setRange] = useState<[string | null, string | null]>(() => {
    const to = new Date();
    const from = new Date(to.getTime() - 29 * 86400000);
    return [isoDay(from), isoDay(to)];
  });
  const [by, setBy] = useState<'day' | 'week'>('day');
  const [stationId, setStationId] = useState('');
  const [locationId, setLocationId] = useState<string | null>(null);
  const locations = useQuery({
    queryKey: ['locations', 'options'],
    queryFn: async () => data(await api.GET('/api/v1/locations', { params: { query: { limit: 200 } } })),
  });
  const [fromDay, toDay] = range;
  const query = {
    ...(fromDay ? { from: `${fromDay}T00:00:00Z` } : {}),
    ...(toDay ? { to: new Date(Date.parse(`${toDay}T00:00:00Z`) + 86400000).toISOString() } : {}),
    ...(stationId ? { stationId } : {}),
    ...(locationId ? { locationId } : {}),
  };
  const energy = useQuery({
    queryKey: ['reports', 'energy', query],
    queryFn: async () => data(await api.GET('/api/v1/reports/energy', { params: { query } })),
  });
  const utilisation = useQuery({
    queryKey: ['reports', 'utilisation', query],
    queryFn: async () => data(await api.GET('/api/v1/reports/utilisation', { params: { query } })),
  });
  const rows = bucketDays(energy.data?.days ?? [], by);
  const stations = energy.data?.stations ?? [];
  const names = Object.fromEntries((locations.data?.items ?? []).map((l) => [l.id, l.name]));
  const perStation = pivot(
    stations.map((s) => ({ key: s.stationId, label: s.stationId, days: s.days, energyWh: s.energyWh, sessionCount: s.sessionCount })),
    by,
  );
  const perLocation = pivot(byLocation(stations, names), by);
  const connectors = (utilisation.data?.connectors ?? []).map((c) => ({
    connector: `${c.stationId} ${c.evseId}/${c.connectorId}`,
    chargingSeconds: c.chargingSeconds ?? 0,
    charging: Math.round(((c.chargingSeconds ?? 0) / Math.max(1, c.rangeSeconds)) * 10000) / 100,
    occupied: Math.round(((c.occupiedSeconds ?? 0) / Math.max(1, c.rangeSeconds)) * 10000) / 100,
  }));

  return (
    <Stack>
      <Title order={1}>Reports</Title>
      <Group align="flex-end">
        <DatePickerInput type="range" label="Date range (UTC days)" value={range} onChange={(v) => setRange(v as [string | null, string | null])} w={320} />
        <TextInput label="Station" placeholder="all stations" value={stationId} onChange={(e) => setStationId(e.currentTarget.value.trim())} w={160} />
        <Select
          label="Location"
          placeholder="all locations"
          clearable
          data={(locations.data?.items ?? []).map((l) => ({ value: l.id, label: l.name }))}
          value={locationId}
          onChange={setLocationId}
          w={200}
        />
        <div>
          <Text size="sm" fw={500} id="group-by">
            Group by
          </Text>
          <SegmentedControl aria-labelledby="group-by" value={by} onChange={(v) => setBy(v as 'day' | 'week')} data={[{ value: 'day', label: 'Day' }, { value: 'week', label: 'Week' }]} />
        </div>
      </Group>
      <ProblemAlert error={energy.error ?? utilisation.error} title="Could not load the report" />
      <SimpleGrid cols={{ base: 1, sm: 3 }}>
        <Card withBorder>
          <Text size="xs" c="dimmed">Energy</Text>
          <Text fw={700} size="xl">{formatKwh(energy.data?.totals.energyWh)}</Text>
        </Card>
        <Card withBorder>
          <Text size="xs" c="dimmed">Sessions</Text>
          <Text fw={700} size="xl">{energy.data?.totals.sessionCount ?? '—'}</Text>
        </Card>
        <Card withBorder>
          <Text size="xs" c="dimmed">Utilisation (charging time)</Text>
          <Text fw={700} size="xl">
            {utilisation.data?.totals.utilisation != null ? `${(utilisation.data.totals.utilisation * 100).toFixed(2)} %` : '—'}
          </Text>
        </Card>
      </SimpleGrid>
      <Card withBorder>
        <Bars title={`Energy per ${by}`} data={rows} dataKey="period" series={[{ name: 'kWh', label: 'Energy (kWh)', color: 'teal.6' }]} />
      </Card>
      <Title order={2} size="h3">
        Energy per station
      </Title>
      <EnergyTable title="Energy per station" first="Station" table={perStation} by={by} />
      <Title order={2} size="h3">
        Energy per location
      </Title>
      <EnergyTable title="Energy per location" first="Location" table={perLocation} by={by} />
      <Title order={2} size="h3">
        Utilisation
      </Title>
      <Card withBorder>
        <Bars
          title="Utilisation per connector (% of the range)"
          data={connectors}
          dataKey="connector"
          unit="%"
          series={[
            { name: 'charging', label: 'Charging', color: 'blue.6' },
            { name: 'occupied', label: 'Occupied', color: 'gray.5' },
          ]}
        />
      </Card>
      <Table aria-label="Utilisation per connector" striped>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Connector</Table.Th>
            <Table.Th>Charging time</Table.Th>
            <Table.Th>Charging (% of the range)</Table.Th>
            <Table.Th>Occupied (% of the range)</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {connectors.map((c) => (
            <Table.Tr key={c.connector}>
              <Table.Th scope="row" fw={500}>
                {c.connector}
              </Table.Th>
              <Table.Td>{formatSeconds(c.chargingSeconds)}</Table.Td>
              <Table.Td>{c.charging.toFixed(2)} %</Table.Td>
              <Table.Td>{c.occupied.toFixed(2)} %</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {utilisation.data && !connectors.length ? <Muted>No connector reported a status in this range.</Muted> : null}
    </Stack>
  );
}
