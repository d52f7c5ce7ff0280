/** Renders a page as the app does (Mantine, the app context, a router) against a fake API. */
import type { ReactElement } from 'react';
import { render } from '@testing-library/react';
import { MemoryRouter, Route, Routes } from 'react-router-dom';
import { MantineProvider } from '@mantine/core';
import { cssVariablesResolver, theme } from '../theme';
import { vi } from 'vitest';
import { AppProvider, makeQueryClient } from '../context';
import type { ConsoleConfig } from '../config';
import type { Role } from '../auth/session';

export function token(claims: Record<string, unknown>): string {
  const b64 = (o: unknown) => btoa(JSON.stringify(o)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  return `${b64({ alg: 'none' })}.${b64({ exp: Math.floor(Date.now() / 1000) + 3600, ...claims })}.sig`;
}

export function signInAs(role: Role, tenant = 'default'): string {
  const t = token({ 'custom:tenant': tenant, 'custom:role': role, sub: `${role}-user` });
  sessionStorage.setItem('csms.console.token', t);
  return t;
}

export interface Call {
  method: string;
  url: URL;
  body: unknown;
  headers: Headers;
}

type Answer = { status?: number; body?: unknown; headers?: Record<string, string> } | undefined;
/** An answer, or a promise of one (a long poll the test ends when it wants). */
type Handler = (call: Call) => Answer | Promise<Answer>;

/**
 * A fake server: handlers answer by method and path; the event feed waits (until aborted)
 * unless a handler answers it. Every call is recorded.
 */
export function fakeApi(handler: Handler) {
  const calls: Call[] = [];
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(new URL(String(input), 'http://localhost'), init);
    const url = new URL(request.url);
    const text = request.method === 'GET' || request.method === 'HEAD' ? '' : await request.clone().text();
    const call: Call = { method: request.method, url, body: text ? JSON.parse(text) : undefined, headers: request.headers };
    calls.push(call);
    const answer = await handler(call);
    if (!answer && url.pathname === '/api/v1/events') {
      return new Promise<Response>((_, reject) => {
        request.signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
      });
    }
    const status = answer?.status ?? (answer ? 200 : 404);
    const body = answer ? answer.body : { title: 'Not Found', status: 404, detail: `no fake for ${request.method} ${url.pathname}` };
    return new Response(body === undefined ? null : JSON.stringify(body), {
      status,
      headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json', ...answer?.headers },
    });
  });
  vi.stubGlobal('fetch', fetchMock);
  return { calls, fetchMock };
}

export const devConfig: ConsoleConfig = { apiBase: '/api/v1', auth: { mode: 'dev' }, live: { mode: 'poll' } };

export function renderPage(ui: ReactElement, { route = '/', path = '*', config = devConfig }: { route?: string; path?: string; config?: ConsoleConfig } = {}) {
  const queryClient = makeQueryClient();
  queryClient.setDefaultOptions({ queries: { retry: false, staleTime: 0 } });
  return render(
    <MantineProvider env="test" theme={theme} cssVariablesResolver={cssVariablesResolver}>
      <AppProvider config={config} queryClient={queryClient} origin="http://localhost">
        <MemoryRouter initialEntries={[route]}>
          <Routes>
            <Route path={path} element={ui} />
            <Route path="*" element={<div>elsewhere</div>} />
          </Routes>
        </MemoryRouter>
      </AppProvider>
    </MantineProvider>,
  );
}
