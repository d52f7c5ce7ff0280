import { useMemo, useState } from 'react';
import { Link, useParams, useSearchParams } from 'react-router-dom';
import { useQuery } from '@tanstack/react-query';
import {
  Anchor,
  Button,
  Card,
  Group,
  Pagination,
  Select,
  SimpleGrid,
  Stack,
  Table,
  Tabs,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useApi, useCan } from '../context';
import { data, type Schemas } from '../api/client';
import { commandSpecs } from '../api/commands';
import { formatKwh, formatTime, Loading, Muted, OnlineBadge, ProblemAlert, RequireRole, StateBadge } from '../components/common';
import { CommandOutcome, CommandStatusBadge } from '../components/CommandOutcome';
import { LazyCommandForm } from '../components/LazyCommandForm';
import { MeterChart } from '../charts/lazy';
import { ProfilesPanel } from '../components/Profiles';
import { ModalDialog } from '../components/ModalDialog';

type Command = Schemas['CommandOut'];

function Facts({ station }: { station: Schemas['StationDetail'] }) {
  const facts: [string, string][] = [
    ['Protocol', station.protocol ?? station.lastProtocol ?? station.ocppVersion ?? '—'],
    ['Registration', station.registrationStatus],
    ['Vendor / model', [station.vendor, station.model].filter(Boolean).join(' ') || '—'],
    ['Firmware', station.firmwareVersion ?? '—'],
    ['Serial number', station.serialNumber ?? station.chargeBoxSerialNumber ?? '—'],
    ['Last boot', formatTime(station.lastBootAt)],
    ['Last seen', formatTime(station.lastSeen)],
    ['Location', station.locationId ?? '—'],
  ];
  return (
    <SimpleGrid cols={{ base: 2, sm: 4 }} spacing="xs">
      {facts.map(([label, value]) => (
        <div key={label}>
          <Text size="xs" c="dimmed">
            {label}
          </Text>
          <Text size="sm">{value}</Text>
        </div>
      ))}
    </SimpleGrid>
  );
}

function Connectors({ station }: { station: Schemas['StationDetail'] }) {
  const rows = station.evses.flatMap((e) => e.connectors.map((c) => ({ ...c, evseId: e.evseId })));
  return (
    <Table aria-label="Connectors" striped>
      <Table.Thead>
        <Table.Tr>
          <Table.Th>EVSE</Table.Th>
          <Table.Th>Connector</Table.Th>
          <Table.Th>State</Table.Th>
          <Table.Th>Reported status</Table.Th>
          <Table.Th>Charging</Table.Th>
          <Table.Th>Error</Table.Th>
          <Table.Th>Since</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {rows.map((c) => (
          <Table.Tr key={`${c.evseId}/${c.connectorId}`}>
            <Table.Td>{c.evseId === 0 ? 'station' : c.evseId}</Table.Td>
            <Table.Td>{c.connectorId}</Table.Td>
            <Table.Td>
              <StateBadge state={c.state} />
            </Table.Td>
            <Table.Td>{c.status}</Table.Td>
            <Table.Td>{c.chargingState ?? '—'}</Table.Td>
            <Table.Td>{[c.errorCode, c.vendorErrorCode, c.info].filter((x) => x && x !== 'NoError').join(' ') || '—'}</Table.Td>
            <Table.Td>{formatTime(c.since)}</Table.Td>
          </Table.Tr>
        ))}
        {!rows.length ? (
          <Table.Tr>
            <Table.Td colSpan={7}>
              <Muted>No connector has reported a status yet.</Muted>
            </Table.Td>
          </Table.Tr>
        ) : null}
      </Table.Tbody>
    </Table>
  );
}

/** A transaction's power and energy (and SoC when sampled), refreshed live. */
export function TransactionCharts({ transactionRef, soc = false }: { transactionRef: number; soc?: boolean }) {
  const api = useApi();
  const meter = useQuery({
    queryKey: ['transaction', transactionRef, 'meter'],
    queryFn: async () =>
      data(
        await api.GET('/api/v1/transactions/{transactionId}/meter-values', {
          params: {
            path: { transactionId: transactionRef },
            query: { measurand: ['Power.Active.Import', 'Energy.Active.Import.Register', 'SoC'] },
          },
        }),
      ),
  });
  if (meter.error) return <ProblemAlert error={meter.error} title="Could not load the meter values" />;
  if (!meter.data) return <Loading label="Loading meter values" />;
  const series = meter.data.series;
  return (
    <SimpleGrid cols={{ base: 1, md: soc ? 3 : 2 }}>
      <MeterChart title="Power" series={series} columns={{ 'Power.Active.Import': 'Power (kW)' }} />
      <MeterChart title="Energy" series={series} columns={{ 'Energy.Active.Import.Register': 'Energy (kWh)' }} colors={['teal.6']} />
      {soc ? <MeterChart title="State of charge" series={series} columns={{ SoC: 'SoC (%)' }} colors={['orange.6']} /> : null}
    </SimpleGrid>
  );
}

