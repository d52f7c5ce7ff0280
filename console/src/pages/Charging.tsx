import { useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import { useQuery } from '@tanstack/react-query';
import { Card, Select, Stack, Text, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useApi, useCan } from '../context';
import { data } from '../api/client';
import { ProfileEditor } from '../components/ProfileEditor';
import { CompositeSchedulePanel, InstalledProfiles } from '../components/Profiles';
import { ProblemAlert } from '../components/common';

export default function ChargingPage() {
  const api = useApi();
  const operator = useCan('operator');
  const [params, setParams] = useSearchParams();
  const stationId = params.get('stationId');
  const [search, setSearch] = useState('');
  const [q] = useDebouncedValue(search, 250);
  const stations = useQuery({
    queryKey: ['stations', 'picker', q],
    queryFn: async () => data(await api.GET('/api/v1/stations', { params: { query: { limit: 50, ...(q ? { q } : {}) } } })),
  });
  const station = useQuery({
    queryKey: ['station', stationId ?? '', 'detail'],
    queryFn: async () => data(await api.GET('/api/v1/stations/{stationId}', { params: { path: { stationId: stationId! } } })),
    enabled: !!stationId,
  });
  const evses = (station.data?.evses ?? []).map((e) => e.evseId).filter((e) => e > 0);
  const options = (stations.data?.items ?? []).map((s) => ({ value: s.id, label: `${s.id}${s.online ? '' : ' (offline)'}` }));
  if (stationId && !options.some((o) => o.value === stationId)) options.unshift({ value: stationId, label: stationId });

  return (
    <Stack>
      <Title order={1}>Smart charging</Title>
      <Select
        label="Station"
        placeholder="Search a station"
        searchable
        data={options}
        value={stationId}
        onChange={(v) => setParams(v ? { stationId: v } : {}, { replace: true })}
        searchValue={search}
        onSearchChange={setSearch}
        nothingFoundMessage="No station"
        maw={360}
      />
      <ProblemAlert error={stations.error ?? station.error} />
      <Card withBorder>
        <Title order={2} size="h3" mb="sm">
          Profile editor
        </Title>
        {operator ? null : (
          <Text size="sm" c="dimmed" mb="sm">
            Your role may preview profiles but not send them.
          </Text>
        )}
        <ProfileEditor key={stationId ?? ''} stationId={operator ? stationId ?? '' : null} evses={evses} />
      </Card>
      {stationId ? (
        <>
          <InstalledProfiles stationId={stationId} />
          <CompositeSchedulePanel key={stationId} stationId={stationId} evses={evses} />
        </>
      ) : null}
    </Stack>
  );
}
