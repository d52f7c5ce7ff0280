import { afterEach, describe, expect, it, vi } from 'vitest';
import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { SignInPage } from '../pages/SignIn';
import { fakeApi, renderPage } from '../test/harness';
import type { ConsoleConfig } from '../config';

const authority = 'https://auth.example.com';
const config: ConsoleConfig = {
  apiBase: '/api/v1',
  auth: {
    mode: 'cognito',
    authority,
    clientId: 'console-client',
    redirectUri: 'https://csms.example.com/console/callback',
    logoutUri: 'https://csms.example.com/console/',
  },
  live: { mode: 'poll' },
};

afterEach(() => vi.restoreAllMocks());

describe('Cognito sign-in', () => {
  it('redirects to the managed login with an authorization code request and PKCE', async () => {
    fakeApi(({ url }) =>
      url.href === `${authority}/.well-known/openid-configuration`
        ? {
            body: {
              issuer: authority,
              authorization_endpoint: `${authority}/oauth2/authorize`,
              token_endpoint: `${authority}/oauth2/token`,
              jwks_uri: `${authority}/.well-known/jwks.json`,
            },
          }
        : undefined,
    );
    const assigned: string[] = [];
    const location = window.location;
    vi.spyOn(window, 'location', 'get').mockReturnValue({ ...location, assign: (u: string) => assigned.push(u) } as Location);
    renderPage(<SignInPage />, { config, route: '/sign-in', path: '/sign-in' });
    expect(screen.queryByRole('textbox', { name: 'Tenant' })).not.toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Sign in with your organisation' }));
    await vi.waitFor(() => expect(assigned).toHaveLength(1));
    const url = new URL(assigned[0]);
    expect(url.origin + url.pathname).toBe(`${authority}/oauth2/authorize`);
    expect(url.searchParams.get('response_type')).toBe('code');
    expect(url.searchParams.get('client_id')).toBe('console-client');
    expect(url.searchParams.get('redirect_uri')).toBe('https://csms.example.com/console/callback');
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get('scope')).toContain('openid');
  });
});
