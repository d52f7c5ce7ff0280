import { useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { Button, Group, Select } from '@mantine/core';
import { useApi } from '../context';
import { data, type Schemas } from '../api/client';
import { bodySchema } from '../api/commands';
import { CrudList } from '../components/CrudList';
import { formatTime, ProblemAlert } from '../components/common';

type User = Schemas['UserOut'];

function Actions({ user }: { user: User }) {
  const api = useApi();
  const client = useQueryClient();
  const [error, setError] = useState<unknown>(null);
  async function run(action: () => Promise<unknown>) {
    setError(null);
    try {
      await action();
      await client.invalidateQueries({ queryKey: ['users'] });
    } catch (e) {
      setError(e);
    }
  }
  return (
    <>
      <Group gap={4} wrap="nowrap">
        <Select
          aria-label={`Role of ${user.email}`}
          data={['viewer', 'operator', 'admin']}
          value={user.role}
          allowDeselect={false}
          w={120}
          size="xs"
          onChange={(role) =>
            role &&
            run(() => api.PATCH('/api/v1/users/{userId}', { params: { path: { userId: user.id } }, body: { role: role as Schemas['UserUpdate']['role'] } }))
          }
        />
        <Button
          size="xs"
          variant="subtle"
          color="red"
          aria-label={`Remove ${user.email}`}
          onClick={() => run(() => api.DELETE('/api/v1/users/{userId}', { params: { path: { userId: user.id } } }))}
        >
          Remove
        </Button>
      </Group>
      <ProblemAlert error={error} />
    </>
  );
}

export default function UsersPage() {
  const api = useApi();
  return (
    <CrudList<User>
      title="Users"
      queryKey="users"
      load={async (limit, offset) => data(await api.GET('/api/v1/users', { params: { query: { limit, offset } } }))}
      rowKey={(u) => u.id}
      columns={[
        ['Email', (u) => u.email],
        ['Role', (u) => u.role],
        ['Status', (u) => `${u.status}${u.enabled ? '' : ' (disabled)'}`],
        ['Created', (u) => formatTime(u.createdAt)],
      ]}
      create={{
        label: 'Invite user',
        role: 'admin',
        schema: bodySchema('UserCreate'),
        validatorKey: 'UserCreate',
        send: async (body) => {
          await api.POST('/api/v1/users', { body: body as Schemas['UserCreate'] });
        },
      }}
      actions={(u) => <Actions user={u} />}
    />
  );
}
