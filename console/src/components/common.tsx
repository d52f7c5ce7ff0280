import type { ReactNode } from 'react';
import { Alert, Badge, Center, Loader, Text } from '@mantine/core';
import { describeError } from '../api/problem';
import { useCan } from '../context';
import type { Role } from '../auth/session';

/** An API problem in words (role="alert" so it is announced). */
export function ProblemAlert({ error, title = 'Something went wrong' }: { error: unknown; title?: string }) {
  if (!error) return null;
  return (
    <Alert color="red" title={title} role="alert" my="sm">
      {describeError(error)}
    </Alert>
  );
}

export function Loading({ label = 'Loading' }: { label?: string }) {
  return (
    <Center p="md">
      <Loader size="sm" role="status" aria-label={label} />
    </Center>
  );
}

/** Renders its children only for a role at least `role` (a viewer sees no action buttons). */
export function RequireRole({ role, children }: { role: Role; children: ReactNode }) {
  return useCan(role) ? <>{children}</> : null;
}

const STATE_COLOR: Record<string, string> = {
  Available: 'green',
  Occupied: 'blue',
  Charging: 'blue',
  Reserved: 'violet',
  Unavailable: 'gray',
  Faulted: 'red',
};

export function StateBadge({ state, label }: { state: string; label?: string }) {
  return (
    // At its full width: squeezed into a narrow column (a tablet) a badge would cut its word short.
    <Badge color={STATE_COLOR[state] ?? 'gray'} variant="light" title={label} miw="max-content">
      {state}
    </Badge>
  );
}

export function OnlineBadge({ online }: { online: boolean }) {
  return (
    <Badge color={online ? 'green' : 'gray'} variant={online ? 'filled' : 'outline'}>
      {online ? 'Online' : 'Offline'}
    </Badge>
  );
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

export function formatPower(watts: number | null | undefined): string {
  if (watts === null || watts === undefined) return '—';
  return watts >= 1000 ? `${(watts / 1000).toFixed(1)} kW` : `${Math.round(watts)} W`;
}

export function formatEnergy(wh: number | null | undefined): string {
  if (wh === null || wh === undefined) return '—';
  return wh >= 1000 ? `${(wh / 1000).toFixed(2)} kWh` : `${wh} Wh`;
}

/** Energy in kWh to the watt-hour (a running session's few Wh read as 0.003 kWh, not as "—"). */
export function formatKwh(wh: number | null | undefined): string {
  if (wh === null || wh === undefined) return '—';
  return `${(wh / 1000).toFixed(3)} kWh`;
}

export function Muted({ children }: { children: ReactNode }) {
  return (
    <Text c="dimmed" size="sm">
      {children}
    </Text>
  );
}
