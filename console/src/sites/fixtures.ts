/** A small site as the API answers it (typed: cannot drift from docs/openapi.json). */
import type { Schemas } from '../api/client';

type NodeOut = Schemas['NodeOut'];

const none = {
  name: null,
  maxPowerKw: null,
  nonEvAllowanceA: {},
  stationId: null,
  evseId: null,
  phaseWiring: null,
  minCurrentA: null,
  maxCurrentA: null,
  priority: null,
};
const three = ['L1', 'L2', 'L3'];
const amps = (a: number) => ({ L1: a, L2: a, L3: a });

export const site: Schemas['SiteOut'] = {
  id: 'yard',
  name: 'Depot yard',
  locationId: null,
  nominalVoltageV: 230,
  headroomA: 2,
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
};

const evse = (id: string, parentId: string, stationId: string, evseId: number, wiring: string[], patch: Partial<NodeOut> = {}): NodeOut => ({
  ...none,
  id,
  parentId,
  kind: 'evse',
  phases: [...wiring].sort(),
  limitA: {},
  stationId,
  evseId,
  phaseWiring: wiring,
  minCurrentA: 6,
  maxCurrentA: 32,
  priority: 1,
  ...patch,
});

export const nodes: NodeOut[] = [
  { ...none, id: 'grid', parentId: null, kind: 'grid', name: 'Grid connection', phases: three, limitA: amps(63), maxPowerKw: 40, nonEvAllowanceA: amps(10) },
  { ...none, id: 'feeder-1', parentId: 'grid', kind: 'circuit', phases: three, limitA: amps(32) },
  { ...none, id: 'cp-1', parentId: 'feeder-1', kind: 'station', phases: three, limitA: {}, stationId: 'CP-1' },
  evse('cp-1-1', 'cp-1', 'CP-1', 1, ['L1', 'L2', 'L3']),
  evse('cp-1-2', 'cp-1', 'CP-1', 2, ['L2', 'L3', 'L1']),
  evse('cp-2-1', 'grid', 'CP-2', 1, ['L2'], { priority: 2 }),
];

const nodeLoad = (nodeId: string, allocatedA: Record<string, number>, limitA: Record<string, number | null>, patch: Partial<Schemas['NodeAllocationOut']> = {}): Schemas['NodeAllocationOut'] => ({
  nodeId,
  allocatedA,
  limitA,
  nonEvA: {},
  maxPowerKw: null,
  allocatedKw: (230 * Object.values(allocatedA).reduce((s, a) => s + a, 0)) / 1000,
  overloaded: false,
  ...patch,
});

/**
 * CP-1 EVSE 1 charges at 16 A; EVSE 2 is paused at 0; CP-2 EVSE 1 (single-phase L2) is offline
 * and counted at its maximum, 32 A: the grid's L2 is over its 63 A (10 A non-EV + 16 + 32 + 6
 * rounding), L1 near it; the feeder well under.
 */
export const allocation: Schemas['AllocationOut'] = {
  id: 41,
  siteId: 'yard',
  computedAt: '2026-01-01T00:05:00Z',
  cause: 'Scheduled',
  evses: [
    { stationId: 'CP-1', evseId: 1, nodeId: 'cp-1-1', phases: ['L1', 'L2', 'L3'], limitA: 16, demandA: 32, active: true, controlled: true, paused: false },
    { stationId: 'CP-1', evseId: 2, nodeId: 'cp-1-2', phases: ['L1', 'L2', 'L3'], limitA: 0, demandA: 32, active: true, controlled: true, paused: true },
    { stationId: 'CP-2', evseId: 1, nodeId: 'cp-2-1', phases: ['L2'], limitA: 32, demandA: 32, active: false, controlled: false, paused: false },
  ],
  nodes: [
    nodeLoad('grid', { L1: 57, L2: 64, L3: 26 }, amps(63), { nonEvA: amps(10), maxPowerKw: 40, overloaded: true }),
    nodeLoad('feeder-1', { L1: 16, L2: 16, L3: 16 }, { L1: 32, L2: 32, L3: 20 }),
    nodeLoad('cp-1', { L1: 16, L2: 16, L3: 16 }, { L1: null, L2: null, L3: null }),
  ],
  plan: [],
  outcomes: [],
};
