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
});
