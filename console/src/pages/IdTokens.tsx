import { useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { Badge, Button, Group, TextInput } from '@mantine/core';
import { ModalDialog } from '../components/ModalDialog';
import type { UiSchema } from '@rjsf/utils';
import { useApi } from '../context';
import { data, type Schemas } from '../api/client';
import { bodySchema } from '../api/commands';
import { CrudList } from '../components/CrudList';
import { LazySchemaForm } from '../components/LazyCommandForm';
import { formatTime, ProblemAlert } from '../components/common';

type Token = Schemas['IdTokenOut'];

/** The expiry date as ISO 8601 text (the API's words for a bad one land under it). */
const UI: UiSchema = {
  'ui:order': ['status', 'expiryDate', 'groupIdToken', '*'],
  expiryDate: { 'ui:widget': 'text', 'ui:placeholder': '2027-01-01T00:00:00Z' },
};
/** The create form: the token itself first. */
const CREATE_UI: UiSchema = { ...UI, 'ui:order': ['idToken', 'type', ...(UI['ui:order'] as string[])] };

function Edit({ token, onClose }: { token: Token; onClose: () => void }) {
  const api = useApi();
  const client = useQueryClient();
  const initial: Record<string, unknown> = { status: token.status };
  if (token.expiryDate) initial.expiryDate = token.expiryDate;
  if (token.groupIdToken) initial.groupIdToken = token.groupIdToken;
  return (
    <ModalDialog opened onClose={onClose} title={`Edit id token ${token.idToken}`} size="lg">
      <LazySchemaForm
        schema={bodySchema('IdTokenUpdate')}
        submitText="Save id token"
        idPrefix="id-token-edit"
        validatorKey="IdTokenUpdate"
        uiSchema={UI}
        initial={initial}
        onSubmit={async (body) => {
          await api.PATCH('/api/v1/id-tokens/{type}/{idToken}', {
            params: { path: { type: token.type, idToken: token.idToken } as never },
            body: body as Schemas['IdTokenUpdate'],
          });
          onClose();
          await client.invalidateQueries({ queryKey: ['id-tokens'] });
        }}
      />
    </ModalDialog>
  );
}

function Actions({ token }: { token: Token }) {
  const api = useApi();
  const client = useQueryClient();
  const [error, setError] = useState<unknown>(null);
  const path = { type: token.type, idToken: token.idToken };
  async function run(action: () => Promise<unknown>) {
    setError(null);
    try {
      await action();
      await client.invalidateQueries({ queryKey: ['id-tokens'] });
    } catch (e) {
      setError(e);
    }
  }
  const blocked = token.status === 'Blocked';
  const [editing, setEditing] = useState(false);
  return (
    <>
      <Group gap={4} wrap="nowrap">
        <Button size="xs" variant="default" aria-label={`Edit ${token.idToken}`} onClick={() => setEditing(true)}>
          Edit
        </Button>
        <Button
          size="xs"
          variant="light"
          aria-label={`${blocked ? 'Unblock' : 'Block'} ${token.idToken}`}
          onClick={() =>
            run(() =>
              api.PATCH('/api/v1/id-tokens/{type}/{idToken}', {
                params: { path: path as never },
                body: { status: blocked ? 'Accepted' : 'Blocked' },
              }),
            )
          }
        >
          {blocked ? 'Unblock' : 'Block'}
        </Button>
        <Button
          size="xs"
          variant="subtle"
          color="red"
          aria-label={`Delete ${token.idToken}`}
          onClick={() => run(() => api.DELETE('/api/v1/id-tokens/{type}/{idToken}', { params: { path: path as never } }))}
        >
          Delete
        </Button>
      </Group>
      <ProblemAlert error={error} />
      {editing ? <Edit token={token} onClose={() => setEditing(false)} /> : null}
    </>
  );
}

export default function IdTokensPage() {
  const api = useApi();
  const [q, setQ] = useState('');
  return (
    <CrudList<Token>
      title="Id tokens"
      queryKey="id-tokens"
      params={q}
      filters={<TextInput label="Search id tokens" placeholder="value starts with…" value={q} onChange={(e) => setQ(e.currentTarget.value)} maw={280} mb="md" />}
      load={async (limit, offset) => data(await api.GET('/api/v1/id-tokens', { params: { query: { limit, offset, ...(q ? { q } : {}) } } }))}
      rowKey={(t) => `${t.type}/${t.idToken}`}
      columns={[
        ['Id token', (t) => t.idToken],
        ['Type', (t) => t.type],
        ['Status', (t) => <Badge color={t.effectiveStatus === 'Accepted' ? 'green' : 'red'} variant="light">{t.effectiveStatus}</Badge>],
        ['Group', (t) => t.groupIdToken?.idToken ?? '—'],
        ['Expiry', (t) => formatTime(t.expiryDate)],
      ]}
      create={{
        label: 'Add id token',
        role: 'admin',
        schema: bodySchema('IdTokenCreate'),
        validatorKey: 'IdTokenCreate',
        uiSchema: CREATE_UI,
        send: async (body) => {
          await api.POST('/api/v1/id-tokens', { body: body as Schemas['IdTokenCreate'] });
        },
      }}
      actions={(t) => <Actions token={t} />}
    />
  );
}
