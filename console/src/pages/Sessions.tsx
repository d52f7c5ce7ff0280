import { useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Anchor, Badge, Button, Group, Pagination, Select, Table, TextInput, Title } from '@mantine/core';
import { DatePickerInput } from '@mantine/dates';
import '@mantine/dates/styles.css';
import { useApi } from '../context';
import { data, type Schemas } from '../api/client';
import { formatEnergy, formatTime, Muted, ProblemAlert } from '../components/common';

const PAGE = 25;
type Tx = Schemas['TransactionOut'];

const COLUMNS: [string, (t: Tx) => string | number | null | undefined][] = [
  ['station', (t) => t.stationId],
  ['evse', (t) => t.evseId],
  ['connector', (t) => t.connectorId],
  ['transactionId', (t) => t.transactionId],
  ['idToken', (t) => t.idToken?.idToken],
  ['startedAt', (t) => t.startedAt],
  ['stoppedAt', (t) => t.stoppedAt],
  ['durationSeconds', (t) => t.durationSeconds],
  ['energyWh', (t) => t.energyWh],
  ['stopReason', (t) => t.stopReason],
  ['flagReason', (t) => t.flagReason],
  ['protocol', (t) => t.protocol],
];

/** RFC 4180 CSV: fields with a comma, quote or line break are quoted, quotes doubled. */
export function toCsv(rows: Tx[]): string {
  const cell = (v: unknown) => {
    const s = v === null || v === undefined ? '' : String(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [COLUMNS.map(([h]) => h).join(','), ...rows.map((t) => COLUMNS.map(([, f]) => cell(f(t))).join(','))].join('\r\n') + '\r\n';
}

function dayStart(d: string | null): string | undefined {
  return d ? new Date(`${d}T00:00:00`).toISOString() : undefined;
}
function dayEnd(d: string | null): string | undefined {
  if (!d) return undefined;
  const end = new Date(`${d}T00:00:00`);
  end.setDate(end.getDate() + 1);
  return end.toISOString();
}

export default function SessionsPage() {
  const api = useApi();
  const [params, setParams] = useSearchParams();
  const [exporting, setExporting] = useState(false);
  const [exportError, setExportError] = useState<unknown>(null);
  const page = Math.max(1, Number(params.get('page') ?? 1));
  const status = params.get('status') ?? 'all';
  const flagged = params.get('flagged') ?? 'all';
  const from = params.get('from');
  const to = params.get('to');

  function update(next: Record<string, string | null>) {
    const p = new URLSearchParams(params);
    for (const [k, v] of Object.entries(next)) {
      if (v === null || v === '' || v === 'all') p.delete(k);
      else p.set(k, v);
    }
    if (!('page' in next)) p.delete('page');
    setParams(p, { replace: true });
  }

  const filters = {
    ...(params.get('stationId') ? { stationId: params.get('stationId')! } : {}),
    ...(params.get('idToken') ? { idToken: params.get('idToken')! } : {}),
    ...(status !== 'all' ? { status: status as 'open' | 'closed' } : {}),
    ...(flagged !== 'all' ? { flagged: flagged === 'yes' } : {}),
    ...(from ? { from: dayStart(from) } : {}),
    ...(to ? { to: dayEnd(to) } : {}),
    deauthorized: false,
  };
  const list = useQuery({
    queryKey: ['transactions', filters, page],
    queryFn: async () => data(await api.GET('/api/v1/transactions', { params: { query: { ...filters, limit: PAGE, offset: (page - 1) * PAGE } } })),
    placeholderData: keepPreviousData,
  });
  const total = list.data?.total ?? 0;

  async function exportCsv() {
    setExporting(true);
    setExportError(null);
    try {
      const rows: Tx[] = [];
      for (let offset = 0; offset < 50000; offset += 500) {
        const page = data(await api.GET('/api/v1/transactions', { params: { query: { ...filters, limit: 500, offset } } }));
        rows.push(...page.items);
        if (rows.length >= page.total || !page.items.length) break;
      }
      const url = URL.createObjectURL(new Blob([toCsv(rows)], { type: 'text/csv' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = 'sessions.csv';
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    } catch (e) {
      setExportError(e);
    } finally {
      setExporting(false);
    }
  }

  return (
    <>
      <Title order={1} mb="md">
        Sessions
      </Title>
      <Group mb="md" align="flex-end">
        <TextInput label="Station" defaultValue={params.get('stationId') ?? ''} onBlur={(e) => update({ stationId: e.currentTarget.value.trim() })} onKeyDown={(e) => e.key === 'Enter' && update({ stationId: e.currentTarget.value.trim() })} w={160} />
        <TextInput label="Id token" defaultValue={params.get('idToken') ?? ''} onBlur={(e) => update({ idToken: e.currentTarget.value.trim() })} onKeyDown={(e) => e.key === 'Enter' && update({ idToken: e.currentTarget.value.trim() })} w={160} />
        <DatePickerInput label="From" clearable value={from} onChange={(v) => update({ from: v })} w={150} />
        <DatePickerInput label="To" clearable value={to} onChange={(v) => update({ to: v })} w={150} />
        <Select label="State" data={[{ value: 'all', label: 'All' }, { value: 'open', label: 'Running' }, { value: 'closed', label: 'Finished' }]} value={status} onChange={(v) => update({ status: v })} allowDeselect={false} w={120} />
        <Select label="Flagged" data={[{ value: 'all', label: 'All' }, { value: 'yes', label: 'Flagged' }, { value: 'no', label: 'Not flagged' }]} value={flagged} onChange={(v) => update({ flagged: v })} allowDeselect={false} w={130} />
        <Button variant="light" onClick={exportCsv} loading={exporting}>
          Export CSV
        </Button>
      </Group>
      <ProblemAlert error={list.error ?? exportError} title="Could not load the sessions" />
      <Table.ScrollContainer minWidth={760}>
        <Table striped highlightOnHover aria-label="Sessions">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Session</Table.Th>
              <Table.Th>Station</Table.Th>
              <Table.Th>EVSE</Table.Th>
              <Table.Th>Id token</Table.Th>
              <Table.Th>Started</Table.Th>
              <Table.Th>Stopped</Table.Th>
              <Table.Th>Energy</Table.Th>
              <Table.Th>Flags</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {(list.data?.items ?? []).map((t) => (
              <Table.Tr key={t.id}>
                <Table.Td>
                  <Anchor component={Link} to={`/sessions/${t.id}`}>
                    {t.transactionId}
                  </Anchor>
                </Table.Td>
                <Table.Td>
                  <Anchor component={Link} to={`/stations/${encodeURIComponent(t.stationId)}`}>
                    {t.stationId}
                  </Anchor>
                </Table.Td>
                <Table.Td>{t.evseId ?? '—'}</Table.Td>
                <Table.Td>{t.idToken?.idToken ?? '—'}</Table.Td>
                <Table.Td>{formatTime(t.startedAt)}</Table.Td>
                <Table.Td>{t.open ? <Badge variant="light">running</Badge> : formatTime(t.stoppedAt)}</Table.Td>
                <Table.Td>{formatEnergy(t.energyWh)}</Table.Td>
                <Table.Td>{t.flaggedAt ? <Badge color="orange" title={t.flagReason ?? ''}>flagged</Badge> : null}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {list.data && !total ? <Muted>No session matches.</Muted> : null}
      <Group justify="space-between" mt="md">
        <Muted>{total} sessions</Muted>
        <Pagination total={Math.max(1, Math.ceil(total / PAGE))} value={page} onChange={(p) => update({ page: String(p) })} />
      </Group>
    </>
  );
}

