/**
 * The fleet page refreshes its one list request from live events, not a request per row: an
 * event about a station on the page (its connection, connectors, transactions, power), or one
 * that may bring another station onto it (a connection change under the Connection or Protocol
 * filter, a boot when sorted by last boot). At most one refresh a second, however busy the fleet: the
 * first event refreshes at once, the rest of that second's events in one refresh after it.
 */
import { useEffect, useRef } from 'react';
import { useApp } from '../context';
import type { LiveEvent } from './client';

const CONNECTION = new Set(['ChargerConnected', 'ChargerDisconnected', 'ChargerWentOffline']);
const ROW = new Set([
  ...CONNECTION,
  'ChargerBooted',
  'ConnectorStatusChanged',
  'TransactionStarted',
  'TransactionStopped',
  'TransactionStopCorrected',
  'MeterValuesReceived',
]);

export interface FleetView {
  /** The stations the page shows. */
  visible: ReadonlySet<string>;
  /** The list is filtered by something a connection changes: online or offline, or the protocol
   *  spoken (a station's latest connection sets it). */
  byConnection: boolean;
  sort: string;
}

export function refreshesFleet(event: LiveEvent, view: FleetView): boolean {
  const sid = event.stationId;
  if (!sid) return false;
  if (view.visible.has(sid)) return event.dataOmitted === true || ROW.has(event.type);
  if (view.byConnection && CONNECTION.has(event.type)) return true;
  return view.sort === 'lastBootAt' && event.type === 'ChargerBooted';
}

/** Calls `run` at most once per `ms`: at once when idle, else once when the period ends. */
export class Throttle {
  private last = -Infinity;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly run: () => void,
    private readonly ms: number,
    private readonly now: () => number = () => Date.now(),
  ) {}

  trigger(): void {
    if (this.timer) return;
    const wait = this.last + this.ms - this.now();
    if (wait <= 0) {
      this.fire();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      this.fire();
    }, wait);
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private fire() {
    this.last = this.now();
    this.run();
  }
}

export const FLEET_REFRESH_MS = 1000;

/** Refetches the fleet page (`refetch`) when live events concern it, throttled. */
export function useFleetLiveRefresh(view: FleetView, refetch: () => void): void {
  const { live } = useApp();
  const current = useRef({ view, refetch });
  current.current = { view, refetch };
  useEffect(() => {
    const throttle = new Throttle(() => current.current.refetch(), FLEET_REFRESH_MS);
    const unsubscribe = live.subscribe((events) => {
      if (events.some((e) => refreshesFleet(e, current.current.view))) throttle.trigger();
    });
    return () => {
      unsubscribe();
      throttle.cancel();
    };
  }, [live]);
}
