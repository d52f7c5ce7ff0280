/** What every page needs: the runtime config, the signed-in session, the API client, live. */
import { createContext, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { QueryClient, QueryClientProvider, type QueryKey } from '@tanstack/react-query';
import type { ConsoleConfig } from './config';
import { createApi, type Api } from './api/client';
import { ApiError } from './api/problem';
import { can, clearToken, storedSession, storeToken, type Role, type Session } from './auth/session';
import { LiveClient, type FeedPage, type LiveStatus } from './live/client';
import { keysFor } from './live/invalidate';

interface AppContextValue {
  config: ConsoleConfig;
  api: Api;
  session: Session | null;
  live: LiveClient;
  liveStatus: LiveStatus;
  signIn(token: string): Session | null;
  signOut(): void;
}

const AppContext = createContext<AppContextValue | null>(null);

export function useApp(): AppContextValue {
  const value = useContext(AppContext);
  if (!value) throw new Error('useApp outside AppProvider');
  return value;
}

export function useApi(): Api {
  return useApp().api;
}

/** Whether the signed-in role may do what needs `role` (the API still decides). */
export function useCan(role: Role): boolean {
  return can(useApp().session?.role, role);
}

export function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        retry: (count, error) => !(error instanceof ApiError && error.status < 500) && count < 2,
        staleTime: 5000,
        refetchOnWindowFocus: false,
      },
    },
  });
}

export function AppProvider({
  config,
  children,
  queryClient,
  origin = window.location.origin,
}: {
  config: ConsoleConfig;
  children: ReactNode;
  queryClient?: QueryClient;
  origin?: string;
}) {
  const [session, setSession] = useState<Session | null>(() => storedSession());
  const sessionRef = useRef(session);
  sessionRef.current = session;
  const client = useMemo(() => queryClient ?? makeQueryClient(), [queryClient]);
  const api = useMemo(
    () =>
      createApi(
        new URL(config.apiBase, origin).toString(),
        () => sessionRef.current?.token ?? null,
        () => {
          clearToken();
          setSession(null);
        },
      ),
    [config.apiBase, origin],
  );
  const live = useMemo(() => {
    const readFeed = async (after: number | null, wait: number, signal: AbortSignal): Promise<FeedPage> => {
      const result = await api.GET('/api/v1/events', {
        params: { query: { ...(after === null ? {} : { after }), wait, limit: 500 } },
        signal,
      });
      return result.data as FeedPage;
    };
    return new LiveClient(config.live, readFeed, () => sessionRef.current?.token ?? null);
  }, [api, config.live]);
  const [liveStatus, setLiveStatus] = useState<LiveStatus>(live.status);

  useEffect(() => {
    if (!session) return;
    const pending = new Map<string, QueryKey>();
    let timer: ReturnType<typeof setTimeout> | null = null;
    const unsubscribe = live.subscribe((events) => {
      for (const e of events) for (const key of keysFor(e)) pending.set(JSON.stringify(key), key);
      // One refetch per key for a burst of events, well within the 2 s the console promises.
      timer ??= setTimeout(() => {
        timer = null;
        const keys = [...pending.values()];
        pending.clear();
        for (const queryKey of keys) void client.invalidateQueries({ queryKey });
      }, 250);
    });
    const unStatus = live.onStatus(setLiveStatus);
    live.start();
    return () => {
      unsubscribe();
      unStatus();
      live.stop();
      if (timer) clearTimeout(timer);
    };
  }, [live, session, client]);

  const value = useMemo<AppContextValue>(
    () => ({
      config,
      api,
      session,
      live,
      liveStatus,
      signIn(token) {
        const next = storeToken(token);
        setSession(next);
        return next;
      },
      signOut() {
        clearToken();
        client.clear();
        setSession(null);
      },
    }),
    [config, api, session, live, liveStatus, client],
  );
  return (
    <AppContext.Provider value={value}>
      <QueryClientProvider client={client}>{children}</QueryClientProvider>
    </AppContext.Provider>
  );
}
