/** API answers shaped as docs/openapi.json says (typed, so they cannot drift from it). */
import type { Schemas } from '../api/client';

export function station(id: string, patch: Partial<Schemas['StationDetail']> = {}): Schemas['StationDetail'] {
  return {
    id,
    online: true,
    protocol: 'ocpp2.0.1',
    lastProtocol: 'ocpp2.0.1',
    ocppVersion: null,
    registrationStatus: 'Accepted',
    vendor: 'Acme',
    model: 'Fast',
    firmwareVersion: '1.0',
    serialNumber: null,
    chargeBoxSerialNumber: null,
    meterSerialNumber: null,
    meterType: null,
    iccid: null,
    imsi: null,
    bootReason: null,
    connectedAt: '2026-01-01T00:00:00Z',
    connectionAgeSeconds: 10,
    createdAt: '2026-01-01T00:00:00Z',
    decommissionedAt: null,
    hasPassword: true,
    lastBootAt: '2026-01-01T00:00:00Z',
    lastSeen: '2026-01-01T00:00:00Z',
    locationId: null,
    securityProfile: 1,
    securityProfileSource: 'station',
    evses: [
      {
        evseId: 1,
        connectors: [
          {
            connectorId: 1,
            status: 'Occupied',
            state: 'Occupied',
            chargingState: 'Charging',
            errorCode: null,
            info: null,
            vendorId: null,
            vendorErrorCode: null,
            since: '2026-01-01T00:00:00Z',
            updatedAt: '2026-01-01T00:00:00Z',
          },
        ],
      },
    ],
    ...patch,
  };
}

export function transaction(patch: Partial<Schemas['TransactionOut']> = {}): Schemas['TransactionOut'] {
  return {
    id: 7,
    transactionId: 'TX-7',
    stationId: 'CP-1',
    evseId: 1,
    connectorId: 1,
    open: true,
    offline: false,
    protocol: 'ocpp2.0.1',
    startedAt: '2026-01-01T00:00:00Z',
    stoppedAt: null,
    durationSeconds: 600,
    energyWh: 1200,
    energyMeasuredAt: null,
    meterStart: 0,
    meterStop: null,
    idToken: { idToken: 'TAG-1', type: 'ISO14443' },
    stopIdToken: null,
    stopReason: null,
    chargingState: 'Charging',
    closedBy: null,
    deauthorizedAt: null,
    flagReason: null,
    flaggedAt: null,
    remoteStartId: null,
    reservationId: null,
    seqNo: null,
    startAuthStatus: 'Accepted',
    ...patch,
  };
}

export const page = <T,>(items: T[]) => ({ items, total: items.length, limit: 50, offset: 0 });

export const meter = {
  from: null,
  to: null,
  bucket: null,
  series: [
    {
      measurand: 'Power.Active.Import',
      phase: null,
      unit: 'W',
      location: 'Outlet',
      points: [
        { timestamp: '2026-01-01T00:00:00Z', value: '7000', numericValue: 7000, context: 'Sample.Periodic', format: 'Raw' },
        { timestamp: '2026-01-01T00:01:00Z', value: '7200', numericValue: 7200, context: 'Sample.Periodic', format: 'Raw' },
      ],
    },
    {
      measurand: 'Energy.Active.Import.Register',
      phase: null,
      unit: 'Wh',
      location: 'Outlet',
      points: [
        { timestamp: '2026-01-01T00:00:00Z', value: '0', numericValue: 0, context: 'Sample.Periodic', format: 'Raw' },
        { timestamp: '2026-01-01T00:01:00Z', value: '120', numericValue: 120, context: 'Sample.Periodic', format: 'Raw' },
      ],
    },
  ],
};

/** A station as GET /stations lists it: its row and its summary (connectors, transactions, power). */
export function listed(id: string, patch: Partial<Schemas['StationListItem']> = {}): Schemas['StationListItem'] {
  const { evses: _evses, ...row } = station(id);
  return {
    ...row,
    connectors: [{ evseId: 1, connectorId: 1, status: 'Occupied', state: 'Occupied', chargingState: 'Charging' }],
    runningTransactions: 1,
    powerW: 7200,
    powerAt: '2026-01-01T00:00:00Z',
    ...patch,
  };
}
