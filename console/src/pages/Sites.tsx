import { Anchor } from '@mantine/core';
import { Link } from 'react-router-dom';
import { useApi } from '../context';
import { data, type Schemas } from '../api/client';
import { bodySchema } from '../api/commands';
import { CrudList } from '../components/CrudList';

type Site = Schemas['SiteOut'];

/** The tenant's sites (load management); each opens its single-line diagram. */
export default function SitesPage() {
  const api = useApi();
  return (
    <CrudList<Site>
      title="Sites"
      queryKey="sites"
      load={async (limit, offset) => data(await api.GET('/api/v1/sites', { params: { query: { limit, offset } } }))}
      rowKey={(s) => s.id}
      columns={[
        ['Name', (s) => <Anchor component={Link} to={`/sites/${encodeURIComponent(s.id)}`}>{s.name}</Anchor>],
        ['Id', (s) => s.id],
        ['Location', (s) => s.locationId ?? '—'],
        ['Voltage', (s) => `${s.nominalVoltageV} V`],
        ['Headroom', (s) => `${s.headroomA} A`],
      ]}
      create={{
        label: 'Add site',
        role: 'admin',
        schema: bodySchema('SiteCreate'),
        validatorKey: 'SiteCreate',
        send: async (body) => {
          await api.POST('/api/v1/sites', { body: body as Schemas['SiteCreate'] });
        },
      }}
    />
  );
}
