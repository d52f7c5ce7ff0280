import { useEffect, useState } from 'react';
import { Link } from 'react-router-dom';
import { Anchor, Badge, Button, Code, Group, MultiSelect, Table, Text, TextInput, Title } from '@mantine/core';
import { useApp } from '../context';
import { ProblemAlert } from '../components/common';
import type { FeedPage, LiveEvent } from '../live/client';
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

/**
 * A live batch put in front of what the page shows, newest first, leaving out what it already
 * shows: the page reads the latest events from the feed itself, and the live client (which
 * deduplicates only what it delivered) may bring an event of that read again.
 */
export function prependNew(shown: LiveEvent[], batch: LiveEvent[], limit = 200): LiveEvent[] {
  const ids = new Set(shown.map((e) => e.id));
  const fresh = batch.filter((e) => !ids.has(e.id));
  return fresh.length ? [...fresh.reverse(), ...shown].slice(0, limit) : shown;
}

/** The tenant's domain events, newest first: the latest ones of the feed, then live ones as they come. */
export default function EventsPage() {
  const { live, api } = useApp();
  const [events, setEvents] = useState<LiveEvent[]>([]);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let current = true;
    (async () => {
      const head = ((await api.GET('/api/v1/events', { params: { query: {} } })).data as FeedPage).cursor;
      const recent = (await api.GET('/api/v1/events', { params: { query: { after: Math.max(0, head - 200), limit: 200 } } })).data as FeedPage;
      if (!current) return;
      setEvents((live) => {
        const seen = new Set(live.map((e) => e.id));
        return [...live, ...recent.items.filter((e) => !seen.has(e.id)).reverse()].slice(0, 200);
      });
    })().catch((e: unknown) => current && setError(e));
    return () => {
      current = false;
    };
  }, [api]);
  const [paused, setPaused] = useState(false);
  const [types, setTypes] = useState<string[]>([]);
  const [station, setStation] = useState('');
  const [open, setOpen] = useState<string | null>(null);
  useEffect(
    () =>
      live.subscribe((batch) => {
        if (!paused) setEvents((prev) => prependNew(prev, batch));
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
        The latest events, and new ones as they happen.
      </Text>
      <ProblemAlert error={error} title="Could not read the latest events" />
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
