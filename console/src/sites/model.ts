/** The site's tree and its allocation, joined for the single-line diagram (pure). */
import type { Schemas } from '../api/client';

export type SiteNode = Schemas['NodeOut'];
export type Allocation = Schemas['AllocationOut'];
export type NodeLoad = Schemas['NodeAllocationOut'];
export type EvseLoad = Schemas['EvseAllocationOut'];

export const PHASES = ['L1', 'L2', 'L3'] as const;

export interface TreeNode {
  node: SiteNode;
  load: NodeLoad | undefined;
  evse: EvseLoad | undefined;
  children: TreeNode[];
}

const KIND_ORDER: Record<string, number> = { grid: 0, circuit: 1, station: 2, evse: 3 };

/**
 * The nodes as a tree, the grid connection (no parent) at the root; nodes whose parent is
 * missing are roots too, so nothing the API sent goes unseen. Children: circuits, then
 * stations, then EVSEs, each by id.
 */
export function buildTree(nodes: SiteNode[], allocation: Allocation | null): TreeNode[] {
  const loads = new Map((allocation?.nodes ?? []).map((n) => [n.nodeId, n]));
  const evses = new Map((allocation?.evses ?? []).map((e) => [e.nodeId, e]));
  const byId = new Map<string, TreeNode>();
  for (const node of nodes) byId.set(node.id, { node, load: loads.get(node.id), evse: evses.get(node.id), children: [] });
  const roots: TreeNode[] = [];
  for (const t of byId.values()) {
    const parent = t.node.parentId ? byId.get(t.node.parentId) : undefined;
    (parent && parent !== t ? parent.children : roots).push(t);
  }
  const order = (a: TreeNode, b: TreeNode) =>
    (KIND_ORDER[a.node.kind] ?? 9) - (KIND_ORDER[b.node.kind] ?? 9) || a.node.id.localeCompare(b.node.id);
  const sort = (list: TreeNode[]) => {
    list.sort(order);
    for (const t of list) sort(t.children);
  };
  sort(roots);
  return roots;
}

export type LoadLevel = 'ok' | 'near' | 'over' | 'unlimited';

/** Near from 90 % of the limit; over above it (a hair of rounding tolerated). */
export function loadLevel(value: number, limit: number | null | undefined): LoadLevel {
  if (limit === null || limit === undefined) return 'unlimited';
  if (value > limit + 1e-6) return 'over';
  if (limit === 0 ? value > 0 : value >= 0.9 * limit) return 'near';
  return 'ok';
}

export const LEVEL_COLOR: Record<LoadLevel, string> = { ok: 'teal', near: 'orange', over: 'red', unlimited: 'gray' };

/** A phase's limit in force: the allocation's (a schedule may lower it), else the tree's. */
export function phaseLimit(t: TreeNode, phase: string): number | null {
  if (t.load && phase in t.load.limitA) return t.load.limitA[phase] ?? null;
  return t.node.limitA[phase] ?? null;
}

export function kindLabel(kind: string): string {
  return { grid: 'Grid connection', circuit: 'Circuit', station: 'Station', evse: 'EVSE' }[kind] ?? kind;
}

export function nodeLabel(node: SiteNode): string {
  if (node.name) return node.name;
  if (node.kind === 'evse' && node.stationId) return `${node.stationId} EVSE ${node.evseId ?? '?'}`;
  if (node.kind === 'station' && node.stationId) return node.stationId;
  return node.id;
}

export type EvseState = 'charging' | 'paused' | 'maximum' | 'idle';

/** Paused at 0 (even its minimum does not fit), counted at its maximum (not controlled), charging, or idle. */
export function evseState(e: EvseLoad): EvseState {
  if (!e.controlled) return 'maximum';
  if (e.paused) return 'paused';
  return e.active ? 'charging' : 'idle';
}

export const EVSE_STATE: Record<EvseState, { label: string; color: string }> = {
  charging: { label: 'Charging', color: 'blue' },
  paused: { label: 'Paused at 0 A', color: 'orange' },
  maximum: { label: 'Counted at maximum', color: 'red' },
  idle: { label: 'Idle', color: 'gray' },
};

/** "L1 L2 L3", "L2 (single-phase)", or a rotation "L2 L3 L1" of the EVSE's L1, L2, L3. */
export function wiringText(wiring: string[] | null | undefined): string {
  if (!wiring?.length) return 'not set';
  if (wiring.length === 1) return `${wiring[0]} (single-phase)`;
  return wiring.map((site, i) => `L${i + 1}→${site}`).join(', ');
}

export function amps(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  return `${Number.isInteger(value) ? value : value.toFixed(1)} A`;
}

export function kw(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  return `${Number.isInteger(value) ? value : value.toFixed(1)} kW`;
}
