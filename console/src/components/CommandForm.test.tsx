import { describe, expect, it } from 'vitest';
import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import CommandForm from './CommandForm';
import { commandSpecs } from '../api/commands';
import { fakeApi, renderPage, signInAs } from '../test/harness';

const spec = (name: string) => commandSpecs().find((s) => s.name === name)!;

describe('command forms generated from the OpenAPI schema', () => {
  it('offers every command of the API', () => {
    const names = commandSpecs().map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['start-transaction', 'stop-transaction', 'reset', 'set-charging-profile', 'rotate-password']));
    expect(names.length).toBeGreaterThanOrEqual(20);
  });

  it('sends the body typed into the generated fields, with the bearer token', async () => {
    const bearer = signInAs('operator');
    const { calls } = fakeApi(({ method, url }) =>
      method === 'POST' && url.pathname === '/api/v1/stations/CP-1/commands/start-transaction'
        ? { status: 202, body: { id: 'c1', name: 'start-transaction', status: 'queued', stationId: 'CP-1', createdAt: '2026-01-01T00:00:00Z', followUps: [], request: {} } }
        : undefined,
    );
    let sent: unknown = null;
    renderPage(<CommandForm stationId="CP-1" spec={spec('start-transaction')} onSent={(c) => (sent = c)} />);
    const user = userEvent.setup();
    await user.type(await screen.findByRole('textbox', { name: /^Id token/ }), 'TAG-1');
    await user.type(screen.getByRole('textbox', { name: /^EVSE id/ }), '2');
    // an optional object is left out unless given
    expect(screen.getByRole('textbox', { name: 'Charging profile' })).toHaveValue('Not given');
    await user.click(screen.getByRole('button', { name: 'Send start transaction' }));
    await screen.findByRole('button', { name: 'Send start transaction' });
    await expect.poll(() => sent).not.toBeNull();
    const post = calls.find((c) => c.method === 'POST')!;
    expect(post.body).toEqual({ idToken: { idToken: 'TAG-1', type: 'ISO14443' }, evseId: 2 });
    expect(post.headers.get('Authorization')).toBe(`Bearer ${bearer}`);
  });

  it("shows the API's validation error next to the field it names", async () => {
    signInAs('operator');
    fakeApi(({ method }) =>
      method === 'POST'
        ? {
            status: 422,
            body: {
              title: 'Unprocessable Content',
              status: 422,
              detail: 'the request is not valid',
              // as the API names a field the station's protocol cannot express: without body.
              errors: [{ field: 'type', message: 'OnIdle cannot be expressed in OCPP 1.6' }],
            },
          }
        : undefined,
    );
    renderPage(<CommandForm stationId="CP-1" spec={spec('reset')} />);
    const user = userEvent.setup();
    await user.click(await screen.findByRole('textbox', { name: /^Type/ }));
    await user.click(await screen.findByRole('option', { name: 'OnIdle' }));
    await user.click(screen.getByRole('button', { name: 'Send reset' }));
    const messages = await screen.findAllByText(/OnIdle cannot be expressed in OCPP 1.6/);
    // once by the field, once in the summary alert
    expect(messages.length).toBeGreaterThanOrEqual(2);
    expect(screen.getByRole('alert')).toHaveTextContent('type: OnIdle cannot be expressed in OCPP 1.6');
  });

  it('shows 403, 404, 409 and 429 as messages', async () => {
    signInAs('operator');
    for (const [status, title, expected] of [
      [403, 'Forbidden', /Your role may not do this/],
      [409, 'Conflict', /Conflict: a rotation is open/],
      [429, 'Too Many Requests', /Too many requests.*Try again in 7 s/],
    ] as const) {
      fakeApi(() => ({ status, body: { title, status, detail: status === 409 ? 'a rotation is open' : title }, headers: { 'Retry-After': '7' } }));
      const { unmount } = renderPage(<CommandForm stationId="CP-1" spec={spec('clear-cache')} />);
      await userEvent.click(await screen.findByRole('button', { name: 'Send clear cache' }));
      expect(await screen.findByRole('alert')).toHaveTextContent(expected);
      unmount();
    }
  });
});
