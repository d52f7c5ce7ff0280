/**
 * Cognito managed login: authorization code with PKCE through oidc-client-ts (loaded only
 * in this mode). The ID token is the API's bearer.
 */
import { UserManager, WebStorageStateStore } from 'oidc-client-ts';
import type { AuthConfig } from '../config';

type CognitoConfig = Extract<AuthConfig, { mode: 'cognito' }>;

function manager(config: CognitoConfig): UserManager {
  return new UserManager({
    authority: config.authority,
    client_id: config.clientId,
    redirect_uri: config.redirectUri,
    post_logout_redirect_uri: config.logoutUri,
    response_type: 'code',
    scope: 'openid email profile',
    userStore: new WebStorageStateStore({ store: window.sessionStorage }),
    // Cognito's managed login has no end_session_endpoint in its discovery document.
    metadataSeed: { end_session_endpoint: `${config.authority.replace(/\/$/, '')}/logout` },
  });
}

export async function signInRedirect(config: CognitoConfig, returnTo: string): Promise<void> {
  await manager(config).signinRedirect({ state: { returnTo } });
}

/** Completes the redirect back from the managed login: the ID token and where to go. */
export async function completeSignIn(config: CognitoConfig): Promise<{ idToken: string; returnTo: string }> {
  const user = await manager(config).signinRedirectCallback();
  if (!user.id_token) throw new Error('the sign-in returned no ID token');
  const state = user.state as { returnTo?: string } | undefined;
  return { idToken: user.id_token, returnTo: state?.returnTo ?? '/' };
}

export async function signOutRedirect(config: CognitoConfig): Promise<void> {
  const users = manager(config);
  await users.removeUser();
  // Cognito's logout takes client_id and logout_uri rather than the OIDC parameters.
  const url = new URL(`${config.authority.replace(/\/$/, '')}/logout`);
  url.searchParams.set('client_id', config.clientId);
  url.searchParams.set('logout_uri', config.logoutUri);
  window.location.assign(url.toString());
}