function StopButton({ stationId, transactionId }: { stationId: string; transactionId: string }) {
  const api = useApi();
  const [sent, setSent] = useState<Command | null>(null);
  const [error, setError] = useState<unknown>(null);
  async function stop() {
    setError(null);
    try {
      const r = await api.POST('/api/v1/stations/{stationId}/commands/stop-transaction', {
        params: { path: { stationId } },
        body: { transactionId },
      });
      setSent(r.data ?? null);
    } catch (e) {
      setError(e);
    }
  }
  return (
    <>
      <Button color="red" variant="light" size="xs" onClick={stop}>
        Stop transaction {transactionId}
      </Button>
      {sent ? <CommandOutcome command={sent} /> : null}
      <ProblemAlert error={error} />
    </>
  );
}

function RunningTransactions({ stationId }: { stationId: string }) {
  const api = useApi();
  const open = useQuery({
    queryKey: ['station', stationId, 'transactions', 'open'],
    queryFn: async () =>
      data(await api.GET('/api/v1/transactions', { params: { query: { stationId, status: 'open', limit: 10, sort: 'startedAt', order: 'desc' } } })),
  });
  if (open.error) return <ProblemAlert error={open.error} />;
  const items = (open.data?.items ?? []).filter((t) => !t.deauthorizedAt);
  if (!items.length) return <Muted>No transaction is running.</Muted>;
  return (
    <Stack>
      {items.map((t) => (
        <Card withBorder key={t.id} aria-label={`Running transaction ${t.transactionId}`}>
          <Group justify="space-between" mb="xs">
            <div>
              <Text fw={600}>
                <Anchor component={Link} to={`/sessions/${t.id}`}>
                  Transaction {t.transactionId}
                </Anchor>{' '}
                on EVSE {t.evseId ?? '?'}
              </Text>
              <Text size="sm" c="dimmed">
                {t.idToken ? `Token ${t.idToken.idToken}` : 'No token'} · started {formatTime(t.startedAt)}
                {t.chargingState ? ` · ${t.chargingState}` : ''}
              </Text>
            </div>
            <div>
              <Text size="xs" c="dimmed" id={`energy-so-far-${t.id}`}>
                Energy so far
              </Text>
              <Text fw={700} size="lg" aria-labelledby={`energy-so-far-${t.id}`} title={t.energyMeasuredAt ? `measured ${formatTime(t.energyMeasuredAt)}` : undefined}>
                {formatKwh(t.energyWh)}
              </Text>
            </div>
            <RequireRole role="operator">
              <StopButton stationId={stationId} transactionId={t.transactionId} />
            </RequireRole>
          </Group>
          <TransactionCharts transactionRef={t.id} />
        </Card>
      ))}
    </Stack>
  );
}

function CommandsTab({ stationId }: { stationId: string }) {
  const specs = useMemo(() => commandSpecs(), []);
  const [name, setName] = useState<string | null>('start-transaction');
  const [sent, setSent] = useState<Command | null>(null);
  const spec = specs.find((s) => s.name === name);
  return (
    <Stack>
      <RequireRole role="operator">
        <Card withBorder>
          <Title order={2} size="h4" mb="sm">
            Send a command
          </Title>
          <Select
            label="Command"
            data={specs.map((s) => ({ value: s.name, label: s.label }))}
            value={name}
            onChange={(v) => {
              setName(v);
              setSent(null);
            }}
            searchable
            allowDeselect={false}
            mb="sm"
          />
          {spec ? <LazyCommandForm key={spec.name} stationId={stationId} spec={spec} onSent={setSent} /> : null}
          {sent ? <CommandOutcome command={sent} /> : null}
        </Card>
      </RequireRole>
      <CommandHistory stationId={stationId} />
    </Stack>
  );
}

