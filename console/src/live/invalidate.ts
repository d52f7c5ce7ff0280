/** Which cached queries an event makes stale (query keys: see src/api/keys.ts). */
import type { QueryKey } from '@tanstack/react-query';
import type { LiveEvent } from './client';

const STATION_STATE = new Set([
  'ChargerBooted',
  'ChargerConnected',
  'ChargerDisconnected',
  'ChargerWentOffline',
  'ConnectorStatusChanged',
]);
const TRANSACTION = new Set(['TransactionStarted', 'TransactionStopped', 'TransactionFlagged', 'TransactionStopCorrected']);

export function keysFor(event: LiveEvent): QueryKey[] {
  const sid = event.stationId;
  const keys: QueryKey[] = [['events']];
  const ref = event.data.transactionRef;
  if (event.dataOmitted) {
    // Too large for a live message: what it names is unknown, so everything of its station.
    keys.push(['stations'], ['transactions'], ['transaction']);
    if (event.type === 'AllocationChanged') keys.push(['site']);
    if (sid) keys.push(['station', sid]);
    return keys;
  }
  if (STATION_STATE.has(event.type)) {
    keys.push(['stations']);
    if (sid) keys.push(['station', sid]);
  } else if (TRANSACTION.has(event.type)) {
    keys.push(['transactions'], ['stations']);
    if (sid) keys.push(['station', sid]);
    if (typeof ref === 'number') keys.push(['transaction', ref]);
  } else if (event.type === 'MeterValuesReceived') {
    // The running transaction's energy so far (the API's energyWh) moves with each register sample.
    if (sid) keys.push(['station', sid, 'meter'], ['station', sid, 'transactions']);
    if (typeof ref === 'number') keys.push(['transaction', ref]);
  } else if (event.type === 'CommandFinished') {
    if (typeof event.data.commandId === 'string') keys.push(['command', event.data.commandId]);
    if (sid) keys.push(['station', sid]);
  } else if (event.type === 'AllocationChanged') {
    // A site spans stations (stationId is null): its allocation, as the site page shows it.
    if (typeof event.data.siteId === 'string') keys.push(['site', event.data.siteId, 'allocation']);
  } else if (sid) {
    keys.push(['station', sid]);
  }
  return keys;
}
