import { useEffect, useMemo, useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Anchor, Group, Pagination, Select, Table, Text, TextInput, Title, UnstyledButton } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useApi } from '../context';
import { data, type Schemas } from '../api/client';
import { formatPower, formatTime, Muted, OnlineBadge, ProblemAlert, StateBadge } from '../components/common';
import { useFleetLiveRefresh } from '../live/fleet';

const PAGE = 25;
type Sort = 'id' | 'createdAt' | 'lastBootAt';

type Listed = Schemas['StationListItem'];

/** The station's connectors as badges, from the listing's summary (EVSE 0 is the station itself). */
function Connectors({ station }: { station: Listed }) {
  const connectors = station.connectors.filter((c) => c.evseId > 0);
  if (!connectors.length) return <Muted>none reported</Muted>;
  return (
    <>
      <Group gap={4}>
        {connectors.map((c) => (
          <StateBadge
            key={`${c.evseId}/${c.connectorId}`}
            state={c.chargingState === 'Charging' ? 'Charging' : c.state}
            label={`EVSE ${c.evseId} connector ${c.connectorId}: ${c.status}${station.online ? '' : ' (last reported)'}`}
          />
        ))}
      </Group>
      {/* An offline station's connectors are what it last said; it tells the rest on reconnecting. */}
      {station.online ? null : (
        <Text size="xs" c="dimmed">
          last reported
        </Text>
      )}
    </>
  );
}

/** When a reading was taken, short: the time today, else the day and time. */
function formatSince(iso: string | null | undefined): string {
  if (!iso) return '—';
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  const time = at.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  return at.toDateString() === new Date().toDateString()
    ? time
    : `${at.toLocaleDateString(undefined, { day: 'numeric', month: 'short' })} ${time}`;
}

/** How old a reading may be and still be shown as the station's power now. */
const FRESH_POWER_MS = 5 * 60 * 1000;

/**
 * The station's power: the latest reading of its running transactions. A station that went
 * offline mid-session (its transaction still open) or stopped reporting shows its last reading
 * with when it was taken, not as if it were drawing that now.
 */
function Power({ station }: { station: Listed }) {
  if (station.powerW === null || station.powerW === undefined) return <>—</>;
  const at = station.powerAt ? Date.parse(station.powerAt) : NaN;
  const stale = !station.online || Number.isNaN(at) || Date.now() - at > FRESH_POWER_MS;
  if (!stale) return <>{formatPower(station.powerW)}</>;
  return (
    <>
      <span>{formatPower(station.powerW)}</span>
      <Text size="xs" c="dimmed">
        as of {formatSince(station.powerAt)}
      </Text>
    </>
  );
}

function SortHeader({ label, field, sort, order, onSort }: { label: string; field: Sort; sort: Sort; order: string; onSort: (f: Sort) => void }) {
  const active = sort === field;
  return (
    <Table.Th aria-sort={active ? (order === 'asc' ? 'ascending' : 'descending') : 'none'}>
      <UnstyledButton onClick={() => onSort(field)} fw={600} fz="inherit">
        {label} {active ? (order === 'asc' ? '▲' : '▼') : ''}
      </UnstyledButton>
    </Table.Th>
  );
}

