import { describe, expect, it } from 'vitest';
import { screen, within } from '@testing-library/react';
import StationPage from './Station';
import { fakeApi, renderPage, signInAs, type Call } from '../test/harness';
import { meter, page, station, transaction } from '../test/fixtures';

function api({ method, url }: Call) {
  if (method !== 'GET') return undefined;
  switch (url.pathname) {
    case '/api/v1/stations/CP-1':
      return { body: station('CP-1') };
    case '/api/v1/stations':
      return { body: page([station('CP-1'), station('CP-2', { online: false })]) };
    case '/api/v1/stations/CP-1/evses':
    case '/api/v1/stations/CP-2/evses':
      return { body: station('CP-1').evses };
    case '/api/v1/transactions':
      return { body: page([transaction()]) };
    case '/api/v1/transactions/7/meter-values':
      return { body: meter };
    case '/api/v1/stations/CP-1/commands':
      return { body: page([]) };
    case '/api/v1/stations/CP-1/variables':
      return {
        body: page([
          {
            component: { name: 'OCPPCommCtrlr', instance: null, evse: null },
            variable: { name: 'HeartbeatInterval', instance: null },
            attributeType: 'Actual',
            value: '300',
            mutability: 'ReadWrite',
            known: true,
            constant: false,
            persistent: true,
            characteristics: null,
            ocpp16Key: null,
            source: 'report',
            updatedAt: '2026-01-01T00:00:00Z',
          },
        ]),
      };
    case '/api/v1/locations':
      return { body: page([]) };
    default:
      return undefined;
  }
}

const at = (tab: string) => ({ route: `/stations/CP-1?tab=${tab}`, path: '/stations/:stationId' });

describe('station page', () => {
  it('shows the connectors and the running transaction with its charts; an operator may stop it', async () => {
    signInAs('operator');
    fakeApi(api);
    renderPage(<StationPage />, at('overview'));
    expect(await screen.findByRole('heading', { name: 'Station CP-1', level: 1 })).toBeInTheDocument();
    const connectors = screen.getByRole('table', { name: 'Connectors' });
    expect(within(connectors).getAllByText('Occupied')).toHaveLength(2); // state and reported status
    expect(within(connectors).getByRole('cell', { name: 'Charging' })).toBeInTheDocument();
    expect(await screen.findByRole('button', { name: 'Stop transaction TX-7' })).toBeInTheDocument();
    expect(await screen.findByRole('figure', { name: 'Power' })).toBeInTheDocument();
    expect(await screen.findByRole('figure', { name: 'Energy' })).toBeInTheDocument();
    expect(screen.queryByText('No values.')).not.toBeInTheDocument();
  });

  it('shows an operator the command form and the Edit buttons of writable variables', async () => {
    signInAs('operator');
    fakeApi(api);
    const { unmount } = renderPage(<StationPage />, at('commands'));
    expect(await screen.findByRole('heading', { name: 'Send a command' })).toBeInTheDocument();
    expect(await screen.findByRole('button', { name: 'Send start transaction' }, { timeout: 10000 })).toBeInTheDocument();
    unmount();
    renderPage(<StationPage />, at('configuration'));
    expect(await screen.findByRole('button', { name: 'Edit OCPPCommCtrlr.HeartbeatInterval' })).toBeInTheDocument();
  });
});

describe('viewer mode', () => {
  it('shows a viewer everything and no action button', async () => {
    signInAs('viewer');
    fakeApi(api);
    const overview = renderPage(<StationPage />, at('overview'));
    expect(await screen.findByText(/Transaction TX-7/)).toBeInTheDocument();
    expect(await screen.findByRole('figure', { name: 'Power' })).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /Stop transaction/ })).not.toBeInTheDocument();
    overview.unmount();

    const commands = renderPage(<StationPage />, at('commands'));
    expect(await screen.findByRole('table', { name: 'Command history' })).toBeInTheDocument();
    expect(screen.queryByRole('heading', { name: 'Send a command' })).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /^Send/ })).not.toBeInTheDocument();
    commands.unmount();

    const configuration = renderPage(<StationPage />, at('configuration'));
    expect(await screen.findByText('HeartbeatInterval')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /Edit/ })).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Read configuration from station' })).not.toBeInTheDocument();
    configuration.unmount();

    const charging = renderPage(<StationPage />, at('charging'));
    expect(await screen.findByRole('table', { name: 'Installed charging profiles' })).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Get composite schedule' })).not.toBeInTheDocument();
    charging.unmount();
  });
});

describe('the running transaction card', () => {
  it("shows the energy so far, in kWh, and follows the transaction's meter values live", async () => {
    signInAs('viewer');
    let energyWh: number | null = null;
    let sample: (() => void) | null = null;
    const sampled = new Promise<void>((resolve) => (sample = resolve));
    fakeApi(async (call) => {
      const { url } = call;
      if (url.pathname === '/api/v1/transactions') {
        return { body: page([transaction({ energyWh, energyMeasuredAt: energyWh === null ? null : '2026-01-01T00:00:05Z' })]) };
      }
      if (url.pathname !== '/api/v1/events') return api(call);
      if (!url.searchParams.has('after')) return { body: { items: [], cursor: 10 } };
      if (url.searchParams.get('after') !== '10') return new Promise<undefined>(() => {});
      // The feed's long poll answers when the charger's register sample arrives.
      await sampled;
      return {
        body: {
          items: [
            {
              id: 'e11',
              type: 'MeterValuesReceived',
              version: 1,
              tenantId: 'default',
              stationId: 'CP-1',
              occurredAt: '2026-01-01T00:00:05Z',
              correlationId: 'c',
              sequence: 11,
              data: { transactionRef: 7, evseId: 1, samples: [] },
            },
          ],
          cursor: 11,
        },
      };
    });
    renderPage(<StationPage />, at('overview'));
    const card = await screen.findByLabelText('Running transaction TX-7');
    expect(await within(card).findByLabelText('Energy so far')).toHaveTextContent('—');
    energyWh = 6;
    sample!();
    await expect.poll(() => within(card).getByLabelText('Energy so far').textContent, { timeout: 10000 }).toBe('0.006 kWh');
  });
});
