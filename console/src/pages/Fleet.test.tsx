import { describe, expect, it } from 'vitest';
import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { FleetPage } from './Fleet';
import { fakeApi, renderPage, signInAs, type Call } from '../test/harness';
import { page, station } from '../test/fixtures';

function api({ method, url }: Call) {
  if (method !== 'GET') return undefined;
  if (url.pathname === '/api/v1/stations') {
    const q = url.searchParams.get('q');
    const all = [station('CP-1'), station('CP-2', { online: false })];
    return { body: page(all.filter((s) => !q || s.id.startsWith(q))) };
  }
  if (/^\/api\/v1\/stations\/CP-[12]\/evses$/.test(url.pathname)) return { body: station('CP-1').evses };
  if (url.pathname === '/api/v1/locations') return { body: page([]) };
  return undefined;
}

describe('fleet page', () => {
  it('lists the stations with connection, protocol and connector states', async () => {
    signInAs('viewer');
    fakeApi(api);
    renderPage(<FleetPage />, { route: '/fleet', path: '/fleet' });
    const table = await screen.findByRole('table', { name: 'Stations' });
    const row = (await within(table).findByRole('link', { name: 'CP-2' })).closest('tr')!;
    expect(within(row).getByText('Offline')).toBeInTheDocument();
    expect(within(row).getByText('ocpp2.0.1')).toBeInTheDocument();
    expect(await within(row).findByTitle('EVSE 1 connector 1: Occupied')).toBeInTheDocument();
    expect(screen.getByText('2 stations')).toBeInTheDocument();
  });

  it('searches by the start of the station id, on the server', async () => {
    signInAs('viewer');
    const { calls } = fakeApi(api);
    renderPage(<FleetPage />, { route: '/fleet', path: '/fleet' });
    const table = await screen.findByRole('table', { name: 'Stations' });
    await within(table).findByRole('link', { name: 'CP-1' });
    await userEvent.type(screen.getByRole('textbox', { name: 'Search stations' }), 'CP-2');
    await expect.poll(() => within(table).queryByRole('link', { name: 'CP-1' })).toBeNull();
    expect(within(table).getByRole('link', { name: 'CP-2' })).toBeInTheDocument();
    expect(calls.some((c) => c.url.searchParams.get('q') === 'CP-2')).toBe(true);
  });
});
