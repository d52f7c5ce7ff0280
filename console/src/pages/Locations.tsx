import { useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { Anchor, Button, Group, Stack, TextInput } from '@mantine/core';
import { ModalDialog } from '../components/ModalDialog';
import { Link } from 'react-router-dom';
import { useApi } from '../context';
import { data, type Schemas } from '../api/client';
import { bodySchema } from '../api/commands';
import { CrudList } from '../components/CrudList';
import { ProblemAlert } from '../components/common';
import { ApiError, describeError } from '../api/problem';

type Location = Schemas['LocationOut'];

/** Puts a station at the location (moved from any other); the API's refusal shows under the field. */
function Assign({ location, onClose }: { location: Location; onClose: () => void }) {
  const api = useApi();
  const client = useQueryClient();
  const [stationId, setStationId] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  async function assign() {
    setBusy(true);
    setError(null);
    try {
      await api.POST('/api/v1/locations/{locationId}/stations', {
        params: { path: { locationId: location.id } },
        body: { stationIds: [stationId.trim()] },
      });
      onClose();
      await Promise.all([client.invalidateQueries({ queryKey: ['locations'] }), client.invalidateQueries({ queryKey: ['stations'] })]);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  // A 404 (no such station) or a 422 on stationIds belongs to the field; a 403 or 429 does not.
  const fieldError = error instanceof ApiError && (error.status === 404 || error.status === 422) ? describeError(error) : null;
  return (
    <ModalDialog opened onClose={onClose} title={`Assign a station to ${location.name}`}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void assign();
        }}
      >
        <Stack>
          <TextInput label="Station id" required value={stationId} onChange={(e) => setStationId(e.currentTarget.value)} error={fieldError} data-autofocus />
          {error && !fieldError ? <ProblemAlert error={error} /> : null}
          <Group justify="flex-end">
            <Button type="submit" loading={busy} disabled={!stationId.trim()}>
              Assign station
            </Button>
          </Group>
        </Stack>
      </form>
    </ModalDialog>
  );
}

function Actions({ location }: { location: Location }) {
  const [assigning, setAssigning] = useState(false);
  return (
    <Group gap={4} wrap="nowrap" align="flex-start">
      <Button size="xs" variant="default" aria-label={`Assign a station to ${location.name}`} onClick={() => setAssigning(true)}>
        Assign station
      </Button>
      <Remove location={location} />
      {assigning ? <Assign location={location} onClose={() => setAssigning(false)} /> : null}
    </Group>
  );
}

function Remove({ location }: { location: Location }) {
  const api = useApi();
  const client = useQueryClient();
  const [error, setError] = useState<unknown>(null);
  return (
    <>
      <Button
        size="xs"
        variant="subtle"
        color="red"
        aria-label={`Delete location ${location.name}`}
        onClick={async () => {
          setError(null);
          try {
            await api.DELETE('/api/v1/locations/{locationId}', { params: { path: { locationId: location.id } } });
            await client.invalidateQueries({ queryKey: ['locations'] });
          } catch (e) {
            setError(e);
          }
        }}
      >
        Delete
      </Button>
      <ProblemAlert error={error} />
    </>
  );
}

export default function LocationsPage() {
  const api = useApi();
  return (
    <CrudList<Location>
      title="Locations"
      queryKey="locations"
      load={async (limit, offset) => data(await api.GET('/api/v1/locations', { params: { query: { limit, offset } } }))}
      rowKey={(l) => l.id}
      columns={[
        ['Name', (l) => l.name],
        ['Id', (l) => l.id],
        ['Address', (l) => [l.address, l.postalCode, l.city, l.country].filter(Boolean).join(', ') || '—'],
        ['Stations', (l) => <Anchor component={Link} to={`/fleet?locationId=${encodeURIComponent(l.id)}`}>{l.stationCount}</Anchor>],
      ]}
      create={{
        label: 'Add location',
        role: 'admin',
        schema: bodySchema('LocationCreate'),
        validatorKey: 'LocationCreate',
        send: async (body) => {
          await api.POST('/api/v1/locations', { body: body as Schemas['LocationCreate'] });
        },
      }}
      actions={(l) => <Actions location={l} />}
    />
  );
}
