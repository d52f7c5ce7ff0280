import { describe, expect, it, vi } from 'vitest';
import { act, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { FleetPage } from './Fleet';
import { fakeApi, renderPage, signInAs, type Call } from '../test/harness';
import { listed, page } from '../test/fixtures';
import { useApp } from '../context';
import type { LiveClient, LiveEvent } from '../live/client';
import { refreshesFleet, Throttle } from '../live/fleet';

function api(stations: () => ReturnType<typeof listed>[]) {
  return ({ method, url }: Call) => {
    if (method !== 'GET') return undefined;
    if (url.pathname === '/api/v1/stations') {
      const q = url.searchParams.get('q');
      return { body: page(stations().filter((s) => !q || s.id.startsWith(q))) };
    }
    if (url.pathname === '/api/v1/locations') return { body: page([]) };
    return undefined;
  };
}

const fleet = () => [
  listed('CP-1', { connectors: [], runningTransactions: 0, powerW: null, powerAt: null }),
  listed('CP-2', { online: false }),
  listed('CP-3', { online: true, powerW: 11000, powerAt: new Date().toISOString() }),
];

/** The page's live client, to hand it events as the live socket would. */
let live: LiveClient | null = null;
function GrabLive() {
  live = useApp().live;
  return null;
}

const event = (id: string, type: string, stationId: string): LiveEvent => ({
  id,
  type,
  version: 2,
  tenantId: 'default',
  stationId,
  occurredAt: '2026-01-01T00:00:00Z',
  correlationId: id,
  data: {},
});

const perRow = (calls: Call[]) => calls.filter((c) => /\/stations\/[^/]+\/(evses|meter-values)/.test(c.url.pathname));
const listings = (calls: Call[]) => calls.filter((c) => c.url.pathname === '/api/v1/stations');

describe('fleet page', () => {
  it('lists the stations with connection, protocol, connector states and power from one request', async () => {
    signInAs('viewer');
    const { calls } = fakeApi(api(fleet));
    renderPage(<FleetPage />, { route: '/fleet', path: '/fleet' });
    const table = await screen.findByRole('table', { name: 'Stations' });
    const row = (await within(table).findByRole('link', { name: 'CP-2' })).closest('tr')!;
    expect(within(row).getByText('Offline')).toBeInTheDocument();
    expect(within(row).getByText('ocpp2.0.1')).toBeInTheDocument();
    // offline: what it last reported, and its last reading with when it was taken
    expect(within(row).getByTitle('EVSE 1 connector 1: Occupied (last reported)')).toBeInTheDocument();
    expect(within(row).getByText('last reported')).toBeInTheDocument();
    expect(within(row).getByText('7.2 kW')).toBeInTheDocument();
    expect(within(row).getByText(/^as of /)).toBeInTheDocument();
    // online and reporting: its power now, as it is
    const charging = within(table).getByRole('link', { name: 'CP-3' }).closest('tr')!;
    expect(within(charging).getByTitle('EVSE 1 connector 1: Occupied')).toBeInTheDocument();
    expect(within(charging).getByText('11.0 kW')).toBeInTheDocument();
    expect(within(charging).queryByText(/^as of /)).toBeNull();
    expect(within(charging).queryByText('last reported')).toBeNull();
    const idle = within(table).getByRole('link', { name: 'CP-1' }).closest('tr')!;
    expect(within(idle).getByText('none reported')).toBeInTheDocument();
    expect(screen.getByText('3 stations')).toBeInTheDocument();
    // the summary came with the list: no request per row
    expect(perRow(calls)).toEqual([]);
  });

  it('searches by the start of the station id, on the server', async () => {
    signInAs('viewer');
    const { calls } = fakeApi(api(fleet));
    renderPage(<FleetPage />, { route: '/fleet', path: '/fleet' });
    const table = await screen.findByRole('table', { name: 'Stations' });
    await within(table).findByRole('link', { name: 'CP-1' });
    await userEvent.type(screen.getByRole('textbox', { name: 'Search stations' }), 'CP-2');
    await expect.poll(() => within(table).queryByRole('link', { name: 'CP-1' })).toBeNull();
    expect(within(table).getByRole('link', { name: 'CP-2' })).toBeInTheDocument();
    expect(calls.some((c) => c.url.searchParams.get('q') === 'CP-2')).toBe(true);
  });

  it('refreshes the list when a live event concerns a station on it, and only then', async () => {
    signInAs('viewer');
    let power = 7200;
    const { calls } = fakeApi(api(() => [listed('CP-2', { powerW: power })]));
    renderPage(
      <>
        <FleetPage />
        <GrabLive />
      </>,
      { route: '/fleet', path: '/fleet' },
    );
    const table = await screen.findByRole('table', { name: 'Stations' });
    await within(table).findByText('7.2 kW');
    const before = listings(calls).length;
    // an event about a station that is not on the page: nothing to fetch (a refetch would be
    // under way once the event's microtasks ran)
    power = 9000;
    await act(async () => live!.deliver([event('e1', 'MeterValuesReceived', 'CP-ELSEWHERE')]));
    expect(listings(calls).length).toBe(before);
    // one about a station on it: the list again, with its new power
    power = 11000;
    await act(async () => live!.deliver([event('e2', 'MeterValuesReceived', 'CP-2')]));
    expect(await within(table).findByText('11.0 kW')).toBeInTheDocument();
    expect(listings(calls).length).toBe(before + 1);
    expect(perRow(calls)).toEqual([]);
  });
});

describe('fleet live refresh', () => {
  const view = { visible: new Set(['CP-1']), byConnection: false, sort: 'id' };

  it('refreshes for what changes a row on the page, or what may bring a station onto it', () => {
    expect(refreshesFleet(event('a', 'ConnectorStatusChanged', 'CP-1'), view)).toBe(true);
    expect(refreshesFleet(event('b', 'TransactionStarted', 'CP-1'), view)).toBe(true);
    expect(refreshesFleet(event('c', 'CommandFinished', 'CP-1'), view)).toBe(false);
    expect(refreshesFleet(event('d', 'ConnectorStatusChanged', 'CP-9'), view)).toBe(false);
    // another station's connection matters when the list is filtered by connection
    expect(refreshesFleet(event('e', 'ChargerConnected', 'CP-9'), view)).toBe(false);
    expect(refreshesFleet(event('f', 'ChargerConnected', 'CP-9'), { ...view, byConnection: true })).toBe(true);
    // and another station's boot when it is sorted by last boot
    expect(refreshesFleet(event('g', 'ChargerBooted', 'CP-9'), { ...view, sort: 'lastBootAt' })).toBe(true);
  });

  it('runs at once, then at most once a period for any number of triggers', () => {
    vi.useFakeTimers();
    try {
      const run = vi.fn();
      const throttle = new Throttle(run, 1000);
      throttle.trigger();
      expect(run).toHaveBeenCalledTimes(1);
      for (let i = 0; i < 50; i++) throttle.trigger();
      expect(run).toHaveBeenCalledTimes(1);
      vi.advanceTimersByTime(999);
      expect(run).toHaveBeenCalledTimes(1);
      vi.advanceTimersByTime(1);
      expect(run).toHaveBeenCalledTimes(2);
      vi.advanceTimersByTime(5000);
      expect(run).toHaveBeenCalledTimes(2);
      throttle.trigger();
      expect(run).toHaveBeenCalledTimes(3);
    } finally {
      vi.useRealTimers();
    }
  });
});
