/** A station's installed charging profiles and its composite schedule (as a chart). */
import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Anchor, Button, Card, Group, NumberInput, Select, Stack, Table, Text, Title } from '@mantine/core';
import { Link } from 'react-router-dom';
import { useApi } from '../context';
import { data, type Schemas } from '../api/client';
import { formatTime, Muted, ProblemAlert, RequireRole } from './common';
import { CommandOutcome } from './CommandOutcome';
import { ScheduleChart } from '../charts/lazy';

type Command = Schemas['CommandOut'];

interface CompositeSchedule {
  evseId?: number;
  chargingRateUnit: string;
  chargingSchedulePeriod: { startPeriod: number; limit: number }[];
  scheduleStart?: string;
  duration?: number;
}

function ClearButton({ stationId, profile }: { stationId: string; profile: Schemas['ChargingProfileOut'] }) {
  const api = useApi();
  const [sent, setSent] = useState<Command | null>(null);
  const [error, setError] = useState<unknown>(null);
  async function clear() {
    setError(null);
    try {
      const r = await api.POST('/api/v1/stations/{stationId}/commands/clear-charging-profile', {
        params: { path: { stationId } },
        body: { chargingProfileId: profile.chargingProfileId },
      });
      setSent(r.data ?? null);
    } catch (e) {
      setError(e);
    }
  }
  return (
    <>
      <Button size="xs" variant="subtle" color="red" onClick={clear} aria-label={`Clear profile ${profile.chargingProfileId}`}>
        Clear
      </Button>
      {sent ? <CommandOutcome command={sent} /> : null}
      <ProblemAlert error={error} />
    </>
  );
}

export function InstalledProfiles({ stationId }: { stationId: string }) {
  const api = useApi();
  const profiles = useQuery({
    queryKey: ['station', stationId, 'profiles'],
    queryFn: async () =>
      data(await api.GET('/api/v1/stations/{stationId}/charging-profiles', { params: { path: { stationId }, query: { limit: 100 } } })),
  });
  return (
    <div>
      <Title order={3} size="h4" mb="xs">
        Installed charging profiles
      </Title>
      <ProblemAlert error={profiles.error} />
      <Table aria-label="Installed charging profiles" striped>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Profile id</Table.Th>
            <Table.Th>EVSE</Table.Th>
            <Table.Th>Purpose</Table.Th>
            <Table.Th>Stack level</Table.Th>
            <Table.Th>Kind</Table.Th>
            <Table.Th>Limits</Table.Th>
            <Table.Th>Valid</Table.Th>
            <Table.Th>In force</Table.Th>
            <Table.Th>Action</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {(profiles.data?.items ?? []).map((p) => {
            const schedules = p.chargingSchedule as { chargingRateUnit: string; chargingSchedulePeriod: { startPeriod: number; limit: number }[] }[];
            return (
              <Table.Tr key={`${p.evseId}/${p.chargingProfileId}`}>
                <Table.Td>{p.chargingProfileId}</Table.Td>
                <Table.Td>{p.evseId}</Table.Td>
                <Table.Td>{p.chargingProfilePurpose}</Table.Td>
                <Table.Td>{p.stackLevel}</Table.Td>
                <Table.Td>{p.chargingProfileKind}{p.recurrencyKind ? ` (${p.recurrencyKind})` : ''}</Table.Td>
                <Table.Td>
                  {schedules
                    .map((s) => s.chargingSchedulePeriod.map((x) => `${x.limit} ${s.chargingRateUnit} @${x.startPeriod}s`).join(', '))
                    .join(' | ')}
                </Table.Td>
                <Table.Td>
                  {formatTime(p.validFrom)} – {formatTime(p.validTo)}
                </Table.Td>
                <Table.Td>{p.inForce ? 'yes' : 'no'}</Table.Td>
                <Table.Td>
                  <RequireRole role="operator">
                    <ClearButton stationId={stationId} profile={p} />
                  </RequireRole>
                </Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
      {profiles.data && !profiles.data.total ? <Muted>No profile installed.</Muted> : null}
    </div>
  );
}

export function CompositeSchedulePanel({ stationId, evses }: { stationId: string; evses: number[] }) {
  const api = useApi();
  const [evseId, setEvseId] = useState<string>(String(evses[0] ?? 0));
  const [duration, setDuration] = useState<number | string>(86400);
  const [unit, setUnit] = useState<string>('W');
  const [command, setCommand] = useState<Command | null>(null);
  const [error, setError] = useState<unknown>(null);
  const current = useQuery({
    queryKey: ['command', command?.id ?? 'none'],
    queryFn: async () => data(await api.GET('/api/v1/commands/{commandId}', { params: { path: { commandId: command!.id } } })),
    enabled: !!command,
  });
  const schedule = (current.data?.result as { schedule?: CompositeSchedule } | null | undefined)?.schedule;

  async function ask() {
    setError(null);
    try {
      const r = await api.POST('/api/v1/stations/{stationId}/commands/get-composite-schedule', {
        params: { path: { stationId } },
        body: { evseId: Number(evseId), duration: Number(duration), chargingRateUnit: unit as 'A' | 'W' },
      });
      setCommand(r.data ?? null);
    } catch (e) {
      setError(e);
    }
  }
  return (
    <Card withBorder>
      <Title order={3} size="h4" mb="xs">
        Composite schedule
      </Title>
      <RequireRole role="operator">
        <Group align="flex-end">
          <Select label="EVSE for the schedule" data={['0', ...evses.map(String)]} value={evseId} onChange={(v) => setEvseId(v ?? '0')} allowDeselect={false} w={160} />
          <NumberInput label="Duration (s)" value={duration} onChange={setDuration} min={1} w={140} />
          <Select label="Unit" data={['W', 'A']} value={unit} onChange={(v) => setUnit(v ?? 'W')} allowDeselect={false} w={90} />
          <Button onClick={ask}>Get composite schedule</Button>
        </Group>
      </RequireRole>
      <ProblemAlert error={error} />
      {command ? <CommandOutcome command={command} /> : <Muted>Ask the station for the schedule it will apply.</Muted>}
      {schedule ? (
        <ScheduleChart
          title="Composite schedule"
          periods={schedule.chargingSchedulePeriod}
          unit={schedule.chargingRateUnit}
          durationSeconds={schedule.duration}
          start={schedule.scheduleStart}
        />
      ) : null}
    </Card>
  );
}

export function ProfilesPanel({ stationId, evses }: { stationId: string; evses: number[] }) {
  return (
    <Stack>
      <Text size="sm">
        <Anchor component={Link} to={`/charging?stationId=${encodeURIComponent(stationId)}`}>
          Build and send a profile in the smart charging editor
        </Anchor>
      </Text>
      <InstalledProfiles stationId={stationId} />
      <CompositeSchedulePanel stationId={stationId} evses={evses} />
    </Stack>
  );
}
