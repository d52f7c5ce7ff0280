import { describe, expect, it, vi } from 'vitest';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import SitePage from '../pages/Site';
import SitesPage from '../pages/Sites';
import { keysFor } from '../live/invalidate';
import { fakeApi, renderPage, signInAs, type Call } from '../test/harness';
import { page } from '../test/fixtures';
import { allocation, nodes, site } from './fixtures';
import { buildTree, evseState, loadLevel } from './model';

function api({ method, url }: Call) {
  if (method !== 'GET') return undefined;
  if (url.pathname === '/api/v1/sites') return { body: page([site]) };
  if (url.pathname === '/api/v1/sites/yard') return { body: site };
  if (url.pathname === '/api/v1/sites/yard/nodes') return { body: { siteId: 'yard', nodes } };
  if (url.pathname === '/api/v1/sites/yard/allocation') return { body: allocation };
  return undefined;
}

const openSite = () => renderPage(<SitePage />, { route: '/sites/yard', path: '/sites/:siteId' });

describe('the site model', () => {
  it('builds the tree from the grid down, with each node its load', () => {
    const [grid] = buildTree(nodes, allocation);
    expect(grid.node.id).toBe('grid');
    expect(grid.children.map((c) => c.node.id)).toEqual(['feeder-1', 'cp-2-1']);
    expect(grid.children[0].children[0].children.map((c) => c.evse?.limitA)).toEqual([16, 0]);
  });

  it('grades a load against its limit', () => {
    expect([loadLevel(10, 63), loadLevel(57, 63), loadLevel(64, 63), loadLevel(5, null)]).toEqual(['ok', 'near', 'over', 'unlimited']);
    expect(allocation.evses.map(evseState)).toEqual(['charging', 'paused', 'maximum']);
  });

  it("invalidates a site's allocation when an AllocationChanged event for it arrives", () => {
    const event = { id: 'e1', type: 'AllocationChanged', version: 1, tenantId: 'default', stationId: null, occurredAt: '', correlationId: '', data: { siteId: 'yard' } };
    expect(keysFor(event)).toContainEqual(['site', 'yard', 'allocation']);
  });
});

