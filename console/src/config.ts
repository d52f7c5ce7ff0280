/** Runtime configuration, fetched at start from /console/config.json (never built in). */
export type AuthConfig =
  | { mode: 'dev' }
  | { mode: 'cognito'; authority: string; clientId: string; redirectUri: string; logoutUri: string };

export type LiveConfig = { mode: 'websocket'; url: string } | { mode: 'poll' };

export interface ConsoleConfig {
  apiBase: string;
  auth: AuthConfig;
  live: LiveConfig;
}

export function parseConfig(raw: unknown): ConsoleConfig {
  if (typeof raw !== 'object' || raw === null) throw new Error('config.json is not an object');
  const r = raw as Record<string, unknown>;
  const apiBase = typeof r.apiBase === 'string' ? r.apiBase : '/api/v1';
  const auth = (r.auth ?? { mode: 'dev' }) as AuthConfig;
  if (auth.mode !== 'dev' && auth.mode !== 'cognito') throw new Error(`unknown auth mode ${String((auth as { mode: unknown }).mode)}`);
  if (auth.mode === 'cognito') {
    for (const key of ['authority', 'clientId', 'redirectUri'] as const) {
      if (typeof auth[key] !== 'string' || !auth[key]) throw new Error(`config.json: auth.${key} is missing`);
    }
  }
  const live = (r.live ?? { mode: 'poll' }) as LiveConfig;
  if (live.mode === 'websocket' && typeof live.url !== 'string') throw new Error('config.json: live.url is missing');
  return { apiBase: apiBase.replace(/\/$/, ''), auth, live: live.mode === 'websocket' ? live : { mode: 'poll' } };
}

export async function loadConfig(url = `${import.meta.env.BASE_URL}config.json`): Promise<ConsoleConfig> {
  const response = await fetch(url, { cache: 'no-store' });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return parseConfig(await response.json());
}
