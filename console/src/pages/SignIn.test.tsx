import { describe, expect, it } from 'vitest';
import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { SignInPage } from './SignIn';
import { fakeApi, renderPage, token } from '../test/harness';

describe('dev sign-in', () => {
  it('signs in with the tenant and role picked and keeps the token in sessionStorage', async () => {
    const issued = token({ 'custom:tenant': 'acme', 'custom:role': 'viewer' });
    const { calls } = fakeApi(({ method, url }) => {
      if (method === 'GET' && url.pathname === '/console/dev/tenants')
        return { body: { items: [{ id: 'default', name: 'default' }, { id: 'acme', name: 'Acme Charging' }] } };
      if (method === 'POST' && url.pathname === '/console/dev/sign-in') return { body: { token: issued, expiresAt: '2030-01-01T00:00:00Z' } };
      return undefined;
    });
    renderPage(<SignInPage />, { route: '/sign-in', path: '/sign-in' });
    const user = userEvent.setup();
    await screen.findAllByDisplayValue('default'); // the tenants are listed
    await user.click(screen.getByRole('textbox', { name: 'Tenant' }));
    await user.click(await screen.findByRole('option', { name: 'Acme Charging (acme)' }));
    await user.click(screen.getByRole('radio', { name: 'Viewer' }));
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    await screen.findByText('elsewhere');
    const post = calls.find((c) => c.method === 'POST');
    expect(post?.body).toEqual({ tenantId: 'acme', role: 'viewer' });
    expect(sessionStorage.getItem('csms.console.token')).toBe(issued);
  });

  it('shows the problem in words when the sign-in is refused', async () => {
    fakeApi(({ url }) => {
      if (url.pathname === '/console/dev/tenants') return { body: { items: [{ id: 'default', name: 'default' }] } };
      if (url.pathname === '/console/dev/sign-in')
        return { status: 422, body: { title: 'Unprocessable Content', status: 422, errors: [{ field: 'body.role', message: 'must be viewer, operator or admin' }] } };
      return undefined;
    });
    renderPage(<SignInPage />, { route: '/sign-in', path: '/sign-in' });
    await userEvent.click(await screen.findByRole('button', { name: 'Sign in' }));
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('body.role: must be viewer, operator or admin');
    await waitFor(() => expect(sessionStorage.getItem('csms.console.token')).toBeNull());
  });
});
