import { useEffect, useState } from 'react';
import { Link } from 'react-router-dom';
import { Anchor, Badge, Button, Code, Group, MultiSelect, Table, Text, TextInput, Title } from '@mantine/core';
import { useApp } from '../context';
import type { LiveEvent } from '../live/client';
import { formatTime, Muted } from '../components/common';

const TYPES = [
  'AllocationChanged', 'ChargerBooted', 'ChargerConnected', 'ChargerDisconnected', 'ChargerWentOffline', 'ChargingLimitChanged',
  'CommandFinished', 'ConnectorStatusChanged', 'DeviceEventsReported', 'MeterValuesReceived', 'ReservationStateChanged',
  'SecurityEventReceived', 'TransactionFlagged', 'TransactionStarted', 'TransactionStopCorrected', 'TransactionStopped',
  'UnknownTransactionStopRecorded',
];

/** A line of words for an event (the rest is in its data). */
export function summary(e: LiveEvent): string {
  const d = e.data as Record<string, unknown>;
  switch (e.type) {
    case 'ConnectorStatusChanged':
      return `EVSE ${String(d.evseId)} connector ${String(d.connectorId)}: ${String(d.status)}`;
    case 'CommandFinished':
      return `${String(d.name)} ${String(d.status)}${d.reason ? `: ${String(d.reason)}` : ''}`;
    case 'TransactionStarted':
    case 'TransactionStopped':
      return `transaction ${String(d.transactionId)}${d.evseId != null ? ` on EVSE ${String(d.evseId)}` : ''}`;
    case 'MeterValuesReceived':
      return `${Array.isArray(d.samples) ? d.samples.length : 0} samples on EVSE ${String(d.evseId)}`;
    default:
      return '';
  }
}

/** The live feed of the tenant's domain events, newest first (the last 200 since the page opened). */
export default function EventsPage() {
  const { live } = useApp();
  const [events, setEvents] = useState<LiveEvent[]>([]);
  const [paused, setPaused] = useState(false);
  const [types, setTypes] = useState<string[]>([]);
  const [station, setStation] = useState('');
  const [open, setOpen] = useState<string | null>(null);
  useEffect(
    () =>
      live.subscribe((batch) => {
        if (!paused) setEvents((prev) => [...[...batch].reverse(), ...prev].slice(0, 200));
      }),
    [live, paused],
  );
  const shown = events.filter((e) => (!types.length || types.includes(e.type)) && (!station || (e.stationId ?? '').startsWith(station)));
  return (
    <>
      <Title order={1} mb="md">
        Live events
      </Title>
      <Group align="flex-end" mb="md">
        <MultiSelect label="Event types" placeholder="all types" data={TYPES} value={types} onChange={setTypes} clearable searchable w={360} />
        <TextInput label="Station filter" placeholder="station id starts with…" value={station} onChange={(e) => setStation(e.currentTarget.value)} />
        <Button variant="default" onClick={() => setPaused((p) => !p)}>
          {paused ? 'Resume' : 'Pause'}
        </Button>
        <Button variant="subtle" onClick={() => setEvents([])}>
          Clear
        </Button>
      </Group>
      <Text size="sm" c="dimmed" mb="xs">
        Events arrive as they happen (since this page opened).
      </Text>
      <Table aria-label="Live events" striped>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>When</Table.Th>
            <Table.Th>Type</Table.Th>
            <Table.Th>Station</Table.Th>
            <Table.Th>What</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {shown.map((e) => (
            <Table.Tr key={e.id} onClick={() => setOpen(open === e.id ? null : e.id)} style={{ cursor: 'pointer' }}>
              <Table.Td>{formatTime(e.occurredAt)}</Table.Td>
              <Table.Td>
                <Badge variant="light">{e.type}</Badge>
              </Table.Td>
              <Table.Td>
                {e.stationId ? (
                  <Anchor component={Link} to={`/stations/${encodeURIComponent(e.stationId)}`}>
                    {e.stationId}
                  </Anchor>
                ) : (
                  '—'
                )}
              </Table.Td>
              <Table.Td>
                {summary(e)}
                {open === e.id ? (
                  <Code block mt={4}>
                    {JSON.stringify(e.data, null, 2)}
                  </Code>
                ) : null}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {!shown.length ? <Muted>Waiting for events…</Muted> : null}
    </>
  );
}