function CommandHistory({ stationId }: { stationId: string }) {
  const api = useApi();
  const [page, setPage] = useState(1);
  const history = useQuery({
    queryKey: ['station', stationId, 'commands', page],
    queryFn: async () =>
      data(await api.GET('/api/v1/stations/{stationId}/commands', { params: { path: { stationId }, query: { limit: 20, offset: (page - 1) * 20 } } })),
  });
  return (
    <div>
      <Title order={2} size="h4" mb="sm">
        Command history
      </Title>
      <ProblemAlert error={history.error} />
      <Table aria-label="Command history" striped>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Command</Table.Th>
            <Table.Th>Status</Table.Th>
            <Table.Th>Queued</Table.Th>
            <Table.Th>Finished</Table.Th>
            <Table.Th>By</Table.Th>
            <Table.Th>Detail</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {(history.data?.items ?? []).map((c) => (
            <Table.Tr key={c.id}>
              <Table.Td>{c.name}</Table.Td>
              <Table.Td>
                <CommandStatusBadge status={c.status} />
              </Table.Td>
              <Table.Td>{formatTime(c.createdAt)}</Table.Td>
              <Table.Td>{formatTime(c.finishedAt)}</Table.Td>
              <Table.Td>{c.requestedBy ?? '—'}</Table.Td>
              <Table.Td>{[c.errorCode, c.reason].filter(Boolean).join(': ') || (c.response ? JSON.stringify(c.response).slice(0, 80) : '—')}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {history.data && history.data.total > 20 ? (
        <Pagination mt="sm" total={Math.ceil(history.data.total / 20)} value={page} onChange={setPage} />
      ) : null}
    </div>
  );
}

function EditVariable({ stationId, variable, onClose }: { stationId: string; variable: Schemas['VariableOut']; onClose: () => void }) {
  const api = useApi();
  const [value, setValue] = useState(variable.value ?? '');
  const [sent, setSent] = useState<Command | null>(null);
  const [error, setError] = useState<unknown>(null);
  const fieldError = error && typeof error === 'object' && 'bodyFieldErrors' in error
    ? Object.entries((error as { bodyFieldErrors(): Record<string, string> }).bodyFieldErrors()).find(([k]) => k.endsWith('attributeValue'))?.[1]
    : undefined;
  async function save(event: React.FormEvent) {
    event.preventDefault();
    setError(null);
    try {
      const r = await api.POST('/api/v1/stations/{stationId}/commands/set-variables', {
        params: { path: { stationId } },
        body: {
          variables: [
            {
              component: {
                name: variable.component.name,
                instance: variable.component.instance ?? undefined,
                evse: variable.component.evse ?? undefined,
              } as Schemas['ComponentRef'],
              variable: { name: variable.variable.name, instance: variable.variable.instance ?? undefined } as Schemas['VariableName'],
              attributeType: variable.attributeType,
              attributeValue: value,
            },
          ],
        },
      });
      setSent(r.data ?? null);
    } catch (e) {
      setError(e);
    }
  }
  const label = `${variable.component.name}.${variable.variable.name}`;
  return (
    <ModalDialog opened onClose={onClose} title={`Set ${label}`}>
      <form onSubmit={save}>
        <TextInput label="New value" value={value} onChange={(e) => setValue(e.currentTarget.value)} error={fieldError} data-autofocus />
        <Button type="submit" mt="sm">
          Set value
        </Button>
      </form>
      {sent ? <CommandOutcome command={sent} /> : null}
      <ProblemAlert error={error} title="The value was not sent" />
    </ModalDialog>
  );
}

function ConfigurationTab({ stationId }: { stationId: string }) {
  const api = useApi();
  const operator = useCan('operator');
  const [filter, setFilter] = useState('');
  const [page, setPage] = useState(1);
  const [editing, setEditing] = useState<Schemas['VariableOut'] | null>(null);
  const [refresh, setRefresh] = useState<Command | null>(null);
  const [error, setError] = useState<unknown>(null);
  const variables = useQuery({
    queryKey: ['station', stationId, 'variables', filter, page],
    queryFn: async () =>
      data(
        await api.GET('/api/v1/stations/{stationId}/variables', {
          params: { path: { stationId }, query: { limit: 50, offset: (page - 1) * 50, ...(filter ? { component: filter } : {}) } },
        }),
      ),
  });
  async function readAll() {
    setError(null);
    try {
      const r = await api.POST('/api/v1/stations/{stationId}/commands/get-variables', { params: { path: { stationId } }, body: {} });
      setRefresh(r.data ?? null);
    } catch (e) {
      setError(e);
    }
  }
  return (
    <Stack>
      <Group align="flex-end">
        <TextInput label="Component" placeholder="e.g. OCPPCommCtrlr" value={filter} onChange={(e) => { setFilter(e.currentTarget.value); setPage(1); }} />
        <RequireRole role="operator">
          <Button variant="light" onClick={readAll}>
            Read configuration from station
          </Button>
        </RequireRole>
      </Group>
      {refresh ? <CommandOutcome command={refresh} /> : null}
      <ProblemAlert error={error ?? variables.error} />
      <Table aria-label="Configuration" striped>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Component</Table.Th>
            <Table.Th>Variable</Table.Th>
            <Table.Th>Value</Table.Th>
            <Table.Th>Mutability</Table.Th>
            <Table.Th>Updated</Table.Th>
            {operator ? <Table.Th>Action</Table.Th> : null}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {(variables.data?.items ?? []).map((v) => {
            const label = `${v.component.name}${v.component.evse ? ` (EVSE ${v.component.evse.id})` : ''}`;
            const name = `${v.variable.name}${v.variable.instance ? `[${v.variable.instance}]` : ''}${v.attributeType !== 'Actual' ? ` ${v.attributeType}` : ''}`;
            return (
              <Table.Tr key={`${label}/${name}`}>
                <Table.Td>{label}</Table.Td>
                <Table.Td>
                  {name}
                  {v.ocpp16Key ? <Text size="xs" c="dimmed">{v.ocpp16Key}</Text> : null}
                </Table.Td>
                <Table.Td style={{ wordBreak: 'break-all' }}>{v.value ?? '—'}</Table.Td>
                <Table.Td>{v.mutability ?? '—'}</Table.Td>
                <Table.Td>{formatTime(v.updatedAt)}</Table.Td>
                {operator ? (
                  <Table.Td>
                    {v.mutability !== 'ReadOnly' && !v.constant ? (
                      <Button size="xs" variant="subtle" onClick={() => setEditing(v)} aria-label={`Edit ${v.component.name}.${v.variable.name}`}>
                        Edit
                      </Button>
                    ) : null}
                  </Table.Td>
                ) : null}
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
      {variables.data && !variables.data.total ? <Muted>No configuration known yet: read it from the station.</Muted> : null}
      {variables.data && variables.data.total > 50 ? <Pagination total={Math.ceil(variables.data.total / 50)} value={page} onChange={setPage} /> : null}
      {editing ? <EditVariable stationId={stationId} variable={editing} onClose={() => setEditing(null)} /> : null}
    </Stack>
  );
}

function Timeline<T>({ title, rows, columns }: { title: string; rows: T[] | undefined; columns: [string, (row: T) => React.ReactNode][] }) {
  return (
    <div>
      <Title order={2} size="h5" mb={4}>
        {title}
      </Title>
      <Table aria-label={title} striped>
        <Table.Thead>
          <Table.Tr>
            {columns.map(([h]) => (
              <Table.Th key={h}>{h}</Table.Th>
            ))}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {(rows ?? []).map((r, i) => (
            <Table.Tr key={i}>
              {columns.map(([h, cell]) => (
                <Table.Td key={h}>{cell(r)}</Table.Td>
              ))}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {rows && !rows.length ? <Muted>Nothing reported.</Muted> : null}
    </div>
  );
}

function TimelinesTab({ stationId }: { stationId: string }) {
  const api = useApi();
  const path = { path: { stationId }, query: { limit: 20 } };
  const firmware = useQuery({
    queryKey: ['station', stationId, 'firmware'],
    queryFn: async () => data(await api.GET('/api/v1/stations/{stationId}/firmware-status', { params: path })),
  });
  const diagnostics = useQuery({
    queryKey: ['station', stationId, 'diagnostics'],
    queryFn: async () => data(await api.GET('/api/v1/stations/{stationId}/diagnostics-status', { params: path })),
  });
  const security = useQuery({
    queryKey: ['station', stationId, 'security'],
    queryFn: async () => data(await api.GET('/api/v1/stations/{stationId}/security-events', { params: path })),
  });
  const device = useQuery({
    queryKey: ['station', stationId, 'device-events'],
    queryFn: async () => data(await api.GET('/api/v1/stations/{stationId}/device-events', { params: path })),
  });
  const status = useQuery({
    queryKey: ['station', stationId, 'status-history'],
    queryFn: async () => data(await api.GET('/api/v1/stations/{stationId}/status-history', { params: path })),
  });
  const statusCols: [string, (r: Schemas['StatusEventOut']) => React.ReactNode][] = [
    ['Status', (r) => r.status],
    ['Received', (r) => formatTime(r.receivedAt)],
  ];
  return (
    <Stack>
      <ProblemAlert error={firmware.error ?? diagnostics.error ?? security.error ?? device.error ?? status.error} />
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <Timeline title="Firmware status" rows={firmware.data?.items} columns={statusCols} />
        <Timeline title="Diagnostics and log upload status" rows={diagnostics.data?.items} columns={statusCols} />
      </SimpleGrid>
      <Timeline
        title="Security events"
        rows={security.data?.items}
        columns={[
          ['Type', (r) => r.type],
          ['Detail', (r) => r.techInfo ?? '—'],
          ['At', (r) => formatTime(r.timestamp)],
        ]}
      />
      <Timeline
        title="Device events"
        rows={device.data?.items}
        columns={[
          ['Component', (r) => `${r.component}${r.evseId ? ` (EVSE ${r.evseId})` : ''}`],
          ['Variable', (r) => r.variable],
          ['Value', (r) => r.actualValue],
          ['Trigger', (r) => r.trigger],
          ['At', (r) => formatTime(r.timestamp)],
        ]}
      />
      <Timeline
        title="Connector status history"
        rows={status.data?.items}
        columns={[
          ['EVSE', (r) => r.evseId],
          ['Connector', (r) => r.connectorId],
          ['Status', (r) => r.status],
          ['At', (r) => formatTime(r.timestamp)],
        ]}
      />
    </Stack>
  );
}

export default function StationPage() {
  const { stationId = '' } = useParams();
  const api = useApi();
  const [params, setParams] = useSearchParams();
  const tab = params.get('tab') ?? 'overview';
  const station = useQuery({
    queryKey: ['station', stationId, 'detail'],
    queryFn: async () => data(await api.GET('/api/v1/stations/{stationId}', { params: { path: { stationId } } })),
  });
  if (station.error) {
    return (
      <>
        <Title order={1}>Station {stationId}</Title>
        <ProblemAlert error={station.error} title="Could not load the station" />
      </>
    );
  }
  if (!station.data) return <Loading label="Loading station" />;
  const s = station.data;
  return (
    <Stack>
      <Group justify="space-between">
        <Group>
          <Title order={1}>Station {s.id}</Title>
          <OnlineBadge online={s.online} />
        </Group>
        <Anchor component={Link} to={`/sessions?stationId=${encodeURIComponent(s.id)}`}>
          Sessions of this station
        </Anchor>
      </Group>
      <Facts station={s} />
      <Tabs value={tab} onChange={(v) => setParams({ tab: v ?? 'overview' }, { replace: true })} keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="overview">Overview</Tabs.Tab>
          <Tabs.Tab value="commands">Commands</Tabs.Tab>
          <Tabs.Tab value="configuration">Configuration</Tabs.Tab>
          <Tabs.Tab value="charging">Charging profiles</Tabs.Tab>
          <Tabs.Tab value="timelines">Timelines</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="overview" pt="md">
          <Stack>
            <Title order={2} size="h3">
              EVSEs and connectors
            </Title>
            <Connectors station={s} />
            <Title order={2} size="h3">
              Running transaction
            </Title>
            <RunningTransactions stationId={s.id} />
          </Stack>
        </Tabs.Panel>
        <Tabs.Panel value="commands" pt="md">
          <CommandsTab stationId={s.id} />
        </Tabs.Panel>
        <Tabs.Panel value="configuration" pt="md">
          <ConfigurationTab stationId={s.id} />
        </Tabs.Panel>
        <Tabs.Panel value="charging" pt="md">
          {/* The panel's own headings are h3: under the page's h1 they need an h2 (heading order). */}
          <Title order={2} size="h3" mb="sm">
            Charging profiles
          </Title>
          <ProfilesPanel stationId={s.id} evses={s.evses.map((e) => e.evseId).filter((e) => e > 0)} />
        </Tabs.Panel>
        <Tabs.Panel value="timelines" pt="md">
          <TimelinesTab stationId={s.id} />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}
