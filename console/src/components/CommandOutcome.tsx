import { useQuery } from '@tanstack/react-query';
import { Badge, Code, Group, Paper, Text } from '@mantine/core';
import { useApi } from '../context';
import { data, type Schemas } from '../api/client';
import { formatTime, ProblemAlert } from './common';

const COLOR: Record<string, string> = {
  queued: 'gray',
  sent: 'yellow',
  accepted: 'green',
  rejected: 'orange',
  failed: 'red',
  timed_out: 'red',
};

export function CommandStatusBadge({ status }: { status: string }) {
  return (
    <Badge color={COLOR[status] ?? 'gray'} variant="light">
      {status.replace('_', ' ')}
    </Badge>
  );
}

/** A command's outcome, updated live (CommandFinished invalidates ['command', id]). */
export function CommandOutcome({ command }: { command: Schemas['CommandOut'] }) {
  const api = useApi();
  const current = useQuery({
    queryKey: ['command', command.id],
    queryFn: async () => data(await api.GET('/api/v1/commands/{commandId}', { params: { path: { commandId: command.id } } })),
    initialData: command,
    staleTime: 0,
  });
  const c = current.data;
  return (
    <Paper withBorder p="sm" mt="sm" role="status" aria-label="Command outcome">
      <Group gap="xs">
        <Text fw={600}>{c.name}</Text>
        <CommandStatusBadge status={c.status} />
        <Text size="xs" c="dimmed">
          {formatTime(c.finishedAt ?? c.sentAt ?? c.createdAt)}
        </Text>
      </Group>
      {c.reason || c.errorCode ? (
        <Text size="sm" mt={4}>
          {[c.errorCode, c.reason].filter(Boolean).join(': ')}
        </Text>
      ) : null}
      {c.generatedPassword ? (
        <Text size="sm" mt={4}>
          Generated password (shown once): <Code>{c.generatedPassword}</Code>
        </Text>
      ) : null}
      {c.transaction ? (
        <Text size="sm" mt={4}>
          Transaction {c.transaction.transactionId}
        </Text>
      ) : null}
      {c.result || c.response ? (
        <Code block mt={4} style={{ maxHeight: 200, overflow: 'auto' }}>
          {JSON.stringify(c.result ?? c.response, null, 2)}
        </Code>
      ) : null}
      <ProblemAlert error={current.error} />
    </Paper>
  );
}