export function FleetPage() {
  const api = useApi();
  const [params, setParams] = useSearchParams();
  const [search, setSearch] = useState(params.get('q') ?? '');
  const [debounced] = useDebouncedValue(search, 300);
  // 'online' | 'offline' | 'all'; the API's own spelling (?online=true) is read the same way.
  const onlineParam = params.get('online');
  const online = onlineParam === 'true' ? 'online' : onlineParam === 'false' ? 'offline' : (onlineParam ?? 'all');
  const protocol = params.get('protocol') ?? 'all';
  const registration = params.get('registrationStatus') ?? 'all';
  const locationId = params.get('locationId') ?? '';
  const sort = (params.get('sort') ?? 'id') as Sort;
  const order: 'asc' | 'desc' = params.get('order') === 'desc' ? 'desc' : 'asc';
  const page = Math.max(1, Number(params.get('page') ?? 1));

  function update(next: Record<string, string | null>) {
    const p = new URLSearchParams(params);
    for (const [k, v] of Object.entries(next)) {
      if (v === null || v === '' || v === 'all') p.delete(k);
      else p.set(k, v);
    }
    if (!('page' in next)) p.delete('page');
    setParams(p, { replace: true });
  }

  useEffect(() => {
    if ((params.get('q') ?? '') !== debounced) update({ q: debounced });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [debounced]);

  const locations = useQuery({
    queryKey: ['locations', 'options'],
    queryFn: async () => data(await api.GET('/api/v1/locations', { params: { query: { limit: 200 } } })),
    staleTime: 60000,
  });

  const query = {
    limit: PAGE,
    offset: (page - 1) * PAGE,
    sort,
    order,
    ...(params.get('q') ? { q: params.get('q')! } : {}),
    ...(online !== 'all' ? { online: online === 'online' } : {}),
    ...(protocol !== 'all' ? { protocol: protocol as 'ocpp1.6' | 'ocpp2.0.1' } : {}),
    ...(registration !== 'all' ? { registrationStatus: registration as Schemas['RegistrationStatus'] } : {}),
    ...(locationId ? { locationId } : {}),
  };
  // Not under ['stations']: a status change anywhere in the tenant must not refetch this page
  // (live/invalidate.ts); useFleetLiveRefresh refetches it for its own stations, throttled.
  const stations = useQuery({
    queryKey: ['fleet', query],
    queryFn: async () => data(await api.GET('/api/v1/stations', { params: { query } })),
    placeholderData: keepPreviousData,
  });
  const total = stations.data?.total ?? 0;
  const visible = useMemo(() => new Set((stations.data?.items ?? []).map((s) => s.id)), [stations.data]);
  // A connection can move a station in or out of a connection or protocol filter.
  useFleetLiveRefresh({ visible, byConnection: online !== 'all' || protocol !== 'all', sort }, () => void stations.refetch());

  function onSort(field: Sort) {
    update({ sort: field, order: sort === field && order === 'asc' ? 'desc' : 'asc' });
  }

  return (
    <>
      <Title order={1} mb="md">
        Fleet
      </Title>
      <Group mb="md" align="flex-end">
        <TextInput label="Search stations" placeholder="station id starts with…" value={search} onChange={(e) => setSearch(e.currentTarget.value)} />
        <Select
          label="Connection"
          data={[
            { value: 'all', label: 'All' },
            { value: 'online', label: 'Online' },
            { value: 'offline', label: 'Offline' },
          ]}
          value={online}
          onChange={(v) => update({ online: v })}
          allowDeselect={false}
          w={130}
        />
        <Select
          label="Protocol"
          data={[
            { value: 'all', label: 'All' },
            { value: 'ocpp1.6', label: 'OCPP 1.6' },
            { value: 'ocpp2.0.1', label: 'OCPP 2.0.1' },
          ]}
          value={protocol}
          onChange={(v) => update({ protocol: v })}
          allowDeselect={false}
          w={140}
        />
        <Select
          label="Registration"
          data={['all', 'Accepted', 'Pending', 'Rejected'].map((v) => ({ value: v, label: v === 'all' ? 'All' : v }))}
          value={registration}
          onChange={(v) => update({ registrationStatus: v })}
          allowDeselect={false}
          w={140}
        />
        <Select
          label="Location"
          data={[{ value: '', label: 'All' }, ...(locations.data?.items ?? []).map((l) => ({ value: l.id, label: l.name }))]}
          value={locationId}
          onChange={(v) => update({ locationId: v })}
          allowDeselect={false}
          w={180}
        />
      </Group>
      <ProblemAlert error={stations.error} title="Could not load the stations" />
      <Table.ScrollContainer minWidth={760}>
        <Table striped highlightOnHover aria-label="Stations">
          <Table.Thead>
            <Table.Tr>
              <SortHeader label="Station" field="id" sort={sort} order={order} onSort={onSort} />
              <Table.Th>Connection</Table.Th>
              <Table.Th>Protocol</Table.Th>
              <Table.Th>Connectors</Table.Th>
              <Table.Th>Power</Table.Th>
              <Table.Th>Registration</Table.Th>
              <SortHeader label="Last boot" field="lastBootAt" sort={sort} order={order} onSort={onSort} />
              <SortHeader label="Created" field="createdAt" sort={sort} order={order} onSort={onSort} />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {(stations.data?.items ?? []).map((s) => (
              <Table.Tr key={s.id}>
                <Table.Td>
                  <Anchor component={Link} to={`/stations/${encodeURIComponent(s.id)}`}>
                    {s.id}
                  </Anchor>
                  {s.vendor || s.model ? (
                    <Text size="xs" c="dimmed">
                      {[s.vendor, s.model].filter(Boolean).join(' ')}
                    </Text>
                  ) : null}
                </Table.Td>
                <Table.Td>
                  <OnlineBadge online={s.online} />
                </Table.Td>
                <Table.Td>{s.protocol ?? s.lastProtocol ?? s.ocppVersion ?? '—'}</Table.Td>
                <Table.Td>
                  <Connectors station={s} />
                </Table.Td>
                <Table.Td>
                  <Power station={s} />
                </Table.Td>
                <Table.Td>{s.registrationStatus}</Table.Td>
                <Table.Td>{formatTime(s.lastBootAt)}</Table.Td>
                <Table.Td>{formatTime(s.createdAt)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {stations.data && !total ? <Muted>No station matches.</Muted> : null}
      <Group justify="space-between" mt="md">
        <Muted>{stations.data ? `${total.toLocaleString()} station${total === 1 ? '' : 's'}` : 'Loading stations…'}</Muted>
        <Pagination
          total={Math.max(1, Math.ceil(total / PAGE))}
          value={page}
          onChange={(p) => update({ page: String(p) })}
          getControlProps={(control) => ({ 'aria-label': `${control} page` })}
          getItemProps={(p) => ({ 'aria-label': `Page ${p}` })}
        />
      </Group>
    </>
  );
}
