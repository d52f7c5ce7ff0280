import { useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { Anchor, Button } from '@mantine/core';
import { Link } from 'react-router-dom';
import { useApi } from '../context';
import { data, type Schemas } from '../api/client';
import { bodySchema } from '../api/commands';
import { CrudList } from '../components/CrudList';
import { ProblemAlert } from '../components/common';

type Location = Schemas['LocationOut'];

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
      actions={(l) => <Remove location={l} />}
    />
  );
}
