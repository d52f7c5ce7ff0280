import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Card, Group, SegmentedControl, Select, SimpleGrid, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { DatePickerInput } from '@mantine/dates';
import '@mantine/dates/styles.css';
import { useApi } from '../context';
import { data } from '../api/client';
import { formatEnergy, Muted, ProblemAlert } from '../components/common';
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
  const connectors = (utilisation.data?.connectors ?? []).map((c) => ({
    connector: `${c.stationId} ${c.evseId}/${c.connectorId}`,
    charging: Math.round(((c.chargingSeconds ?? 0) / Math.max(1, c.rangeSeconds)) * 1000) / 10,
    occupied: Math.round(((c.occupiedSeconds ?? 0) / Math.max(1, c.rangeSeconds)) * 1000) / 10,
  }));

  return (
    <Stack>
      <Title order={1}>Reports</Title>
      <Group align="flex-end">
        <DatePickerInput type="range" label="Date range (UTC days)" value={range} onChange={(v) => setRange(v as [string | null, string | null])} w={260} />
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
          <Text fw={700} size="xl">{formatEnergy(energy.data?.totals.energyWh)}</Text>
        </Card>
        <Card withBorder>
          <Text size="xs" c="dimmed">Sessions</Text>
          <Text fw={700} size="xl">{energy.data?.totals.sessionCount ?? '—'}</Text>
        </Card>
        <Card withBorder>
          <Text size="xs" c="dimmed">Utilisation (charging time)</Text>
          <Text fw={700} size="xl">
            {utilisation.data?.totals.utilisation != null ? `${(utilisation.data.totals.utilisation * 100).toFixed(1)} %` : '—'}
          </Text>
        </Card>
      </SimpleGrid>
      <Card withBorder>
        <Bars title={`Energy per ${by}`} data={rows} dataKey="period" series={[{ name: 'kWh', label: 'Energy (kWh)', color: 'teal.6' }]} />
      </Card>
      <Title order={2} size="h3">
        Energy per station
      </Title>
      <Table aria-label="Energy per station" striped>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Station</Table.Th>
            <Table.Th>Location</Table.Th>
            <Table.Th>Energy</Table.Th>
            <Table.Th>Sessions</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {(energy.data?.stations ?? []).map((s) => (
            <Table.Tr key={s.stationId}>
              <Table.Td>{s.stationId}</Table.Td>
              <Table.Td>{s.locationId ?? '—'}</Table.Td>
              <Table.Td>{formatEnergy(s.energyWh)}</Table.Td>
              <Table.Td>{s.sessionCount}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {energy.data && !energy.data.stations.length ? <Muted>No energy in this range.</Muted> : null}
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
    </Stack>
  );
}
