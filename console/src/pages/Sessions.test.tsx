import { describe, expect, it } from 'vitest';
import { screen, within } from '@testing-library/react';
import SessionsPage, { toCsv } from './Sessions';
import { fakeApi, renderPage, signInAs } from '../test/harness';
import { page, transaction } from '../test/fixtures';

describe('sessions', () => {
  it('lists the transactions with the filters as query parameters', async () => {
    signInAs('viewer');
    const { calls } = fakeApi(({ url }) => (url.pathname === '/api/v1/transactions' ? { body: page([transaction({ flaggedAt: '2026-01-01T00:00:00Z', flagReason: 'no-activity' })]) } : undefined));
    renderPage(<SessionsPage />, { route: '/sessions?stationId=CP-1&flagged=yes', path: '/sessions' });
    const table = await screen.findByRole('table', { name: 'Sessions' });
    expect(await within(table).findByRole('link', { name: 'TX-7' })).toHaveAttribute('href', '/sessions/7');
    expect(within(table).getByText('flagged')).toBeInTheDocument();
    const query = calls.find((c) => c.url.pathname === '/api/v1/transactions')!.url.searchParams;
    expect(query.get('stationId')).toBe('CP-1');
    expect(query.get('flagged')).toBe('true');
    expect(query.get('deauthorized')).toBe('false');
    expect(screen.getByRole('button', { name: 'Export CSV' })).toBeInTheDocument();
  });

  it('exports CSV with quoting', () => {
    const csv = toCsv([transaction({ stopReason: 'Local, "EV" left' })]);
    const [header, row] = csv.trim().split('\r\n');
    expect(header).toBe('station,evse,connector,transactionId,idToken,startedAt,stoppedAt,durationSeconds,energyWh,stopReason,flagReason,protocol');
    expect(row).toBe('CP-1,1,1,TX-7,TAG-1,2026-01-01T00:00:00Z,,600,1200,"Local, ""EV"" left",,ocpp2.0.1');
  });
});