describe('site page', () => {
  it('lists the sites, each a link to its diagram', async () => {
    signInAs('viewer');
    fakeApi(api);
    renderPage(<SitesPage />);
    const table = await screen.findByRole('table', { name: 'Sites' });
    expect(await within(table).findByRole('link', { name: 'Depot yard' })).toHaveAttribute('href', '/sites/yard');
    expect(screen.queryByRole('button', { name: 'Add site' })).not.toBeInTheDocument();
  });

  it('draws the tree with every limit and load, an over-limit phase as such, and gives a viewer no action', async () => {
    signInAs('viewer');
    fakeApi(api);
    openSite();
    const diagram = await screen.findByRole('list', { name: 'Single-line diagram of Depot yard' });
    const grid = await within(diagram).findByRole('group', { name: 'Grid connection Grid connection' });
    // the grid: L2 over its limit, L1 near it, L3 fine, the power against its 40 kW
    expect(within(grid).getByRole('meter', { name: 'Grid connection L2' })).toHaveAttribute('aria-valuetext', '64 A of 63 A, over limit');
    expect(within(grid).getByRole('meter', { name: 'Grid connection L2' })).toHaveAttribute('data-level', 'over');
    expect(within(grid).getByRole('meter', { name: 'Grid connection L1' })).toHaveAttribute('aria-valuetext', '57 A of 63 A, near limit');
    expect(within(grid).getByRole('meter', { name: 'Grid connection L3' })).toHaveAttribute('data-level', 'ok');
    expect(within(grid).getByRole('meter', { name: 'Grid connection power' })).toHaveAttribute('aria-valuetext', '33.8 kW of 40 kW');
    expect(within(grid).getByText('Overloaded')).toBeInTheDocument();
    // the feeder: a schedule lowered L3 to 20 A
    const feeder = within(diagram).getByRole('group', { name: 'Circuit feeder-1' });
    expect(within(feeder).getByRole('meter', { name: 'feeder-1 L3' })).toHaveAttribute('aria-valuetext', '16 A of 20 A');
    expect(within(feeder).getByText('lowered from 32 A by its schedule')).toBeInTheDocument();
    // the station below the feeder, not limited itself; its EVSEs below it
    const station = within(diagram).getByRole('group', { name: 'Station CP-1' });
    expect(within(station).getByRole('meter', { name: 'CP-1 L1' })).toHaveAttribute('aria-valuetext', '16 A of no limit, not limited');
    const charging = within(diagram).getByRole('group', { name: 'EVSE CP-1 EVSE 1' });
    expect(within(charging).getByRole('meter', { name: 'CP-1 EVSE 1 allocated current' })).toHaveAttribute('aria-valuetext', '16 A of 32 A');
    expect(within(charging).getByText('Charging')).toBeInTheDocument();
    expect(within(charging).getByText('Wiring: L1→L1, L2→L2, L3→L3')).toBeInTheDocument();
    const paused = within(diagram).getByRole('group', { name: 'EVSE CP-1 EVSE 2' });
    expect(within(paused).getByText('Paused at 0 A')).toBeInTheDocument();
    expect(within(paused).getByText('Wiring: L1→L2, L2→L3, L3→L1')).toBeInTheDocument();
    const offline = within(diagram).getByRole('group', { name: 'EVSE CP-2 EVSE 1' });
    expect(within(offline).getByText('Counted at maximum')).toBeInTheDocument();
    expect(within(offline).getByText('Wiring: L2 (single-phase)')).toBeInTheDocument();
    // the tree's shape: the station's list of EVSEs sits inside the feeder's branch
    const feederBranch = feeder.closest('li') as HTMLElement;
    expect(within(feederBranch).getByRole('group', { name: 'EVSE CP-1 EVSE 2' })).toBeInTheDocument();
    expect(within(feederBranch).queryByRole('group', { name: 'EVSE CP-2 EVSE 1' })).not.toBeInTheDocument();
    // a viewer: no action anywhere
    expect(screen.queryByRole('button', { name: /Change limits/ })).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Reallocate now' })).not.toBeInTheDocument();
  });

  it('shows the tree without loads while the site has no allocation yet', async () => {
    signInAs('viewer');
    fakeApi((call) =>
      call.url.pathname === '/api/v1/sites/yard/allocation'
        ? { status: 404, body: { title: 'Not Found', status: 404, detail: "site 'yard' has no allocation yet" } }
        : api(call),
    );
    openSite();
    expect(await screen.findByText('No allocation yet: limits only.')).toBeInTheDocument();
    expect(screen.getByRole('meter', { name: 'feeder-1 L1' })).toHaveAttribute('aria-valuetext', 'no load known of 32 A');
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it("refreshes the allocation when the live feed brings the site's AllocationChanged", async () => {
    signInAs('viewer');
    let served = false;
    let delivered = false;
    const later = { ...allocation, id: 42, cause: 'LoadPosted', evses: allocation.evses.map((e) => (e.nodeId === 'cp-1-2' ? { ...e, limitA: 10, paused: false } : e)) };
    const { fetchMock } = fakeApi((call) => {
      const { url } = call;
      if (url.pathname === '/api/v1/events' && !url.searchParams.has('after')) return { body: { items: [], cursor: 10 } };
      // The event comes once the page has its first allocation (an empty page of the feed till then).
      if (url.pathname === '/api/v1/events' && url.searchParams.get('after') === '10' && !served) return { body: { items: [], cursor: 10 } };
      if (url.pathname === '/api/v1/events' && url.searchParams.get('after') === '10' && !delivered) {
        delivered = true;
        const event = { id: 'e11', type: 'AllocationChanged', version: 1, tenantId: 'default', stationId: null, occurredAt: '2026-01-01T00:06:00Z', correlationId: 'x', sequence: 11, data: { siteId: 'yard', cause: 'LoadPosted', changes: [], overloadedNodes: [] } };
        return { body: { items: [event], cursor: 11 } };
      }
      if (url.pathname === '/api/v1/sites/yard/allocation') {
        served = true;
        return { body: delivered ? later : allocation };
      }
      return api(call);
    });
    // Pace the feed's empty pages (a macrotask each) so the page gets to load meanwhile.
    vi.stubGlobal('fetch', async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = new URL(input instanceof Request ? input.url : String(input), 'http://localhost');
      if (url.pathname === '/api/v1/events' && !served) await new Promise((resolve) => setTimeout(resolve, 20));
      return fetchMock(input, init);
    });
    openSite();
    const paused = await screen.findByRole('group', { name: 'EVSE CP-1 EVSE 2' });
    expect(await within(paused).findByText('Paused at 0 A')).toBeInTheDocument();
    await waitFor(() => expect(within(paused).getByRole('meter', { name: 'CP-1 EVSE 2 allocated current' })).toHaveAttribute('aria-valuetext', '10 A of 32 A'));
    expect(within(paused).getByText('Charging')).toBeInTheDocument();
  });

  it("lets an admin change a node's limits through the API, and shows a refusal by field", async () => {
    signInAs('admin');
    const { calls } = fakeApi((call) => {
      if (call.method === 'PUT') {
        return { status: 422, body: { title: 'Unprocessable Content', status: 422, errors: [{ field: 'body.limitA.L1', message: 'Input should be greater than or equal to 0' }] } };
      }
      return api(call);
    });
    openSite();
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'Change limits of Circuit feeder-1' }));
    const dialog = await screen.findByRole('dialog', { name: 'Limits of Circuit feeder-1' });
    const l1 = within(dialog).getByRole('textbox', { name: 'L1 limit (A)' });
    await user.clear(l1);
    await user.type(l1, '25');
    await user.click(within(dialog).getByRole('button', { name: 'Save limits' }));
    expect(await within(dialog).findByText('Input should be greater than or equal to 0')).toBeInTheDocument();
    const put = calls.find((c) => c.method === 'PUT');
    expect(put?.url.pathname).toBe('/api/v1/sites/yard/nodes/feeder-1');
    expect(put?.body).toEqual({ id: 'feeder-1', parentId: 'grid', kind: 'circuit', phases: ['L1', 'L2', 'L3'], limitA: { L1: 25, L2: 32, L3: 32 }, maxPowerKw: null, nonEvAllowanceA: {} });
    // EVSEs have no limits of their own to change; an admin may reallocate too
    expect(screen.queryByRole('button', { name: /Change limits of EVSE/ })).not.toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Reallocate now' })).toBeInTheDocument();
  });

  it('lets an operator reallocate, not rewire', async () => {
    signInAs('operator');
    const { calls } = fakeApi((call) => {
      if (call.method === 'POST' && call.url.pathname === '/api/v1/sites/yard/allocation') return { body: { ...allocation, id: 43, cause: 'Requested' } };
      return api(call);
    });
    openSite();
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'Reallocate now' }));
    expect(await screen.findByText(/Allocation 43 of .* \(Requested\)/)).toBeInTheDocument();
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(1);
    expect(screen.queryByRole('button', { name: /Change limits/ })).not.toBeInTheDocument();
  });
});
