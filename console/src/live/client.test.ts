import { afterEach, describe, expect, it, vi } from 'vitest';
import { LiveClient, type FeedPage, type LiveEvent } from './client';
import { keysFor } from './invalidate';

const event = (sequence: number, type = 'ConnectorStatusChanged', data: Record<string, unknown> = {}): LiveEvent => ({
  id: `e${sequence}`,
  type,
  version: 2,
  tenantId: 't',
  stationId: 'CP-1',
  occurredAt: '2026-01-01T00:00:00Z',
  correlationId: 'x',
  sequence,
  data,
});

class FakeSocket {
  static sockets: FakeSocket[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((m: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  onerror: (() => void) | null = null;
  sent: string[] = [];
  readyState = 1;
  constructor(
    readonly url: string,
    readonly protocols?: string[],
  ) {
    FakeSocket.sockets.push(this);
    queueMicrotask(() => this.onopen?.());
  }
  send(text: string) {
    this.sent.push(text);
  }
  close() {
    this.onclose?.();
  }
}

afterEach(() => vi.unstubAllGlobals());

describe('LiveClient', () => {
  it('polls the feed from its head and hands new events over once each', async () => {
    const pages: FeedPage[] = [
      { items: [], cursor: 10 },
      { items: [event(11), event(12)], cursor: 12 },
      { items: [event(12), event(13)], cursor: 13 }, // at least once: 12 again
    ];
    const asked: (number | null)[] = [];
    const read = vi.fn(async (after: number | null, _wait: number, signal: AbortSignal) => {
      asked.push(after);
      const page = pages.shift();
      if (page) return page;
      return new Promise<FeedPage>((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
    });
    const client = new LiveClient({ mode: 'poll' }, read, () => 'tok');
    const got: string[] = [];
    client.subscribe((events) => got.push(...events.map((e) => e.id)));
    client.start();
    await vi.waitFor(() => expect(got).toEqual(['e11', 'e12', 'e13']));
    expect(asked.slice(0, 3)).toEqual([null, 10, 12]);
    expect(client.status).toBe('live');
    client.stop();
  });

  it('retries the feed with the same cursor after an error', async () => {
    let calls = 0;
    const read = vi.fn(async (_after: number | null, _wait: number, signal: AbortSignal): Promise<FeedPage> => {
      calls++;
      if (calls === 1) return { items: [], cursor: 5 };
      if (calls === 2) throw new Error('503');
      if (calls === 3) return { items: [event(6)], cursor: 6 };
      return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
    });
    const client = new LiveClient({ mode: 'poll' }, read, () => 'tok', { initialMs: 1, maxMs: 2 });
    const got: string[] = [];
    client.subscribe((events) => got.push(...events.map((e) => e.id)));
    client.start();
    await vi.waitFor(() => expect(got).toEqual(['e6']));
    expect(read.mock.calls.map((c) => c[0])).toEqual([null, 5, 5, 6]);
    client.stop();
  });

  it('takes events from the WebSocket (one envelope or a batch) and catches up from the feed after a reconnect', async () => {
    FakeSocket.sockets = [];
    vi.stubGlobal('WebSocket', FakeSocket);
    const feed: FeedPage[] = [{ items: [], cursor: 20 }, { items: [event(23)], cursor: 23 }, { items: [], cursor: 23 }];
    const read = vi.fn(async () => feed.shift() ?? { items: [], cursor: 23 });
    const client = new LiveClient({ mode: 'websocket', url: 'wss://live.example/console' }, read, () => 'tok', { initialMs: 1, maxMs: 2 });
    const got: string[] = [];
    client.subscribe((events) => got.push(...events.map((e) => e.id)));
    client.start();
    await vi.waitFor(() => expect(FakeSocket.sockets).toHaveLength(1));
    const first = FakeSocket.sockets[0];
    expect(first.protocols).toEqual(['csms.live.v1', 'bearer.tok']); // ADR 0025: the token as a subprotocol
    await vi.waitFor(() => expect(client.status).toBe('live'));
    first.onmessage?.({ data: JSON.stringify({ events: [event(21)] }) });
    first.onmessage?.({ data: JSON.stringify({ events: [event(21), event(22)] }) });
    expect(got).toEqual(['e21', 'e22']);
    first.close(); // the connection drops; the client reconnects and reads what it missed
    await vi.waitFor(() => expect(FakeSocket.sockets).toHaveLength(2));
    await vi.waitFor(() => expect(got).toEqual(['e21', 'e22', 'e23']));
    expect(read).toHaveBeenCalledWith(22, 0, expect.anything());
    client.stop();
  });
});

describe('what an event makes stale', () => {
  it('names the station, the fleet, the transaction and the command', () => {
    expect(keysFor(event(1, 'ConnectorStatusChanged'))).toEqual(expect.arrayContaining([['stations'], ['station', 'CP-1']]));
    expect(keysFor(event(1, 'TransactionStarted', { transactionRef: 7 }))).toEqual(
      expect.arrayContaining([['transactions'], ['station', 'CP-1'], ['transaction', 7]]),
    );
    expect(keysFor(event(1, 'MeterValuesReceived', { transactionRef: 7 }))).toEqual(expect.arrayContaining([['transaction', 7]]));
    expect(keysFor(event(1, 'MeterValuesReceived', { transactionRef: 7 }))).not.toContainEqual(['stations']);
    expect(keysFor(event(1, 'CommandFinished', { commandId: 'c-1' }))).toEqual(expect.arrayContaining([['command', 'c-1']]));
    // an event sent without its data (too large for a message): everything it may touch
    expect(keysFor({ ...event(1, 'MeterValuesReceived'), dataOmitted: true })).toEqual(
      expect.arrayContaining([['station', 'CP-1'], ['transaction'], ['transactions']]),
    );
  });
});
