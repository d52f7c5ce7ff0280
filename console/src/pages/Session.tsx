import { Link, useParams } from 'react-router-dom';
import { useQuery } from '@tanstack/react-query';
import { Anchor, Badge, Card, Group, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { useApi } from '../context';
import { data } from '../api/client';
import { formatEnergy, formatTime, Loading, ProblemAlert } from '../components/common';
import { TransactionCharts } from './Station';

function duration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return `${h} h ${String(m).padStart(2, '0')} min`;
}

export default function SessionPage() {
  const { ref = '' } = useParams();
  const api = useApi();
  const id = Number(ref);
  const tx = useQuery({
    queryKey: ['transaction', id, 'detail'],
    queryFn: async () => data(await api.GET('/api/v1/transactions/{transactionId}', { params: { path: { transactionId: id } } })),
    enabled: Number.isInteger(id),
  });
  const events = useQuery({
    queryKey: ['transaction', id, 'events'],
    queryFn: async () => data(await api.GET('/api/v1/transactions/{transactionId}/events', { params: { path: { transactionId: id } } })),
    enabled: Number.isInteger(id),
  });
  if (tx.error) return <ProblemAlert error={tx.error} title="Could not load the session" />;
  if (!tx.data) return <Loading label="Loading session" />;
  const t = tx.data;
  const facts: [string, React.ReactNode][] = [
    ['Station', <Anchor component={Link} to={`/stations/${encodeURIComponent(t.stationId)}`}>{t.stationId}</Anchor>],
    ['EVSE / connector', `${t.evseId ?? '?'} / ${t.connectorId ?? '?'}`],
    ['Id token', t.idToken ? `${t.idToken.idToken}${t.idToken.type ? ` (${t.idToken.type})` : ''}` : '—'],
    ['Started', formatTime(t.startedAt)],
    ['Stopped', t.open ? 'running' : formatTime(t.stoppedAt)],
    ['Duration', duration(t.durationSeconds)],
    ['Energy', formatEnergy(t.energyWh)],
    ['Stop reason', t.stopReason ?? '—'],
  ];
  const items = (events.data as { items?: Record<string, unknown>[] } | Record<string, unknown>[] | undefined);
  const eventRows = Array.isArray(items) ? items : items?.items ?? [];
  return (
    <Stack>
      <Group>
        <Title order={1}>Session {t.transactionId}</Title>
        {t.open ? <Badge>running</Badge> : <Badge color="gray">finished</Badge>}
        {t.flaggedAt ? <Badge color="orange">flagged: {t.flagReason}</Badge> : null}
      </Group>
      <SimpleGrid cols={{ base: 2, sm: 4 }}>
        {facts.map(([label, value]) => (
          <div key={label}>
            <Text size="xs" c="dimmed">
              {label}
            </Text>
            <Text size="sm">{value}</Text>
          </div>
        ))}
      </SimpleGrid>
      <Card withBorder>
        <Title order={2} size="h3" mb="sm">
          Meter values
        </Title>
        <TransactionCharts transactionRef={t.id} soc />
      </Card>
      <Title order={2} size="h3">
        Transaction events
      </Title>
      <ProblemAlert error={events.error} />
      <Table aria-label="Transaction events" striped>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Event</Table.Th>
            <Table.Th>Trigger</Table.Th>
            <Table.Th>Seq</Table.Th>
            <Table.Th>At</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {eventRows.map((e, i) => (
            <Table.Tr key={i}>
              <Table.Td>{String(e.eventType ?? e.type ?? '')}</Table.Td>
              <Table.Td>{String(e.triggerReason ?? '—')}</Table.Td>
              <Table.Td>{String(e.seqNo ?? '—')}</Table.Td>
              <Table.Td>{formatTime(String(e.timestamp ?? ''))}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Stack>
  );
}
