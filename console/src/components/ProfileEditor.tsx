/**
 * The smart charging editor: a charging profile built on a timeline of periods, previewed as
 * a chart, sent with the neutral set-charging-profile command. The API's field errors
 * (body.chargingProfile.chargingSchedule.0.chargingSchedulePeriod.1.limit) show at the field.
 */
import { useState } from 'react';
import { ActionIcon, Button, Card, Group, NumberInput, Select, SimpleGrid, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { DateTimePicker } from '@mantine/dates';
import '@mantine/dates/styles.css';
import { useApi } from '../context';
import { ApiError } from '../api/problem';
import type { Schemas } from '../api/client';
import { ProblemAlert } from './common';
import { CommandOutcome } from './CommandOutcome';
import { ScheduleChart } from '../charts/lazy';

export type Purpose = 'ChargingStationMaxProfile' | 'TxDefaultProfile' | 'TxProfile' | 'ChargingStationExternalConstraints';
export type Kind = 'Absolute' | 'Recurring' | 'Relative';

export interface Period {
  startMinutes: number;
  limit: number;
  numberPhases?: number;
}

export interface ProfileDraft {
  evseId: number;
  id: number;
  stackLevel: number;
  purpose: Purpose;
  kind: Kind;
  recurrencyKind?: 'Daily' | 'Weekly';
  unit: 'A' | 'W';
  validFrom?: Date | null;
  validTo?: Date | null;
  startSchedule?: Date | null;
  durationMinutes?: number | null;
  transactionId?: string;
  periods: Period[];
}

export const emptyDraft = (): ProfileDraft => ({
  evseId: 1,
  id: 1,
  stackLevel: 0,
  purpose: 'TxDefaultProfile',
  kind: 'Absolute',
  unit: 'A',
  startSchedule: null,
  durationMinutes: null,
  periods: [{ startMinutes: 0, limit: 16 }],
});

/** The set-charging-profile body of a draft (what the API's schema takes). */
export function buildBody(d: ProfileDraft): Schemas['SetChargingProfile'] {
  const periods = [...d.periods]
    .sort((a, b) => a.startMinutes - b.startMinutes)
    .map((p) => ({
      startPeriod: Math.round(p.startMinutes * 60),
      limit: p.limit,
      ...(p.numberPhases ? { numberPhases: p.numberPhases } : {}),
    }));
  const schedule: Schemas['ChargingSchedule'] = {
    chargingRateUnit: d.unit,
    chargingSchedulePeriod: periods,
    ...(d.durationMinutes ? { duration: Math.round(d.durationMinutes * 60) } : {}),
    ...(d.startSchedule && d.kind !== 'Relative' ? { startSchedule: d.startSchedule.toISOString() } : {}),
  };
  return {
    evseId: d.evseId,
    chargingProfile: {
      id: d.id,
      stackLevel: d.stackLevel,
      chargingProfilePurpose: d.purpose,
      chargingProfileKind: d.kind,
      ...(d.kind === 'Recurring' ? { recurrencyKind: d.recurrencyKind ?? 'Daily' } : {}),
      ...(d.validFrom ? { validFrom: d.validFrom.toISOString() } : {}),
      ...(d.validTo ? { validTo: d.validTo.toISOString() } : {}),
      ...(d.purpose === 'TxProfile' && d.transactionId ? { transactionId: d.transactionId } : {}),
      chargingSchedule: [schedule],
    },
  };
}

/** The API's message for a body field, by its path below `body.`, and those below it. */
function fieldError(error: unknown, path: string): string | undefined {
  if (!(error instanceof ApiError)) return undefined;
  const errors = error.bodyFieldErrors();
  const hits = Object.entries(errors).filter(([k]) => k === path);
  return hits.length ? hits.map(([, m]) => m).join('; ') : undefined;
}

const P = 'chargingProfile';
const S = `${P}.chargingSchedule.0`;

export interface ProfileEditorProps {
  stationId: string | null;
  evses?: number[];
  initial?: ProfileDraft;
  onSent?: (command: Schemas['CommandOut']) => void;
}

export function ProfileEditor({ stationId, evses, initial, onSent }: ProfileEditorProps) {
  const api = useApi();
  const [d, setD] = useState<ProfileDraft>(initial ?? emptyDraft());
  const [error, setError] = useState<unknown>(null);
  const [sent, setSent] = useState<Schemas['CommandOut'] | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (patch: Partial<ProfileDraft>) => setD((prev) => ({ ...prev, ...patch }));
  const setPeriod = (i: number, patch: Partial<Period>) =>
    setD((prev) => ({ ...prev, periods: prev.periods.map((p, j) => (j === i ? { ...p, ...patch } : p)) }));
  const num = (v: number | string, fallback = 0) => (typeof v === 'number' ? v : v === '' ? fallback : Number(v));
  const body = buildBody(d);
  const schedule = body.chargingProfile.chargingSchedule[0];

  async function send() {
    if (!stationId) return;
    setBusy(true);
    setError(null);
    setSent(null);
    try {
      const r = await api.POST('/api/v1/stations/{stationId}/commands/set-charging-profile', {
        params: { path: { stationId } },
        body,
      });
      if (r.data) {
        setSent(r.data);
        onSent?.(r.data);
      }
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Stack>
      <SimpleGrid cols={{ base: 1, sm: 2, md: 4 }}>
        {evses && evses.length ? (
          <Select
            label="EVSE"
            description="0 = the whole station"
            data={['0', ...evses.map(String)]}
            value={String(d.evseId)}
            onChange={(v) => set({ evseId: Number(v ?? 0) })}
            allowDeselect={false}
            error={fieldError(error, 'evseId')}
          />
        ) : (
          <NumberInput label="EVSE" description="0 = the whole station" min={0} value={d.evseId} onChange={(v) => set({ evseId: num(v) })} error={fieldError(error, 'evseId')} />
        )}
        <NumberInput label="Profile id" min={0} value={d.id} onChange={(v) => set({ id: num(v) })} error={fieldError(error, `${P}.id`)} />
        <NumberInput label="Stack level" min={0} value={d.stackLevel} onChange={(v) => set({ stackLevel: num(v) })} error={fieldError(error, `${P}.stackLevel`)} />
        <Select
          label="Purpose"
          data={['ChargingStationMaxProfile', 'TxDefaultProfile', 'TxProfile', 'ChargingStationExternalConstraints']}
          value={d.purpose}
          onChange={(v) => set({ purpose: (v ?? 'TxDefaultProfile') as Purpose })}
          allowDeselect={false}
          error={fieldError(error, `${P}.chargingProfilePurpose`)}
        />
        <Select
          label="Kind"
          data={['Absolute', 'Recurring', 'Relative']}
          value={d.kind}
          onChange={(v) => set({ kind: (v ?? 'Absolute') as Kind })}
          allowDeselect={false}
          error={fieldError(error, `${P}.chargingProfileKind`)}
        />
        {d.kind === 'Recurring' ? (
          <Select
            label="Recurrency"
            data={['Daily', 'Weekly']}
            value={d.recurrencyKind ?? 'Daily'}
            onChange={(v) => set({ recurrencyKind: (v ?? 'Daily') as 'Daily' | 'Weekly' })}
            allowDeselect={false}
            error={fieldError(error, `${P}.recurrencyKind`)}
          />
        ) : null}
        <Select
          label="Unit"
          data={[
            { value: 'A', label: 'A (current)' },
            { value: 'W', label: 'W (power)' },
          ]}
          value={d.unit}
          onChange={(v) => set({ unit: (v ?? 'A') as 'A' | 'W' })}
          allowDeselect={false}
          error={fieldError(error, `${S}.chargingRateUnit`)}
        />
        {d.purpose === 'TxProfile' ? (
          <TextInput label="Transaction id" value={d.transactionId ?? ''} onChange={(e) => set({ transactionId: e.currentTarget.value })} error={fieldError(error, `${P}.transactionId`)} />
        ) : null}
        <DateTimePicker label="Valid from" clearable value={d.validFrom ?? null} onChange={(v) => set({ validFrom: v ? new Date(v) : null })} error={fieldError(error, `${P}.validFrom`)} />
        <DateTimePicker label="Valid to" clearable value={d.validTo ?? null} onChange={(v) => set({ validTo: v ? new Date(v) : null })} error={fieldError(error, `${P}.validTo`)} />
        {d.kind !== 'Relative' ? (
          <DateTimePicker
            label="Schedule start"
            clearable
            value={d.startSchedule ?? null}
            onChange={(v) => set({ startSchedule: v ? new Date(v) : null })}
            error={fieldError(error, `${S}.startSchedule`)}
          />
        ) : null}
        <NumberInput
          label="Duration (minutes)"
          min={0}
          value={d.durationMinutes ?? ''}
          onChange={(v) => set({ durationMinutes: v === '' ? null : num(v) })}
          error={fieldError(error, `${S}.duration`)}
        />
      </SimpleGrid>

      <div>
        <Title order={3} size="h5" mb="xs">
          Periods
        </Title>
        <Table aria-label="Periods">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Starts after (minutes)</Table.Th>
              <Table.Th>Limit ({d.unit})</Table.Th>
              <Table.Th>Phases</Table.Th>
              <Table.Th>Remove</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {d.periods.map((p, i) => {
              const sortedIndex = [...d.periods].sort((a, b) => a.startMinutes - b.startMinutes).indexOf(p);
              const at = `${S}.chargingSchedulePeriod.${sortedIndex}`;
              return (
                <Table.Tr key={i}>
                  <Table.Td>
                    <NumberInput
                      aria-label={`Period ${i + 1} start (minutes)`}
                      min={0}
                      // Not clamped: a negative value typed here goes to the API, whose refusal shows
                      // at this field (clamped on blur, -5 A would silently become 0 A, a pause).
                      clampBehavior="none"
                      value={p.startMinutes}
                      onChange={(v) => setPeriod(i, { startMinutes: num(v) })}
                      error={fieldError(error, `${at}.startPeriod`)}
                    />
                  </Table.Td>
                  <Table.Td>
                    <NumberInput
                      aria-label={`Period ${i + 1} limit`}
                      min={0}
                      // Not clamped: a negative value typed here goes to the API, whose refusal shows
                      // at this field (clamped on blur, -5 A would silently become 0 A, a pause).
                      clampBehavior="none"
                      decimalScale={1}
                      value={p.limit}
                      onChange={(v) => setPeriod(i, { limit: num(v) })}
                      error={fieldError(error, `${at}.limit`)}
                    />
                  </Table.Td>
                  <Table.Td>
                    <Select
                      aria-label={`Period ${i + 1} phases`}
                      data={[
                        { value: '', label: 'default' },
                        { value: '1', label: '1' },
                        { value: '3', label: '3' },
                      ]}
                      value={p.numberPhases ? String(p.numberPhases) : ''}
                      onChange={(v) => setPeriod(i, { numberPhases: v ? Number(v) : undefined })}
                      allowDeselect={false}
                      error={fieldError(error, `${at}.numberPhases`)}
                    />
                  </Table.Td>
                  <Table.Td>
                    <ActionIcon
                      variant="subtle"
                      color="red"
                      aria-label={`Remove period ${i + 1}`}
                      disabled={d.periods.length === 1}
                      onClick={() => setD((prev) => ({ ...prev, periods: prev.periods.filter((_, j) => j !== i) }))}
                    >
                      ✕
                    </ActionIcon>
                  </Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
        <Button
          variant="light"
          size="xs"
          mt="xs"
          onClick={() =>
            setD((prev) => {
              const last = prev.periods.reduce((m, p) => Math.max(m, p.startMinutes), 0);
              const limit = prev.periods[prev.periods.length - 1]?.limit ?? 16;
              return { ...prev, periods: [...prev.periods, { startMinutes: last + 60, limit }] };
            })
          }
        >
          Add period
        </Button>
        {fieldError(error, `${S}.chargingSchedulePeriod`) ? (
          <Text c="red" size="sm" role="alert">
            {fieldError(error, `${S}.chargingSchedulePeriod`)}
          </Text>
        ) : null}
      </div>

      <Card withBorder>
        <ScheduleChart
          title="Profile preview"
          periods={schedule.chargingSchedulePeriod}
          unit={d.unit}
          durationSeconds={schedule.duration}
          start={schedule.startSchedule ?? null}
        />
      </Card>

      {stationId !== null ? (
        <Group>
          <Button onClick={send} loading={busy} disabled={!stationId}>
            Send profile
          </Button>
          {!stationId ? <Text size="sm" c="dimmed">Choose a station first.</Text> : null}
        </Group>
      ) : null}
      <ProblemAlert error={error} title="The profile was not accepted" />
      {sent ? <CommandOutcome command={sent} /> : null}
    </Stack>
  );
}
