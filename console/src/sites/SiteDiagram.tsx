/**
 * The site's single-line diagram: the grid connection at the top, circuits, stations, then
 * EVSEs, each node with its limit per phase (and kW) and the load allocated below it against
 * that limit, each EVSE with its allocated current, its state and its phase wiring.
 */
import type { ReactNode } from 'react';
import { Badge, Card, Group, Stack, Text, Title } from '@mantine/core';
import classes from './SiteDiagram.module.css';
import {
  amps,
  EVSE_STATE,
  evseState,
  kindLabel,
  kw,
  LEVEL_COLOR,
  loadLevel,
  nodeLabel,
  phaseLimit,
  PHASES,
  wiringText,
  type TreeNode,
} from './model';

const LEVEL_TEXT = { ok: '', near: 'near limit', over: 'over limit', unlimited: 'not limited' } as const;

/** One phase's (or the power's) load against its limit, as an ARIA meter. */
function LoadMeter({ name, label, value, limit, unit, detail }: { name: string; label: string; value: number | null; limit: number | null; unit: 'A' | 'kW'; detail?: string }) {
  const fmt = unit === 'A' ? amps : kw;
  const level = loadLevel(value ?? 0, limit);
  const color = LEVEL_COLOR[level];
  const pct = limit ? Math.min(100, (100 * (value ?? 0)) / limit) : 0;
  const text = `${value === null ? 'no load known' : fmt(value)} of ${limit === null ? 'no limit' : fmt(limit)}${LEVEL_TEXT[level] ? `, ${LEVEL_TEXT[level]}` : ''}`;
  return (
    <div>
      <Group justify="space-between" gap={4} wrap="nowrap">
        <Text size="xs" fw={600}>
          {label}
        </Text>
        <Text size="xs" c={level === 'over' ? 'red' : level === 'near' ? 'orange' : undefined} fw={level === 'over' ? 700 : undefined}>
          {text}
        </Text>
      </Group>
      <div
        role="meter"
        aria-label={name}
        aria-valuemin={0}
        aria-valuemax={limit ?? undefined}
        aria-valuenow={value ?? 0}
        aria-valuetext={text}
        data-level={level}
        className={classes.meter}
      >
        <div className={classes.fill} style={{ width: `${pct}%`, background: `var(--mantine-color-${color}-6)` }} />
      </div>
      {detail ? (
        <Text size="xs" c="dimmed">
          {detail}
        </Text>
      ) : null}
    </div>
  );
}

function NodeLoads({ t, label }: { t: TreeNode; label: string }) {
  const { node, load } = t;
  const phases = node.phases.length ? node.phases : [...PHASES];
  const meters = phases.map((phase) => {
    const limit = phaseLimit(t, phase);
    const configured = node.limitA[phase];
    const nonEv = load?.nonEvA[phase];
    const notes = [
      configured !== undefined && limit !== null && limit < configured ? `lowered from ${amps(configured)} by its schedule` : '',
      nonEv ? `non-EV ${amps(nonEv)}` : '',
    ].filter(Boolean);
    return (
      <LoadMeter
        key={phase}
        name={`${label} ${phase}`}
        label={phase}
        value={load ? (load.allocatedA[phase] ?? 0) : null}
        limit={limit}
        unit="A"
        detail={notes.join('; ') || undefined}
      />
    );
  });
  const maxKw = load?.maxPowerKw ?? node.maxPowerKw;
  return (
    <Stack gap={4}>
      {meters}
      {maxKw !== null && maxKw !== undefined ? <LoadMeter name={`${label} power`} label="kW" value={load ? load.allocatedKw : null} limit={maxKw} unit="kW" /> : null}
    </Stack>
  );
}

function EvseLoads({ t, label }: { t: TreeNode; label: string }) {
  const { node, evse } = t;
  const state = evse ? EVSE_STATE[evseState(evse)] : null;
  return (
    <Stack gap={4}>
      <Group gap={4}>
        {state ? (
          <Badge color={state.color} variant="light" aria-label={`${label} state: ${state.label}`}>
            {state.label}
          </Badge>
        ) : (
          <Badge color="gray" variant="outline">
            Not allocated
          </Badge>
        )}
      </Group>
      <LoadMeter
        name={`${label} allocated current`}
        label="Allocated per phase"
        value={evse ? evse.limitA : null}
        limit={node.maxCurrentA ?? null}
        unit="A"
        detail={evse ? `wants ${amps(evse.demandA)}; min ${amps(node.minCurrentA)}` : `min ${amps(node.minCurrentA)}`}
      />
      <Text size="xs">Wiring: {wiringText(node.phaseWiring ?? evse?.phases)}</Text>
    </Stack>
  );
}

function NodeCard({ t, actions }: { t: TreeNode; actions?: (t: TreeNode) => ReactNode }) {
  const { node, load } = t;
  const label = nodeLabel(node);
  const kind = kindLabel(node.kind);
  return (
    <Card withBorder padding="xs" radius="sm" className={`${classes.node} ${load?.overloaded ? classes.overloaded : ''}`} role="group" aria-label={`${kind} ${label}`} data-testid={`node-${node.id}`}>
      <Stack gap={6}>
        <div>
          <Text size="xs" c="dimmed" tt="uppercase">
            {kind}
          </Text>
          <Title order={3} size="h5">
            {label}
          </Title>
          {label !== node.id ? (
            <Text size="xs" c="dimmed">
              {node.id}
            </Text>
          ) : null}
        </div>
        {load?.overloaded ? (
          <Badge color="red" variant="filled">
            Overloaded
          </Badge>
        ) : null}
        {node.kind === 'evse' ? <EvseLoads t={t} label={label} /> : <NodeLoads t={t} label={label} />}
        {actions?.(t)}
      </Stack>
    </Card>
  );
}

function Branch({ t, actions }: { t: TreeNode; actions?: (t: TreeNode) => ReactNode }) {
  return (
    <li>
      <NodeCard t={t} actions={actions} />
      {t.children.length ? (
        <ul>
          {t.children.map((c) => (
            <Branch key={c.node.id} t={c} actions={actions} />
          ))}
        </ul>
      ) : null}
    </li>
  );
}

export function SiteDiagram({ roots, name, actions }: { roots: TreeNode[]; name: string; actions?: (t: TreeNode) => ReactNode }) {
  return (
    <div className={classes.diagram}>
      <ul aria-label={name}>
        {roots.map((t) => (
          <Branch key={t.node.id} t={t} actions={actions} />
        ))}
      </ul>
    </div>
  );
}
