/** The typed API client, generated from docs/openapi.json (src/api/schema.gen.ts). */
import createClient, { type Middleware } from 'openapi-fetch';
import type { paths, components } from './schema.gen';
import { ApiError } from './problem';

export type Schemas = components['schemas'];
export type Api = ReturnType<typeof createApi>;

export function createApi(baseUrl: string, token: () => string | null, onUnauthorized: () => void) {
  const api = createClient<paths>({ baseUrl: baseUrl.replace(/\/api\/v1$/, '') });
  const auth: Middleware = {
    onRequest({ request }) {
      const t = token();
      if (t) request.headers.set('Authorization', `Bearer ${t}`);
      return request;
    },
    async onResponse({ response }) {
      if (response.ok) return response;
      if (response.status === 401) onUnauthorized();
      let body: unknown = null;
      try {
        body = await response.clone().json();
      } catch {
        body = { title: response.statusText || `HTTP ${response.status}` };
      }
      const retry = Number(response.headers.get('Retry-After'));
      throw new ApiError(response.status, body, Number.isFinite(retry) && retry > 0 ? retry : undefined);
    },
  };
  api.use(auth);
  return api;
}

/** The data of an openapi-fetch answer (errors were thrown by the middleware). */
export function data<T>(result: { data?: T; error?: unknown }): T {
  if (result.data === undefined) throw new ApiError(500, { title: 'empty answer' });
  return result.data;
}
