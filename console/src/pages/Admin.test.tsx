import { describe, expect, it } from 'vitest';
import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import IdTokensPage from './IdTokens';
import { fakeApi, renderPage, signInAs, type Call } from '../test/harness';
import { page } from '../test/fixtures';

const tag = {
  idToken: 'TAG-1',
  type: 'ISO14443',
  status: 'Accepted',
  effectiveStatus: 'Accepted',
  expired: false,
  expiryDate: null,
  groupIdToken: null,
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
};

function api({ method, url }: Call) {
  if (url.pathname === '/api/v1/id-tokens' && method === 'GET') return { body: page([tag]) };
  if (url.pathname === '/api/v1/id-tokens' && method === 'POST') {
    return { status: 409, body: { title: 'Conflict', status: 409, detail: 'TAG-1 (ISO14443) exists' } };
  }
  return undefined;
}

describe('id tokens', () => {
  it('shows a viewer the tokens and no action', async () => {
    signInAs('viewer');
    fakeApi(api);
    renderPage(<IdTokensPage />);
    const table = await screen.findByRole('table', { name: 'Id tokens' });
    expect(await within(table).findByText('TAG-1')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Add id token' })).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /Block TAG-1/ })).not.toBeInTheDocument();
    expect(screen.queryByRole('columnheader', { name: 'Actions' })).not.toBeInTheDocument();
  });

  it("gives an admin a form generated from the API's schema, and shows a conflict in words", async () => {
    signInAs('admin');
    const { calls } = fakeApi(api);
    renderPage(<IdTokensPage />);
    expect(await screen.findByRole('button', { name: 'Block TAG-1' })).toBeInTheDocument();
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Add id token' }));
    const dialog = await screen.findByRole('dialog', { name: 'Add id token' });
    await user.type(await within(dialog).findByRole('textbox', { name: /^Id token/ }), 'TAG-1');
    await user.click(within(dialog).getByRole('button', { name: 'Add id token' }));
    expect(await within(dialog).findByRole('alert')).toHaveTextContent('Conflict: TAG-1 (ISO14443) exists');
    expect(calls.find((c) => c.method === 'POST')?.body).toMatchObject({ idToken: 'TAG-1' });
  });
});
