/**
 * The live client: the tenant's domain events (docs/events.md envelopes), from one WebSocket
 * (config live.mode "websocket") or the long-polled feed GET /api/v1/events (mode "poll").
 * Delivery is at least once: events are deduplicated on their id. After a WebSocket
 * reconnects, the feed is read from the last sequence seen so nothing is missed.
 *
 * The WebSocket (ADR 0025) takes the token as a subprotocol: the console offers
 * `csms.live.v1` and `bearer.<token>`; each message is `{"events": [...]}` (an envelope too
 * large for a message comes with `dataOmitted` and empty data); the console sends a keep-alive
 * now and then, as API Gateway closes a connection idle for 10 minutes.
 */
import type { LiveConfig } from '../config';

export interface LiveEvent {
  id: string;
  type: string;
  version: number;
  tenantId: string;
  stationId: string | null;
  occurredAt: string;
  correlationId: string;
  sequence?: number;
  data: Record<string, unknown>;
  dataOmitted?: boolean;
}

export const LIVE_SUBPROTOCOL = 'csms.live.v1';
export const KEEPALIVE_MS = 4 * 60 * 1000;

export type LiveStatus = 'connecting' | 'live' | 'reconnecting' | 'stopped';

export interface FeedPage {
  items: LiveEvent[];
  cursor: number;
}

/** Reads the feed: after=null starts at the head. */
export type FeedReader = (after: number | null, wait: number, signal: AbortSignal) => Promise<FeedPage>;

type Listener = (events: LiveEvent[]) => void;

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });

export class LiveClient {
  private listeners = new Set<Listener>();
  private statusListeners = new Set<(s: LiveStatus) => void>();
  private seen = new Map<string, true>();
  private cursor: number | null = null;
  private controller: AbortController | null = null;
  private socket: WebSocket | null = null;
  status: LiveStatus = 'stopped';

  constructor(
    private readonly config: LiveConfig,
    private readonly readFeed: FeedReader,
    private readonly token: () => string | null,
    private readonly backoff = { initialMs: 1000, maxMs: 30000 },
  ) {}

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onStatus(listener: (s: LiveStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  start(): void {
    if (this.controller) return;
    this.controller = new AbortController();
    const signal = this.controller.signal;
    if (this.config.mode === 'websocket') void this.runSocket(this.config.url, signal);
    else void this.runPoll(signal);
  }

  stop(): void {
    this.controller?.abort();
    this.controller = null;
    this.socket?.close();
    this.socket = null;
    this.setStatus('stopped');
  }

  private setStatus(status: LiveStatus) {
    if (this.status === status) return;
    this.status = status;
    for (const l of this.statusListeners) l(status);
  }

  /** Hands new events to the listeners (deduplicated, in sequence order). */
  deliver(events: LiveEvent[]): void {
    const fresh = events.filter((e) => e && typeof e.id === 'string' && !this.seen.has(e.id));
    for (const e of fresh) {
      this.seen.set(e.id, true);
      if (typeof e.sequence === 'number' && (this.cursor === null || e.sequence > this.cursor)) this.cursor = e.sequence;
    }
    while (this.seen.size > 5000) this.seen.delete(this.seen.keys().next().value as string);
    if (fresh.length) for (const l of this.listeners) l(fresh);
  }

  private async runPoll(signal: AbortSignal) {
    let delay = this.backoff.initialMs;
    this.setStatus('connecting');
    while (!signal.aborted) {
      try {
        const page = await this.readFeed(this.cursor, this.cursor === null ? 0 : 20, signal);
        this.deliver(page.items);
        this.cursor = Math.max(this.cursor ?? 0, page.cursor);
        this.setStatus('live');
        delay = this.backoff.initialMs;
      } catch (error) {
        if (signal.aborted) break;
        this.setStatus('reconnecting');
        await sleep(delay, signal);
        delay = Math.min(delay * 2, this.backoff.maxMs);
      }
    }
  }

  /** Reads the feed from the cursor until it has nothing more (after a reconnect). */
  private async catchUp(signal: AbortSignal) {
    for (let i = 0; i < 50 && !signal.aborted; i++) {
      const page = await this.readFeed(this.cursor, 0, signal);
      this.deliver(page.items);
      this.cursor = Math.max(this.cursor ?? 0, page.cursor);
      if (!page.items.length) return;
    }
  }

  private async runSocket(url: string, signal: AbortSignal) {
    let delay = this.backoff.initialMs;
    let first = true;
    this.setStatus('connecting');
    while (!signal.aborted) {
      if (this.cursor === null) {
        try {
          this.cursor = (await this.readFeed(null, 0, signal)).cursor;
        } catch {
          /* the socket may still work; the catch-up retries on its next reconnect */
        }
      }
      const opened = await new Promise<boolean>((resolve) => {
        const target = new URL(url, window.location.href);
        if (target.protocol === 'http:') target.protocol = 'ws:';
        if (target.protocol === 'https:') target.protocol = 'wss:';
        const token = this.token();
        const socket = new WebSocket(target.toString(), token ? [LIVE_SUBPROTOCOL, `bearer.${token}`] : [LIVE_SUBPROTOCOL]);
        this.socket = socket;
        let open = false;
        let keepAlive: ReturnType<typeof setInterval> | undefined;
        socket.onopen = () => {
          open = true;
          keepAlive = setInterval(() => socket.readyState === 1 && socket.send('{"action":"keepalive"}'), KEEPALIVE_MS);
          delay = this.backoff.initialMs;
          this.setStatus('live');
          if (!first) void this.catchUp(signal).catch(() => undefined);
          first = false;
        };
        socket.onmessage = (message) => {
          try {
            const body = JSON.parse(String(message.data)) as LiveEvent | { events: LiveEvent[] };
            this.deliver('events' in body && Array.isArray(body.events) ? body.events : [body as LiveEvent]);
          } catch {
            /* not an event: ignored */
          }
        };
        socket.onclose = () => {
          clearInterval(keepAlive);
          resolve(open);
        };
        socket.onerror = () => socket.close();
        signal.addEventListener('abort', () => socket.close());
      });
      if (signal.aborted) break;
      this.setStatus('reconnecting');
      first = first && !opened;
      await sleep(delay, signal);
      delay = Math.min(delay * 2, this.backoff.maxMs);
    }
  }
}
