import { describe, expect, it } from 'vitest';
import { screen, within } from '@testing-library/react';
import EventsPage from './Events';
import { fakeApi, renderPage, signInAs } from '../test/harness';

const envelope = (sequence: number, type: string, data: Record<string, unknown>) => ({
  id: `e${sequence}`,
  type,
  version: 2,
  tenantId: 'default',
  stationId: 'CP-1',
  occurredAt: '2026-01-01T00:00:00Z',
  correlationId: 'x',
  sequence,
  data,
});

describe('live events page', () => {
  it('shows the latest events of the feed, newest first, in words', async () => {
    signInAs('viewer');
    const { calls } = fakeApi(({ url }) => {
      if (url.pathname !== '/api/v1/events' || url.searchParams.get('wait')) return undefined;
      if (!url.searchParams.has('after')) return { body: { items: [], cursor: 502 } };
      return {
        body: {
          items: [
            envelope(501, 'ConnectorStatusChanged', { evseId: 1, connectorId: 1, status: 'Charging' }),
            envelope(502, 'CommandFinished', { name: 'reset', status: 'accepted', reason: null }),
          ],
          cursor: 502,
        },
      };
    });
    renderPage(<EventsPage />);
    const table = await screen.findByRole('table', { name: 'Live events' });
    await within(table).findByText('reset accepted');
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows.map((r) => r.textContent)).toEqual([
      expect.stringContaining('CommandFinished'),
      expect.stringContaining('EVSE 1 connector 1: Charging'),
    ]);
    expect(calls.some((c) => c.url.searchParams.get('after') === '302' && c.url.searchParams.get('limit') === '200')).toBe(true);
  });

  it('shows an event once when the live feed brings one the page had read already', async () => {
    signInAs('viewer');
    let pageRead: (() => void) | null = null;
    const read = new Promise<void>((resolve) => (pageRead = resolve));
    const started = envelope(501, 'TransactionStarted', { transactionId: 'T-1', evseId: 1 });
    const charging = envelope(502, 'ConnectorStatusChanged', { evseId: 1, connectorId: 1, status: 'Charging' });
    fakeApi(async ({ url }) => {
      if (url.pathname !== '/api/v1/events') return undefined;
      const q = url.searchParams;
      if (!q.has('wait')) {
        // The page's own read of the latest events: the start is already in the feed.
        if (!q.has('after')) return { body: { items: [], cursor: 501 } };
        pageRead!();
        return { body: { items: [started], cursor: 501 } };
      }
      // The live client began before the start was written: its next read brings it again.
      if (!q.has('after')) return { body: { items: [], cursor: 500 } };
      if (q.get('after') !== '500') return new Promise<undefined>(() => {});
      await read;
      await new Promise((resolve) => setTimeout(resolve, 50));
      return { body: { items: [started, charging], cursor: 502 } };
    });
    renderPage(<EventsPage />);
    const table = await screen.findByRole('table', { name: 'Live events' });
    await within(table).findByText('EVSE 1 connector 1: Charging');
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows.map((r) => r.textContent)).toEqual([
      expect.stringContaining('EVSE 1 connector 1: Charging'),
      expect.stringContaining('transaction T-1 on EVSE 1'),
    ]);
  });
});
