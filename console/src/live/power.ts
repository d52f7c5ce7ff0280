/** The latest active power each station reported, from MeterValuesReceived events. */
import { useSyncExternalStore } from 'react';
import type { LiveEvent } from './client';

export interface PowerReading {
  watts: number;
  at: string;
}

const readings = new Map<string, PowerReading>();
const listeners = new Set<() => void>();
let version = 0;

interface Sample {
  measurand?: string;
  phase?: string | null;
  unit?: string;
  value?: string;
  timestamp?: string;
}

/** Active import power of one frame's samples in W (phases summed when no total is given). */
export function powerOf(samples: Sample[]): PowerReading | null {
  const power = samples.filter((s) => s.measurand === 'Power.Active.Import');
  if (!power.length) return null;
  const toWatts = (s: Sample) => Number(s.value) * (s.unit === 'kW' ? 1000 : 1);
  const total = power.filter((s) => !s.phase);
  const chosen = total.length ? [total[total.length - 1]] : power.filter((s) => /^L[123](-N)?$/.test(s.phase ?? ''));
  const watts = chosen.reduce((sum, s) => sum + toWatts(s), 0);
  if (!Number.isFinite(watts)) return null;
  return { watts, at: chosen[0]?.timestamp ?? '' };
}

export function recordPower(events: LiveEvent[]): void {
  let changed = false;
  for (const e of events) {
    if (!e.stationId) continue;
    if (e.type === 'MeterValuesReceived') {
      const reading = powerOf((e.data.samples as Sample[]) ?? []);
      if (reading) {
        readings.set(`${e.stationId}/${String(e.data.evseId)}`, reading);
        changed = true;
      }
    } else if (e.type === 'TransactionStopped') {
      for (const key of [...readings.keys()]) if (key.startsWith(`${e.stationId}/`)) readings.delete(key);
      changed = true;
    }
  }
  if (changed) {
    version++;
    for (const l of listeners) l();
  }
}

function subscribe(listener: () => void) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The station's power in W (its EVSEs summed), or null when none reported since the page opened. */
export function useStationPower(stationId: string): number | null {
  useSyncExternalStore(subscribe, () => version);
  let sum: number | null = null;
  for (const [key, reading] of readings) {
    if (key.startsWith(`${stationId}/`) && !key.endsWith('/0')) sum = (sum ?? 0) + reading.watts;
  }
  return sum;
}
