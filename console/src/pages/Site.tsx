/** A site's single-line diagram with its live allocation, and what the role may change. */
import { useMemo, useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Anchor, Button, Group, NumberInput, Stack, Text, Title } from '@mantine/core';
import { Link, useParams } from 'react-router-dom';
import { useApi, useCan } from '../context';
import { data, type Schemas } from '../api/client';
import { ApiError } from '../api/problem';
import { formatTime, Loading, Muted, ProblemAlert, RequireRole } from '../components/common';
import { SiteDiagram } from '../sites/SiteDiagram';
import { buildTree, kindLabel, nodeLabel, PHASES, type SiteNode, type TreeNode } from '../sites/model';
import { ModalDialog } from '../components/ModalDialog';

/** The API's message for a body field (by its path below `body.`). */
function fieldError(error: unknown, path: string): string | undefined {
  return error instanceof ApiError ? error.bodyFieldErrors()[path] : undefined;
}

/** The node as PUT /nodes/{nodeId} takes it: what the API sent, nulls left out. */
function nodeIn(node: SiteNode, patch: Partial<Schemas['NodeIn']>): Schemas['NodeIn'] {
  const body: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) if (v !== null && v !== undefined) body[k] = v;
  return { ...(body as Schemas['NodeIn']), ...patch };
}

type Draft = Record<string, number | string>;

function LimitEditor({ siteId, node, onClose }: { siteId: string; node: SiteNode; onClose: () => void }) {
  const api = useApi();
  const client = useQueryClient();
  const phases = node.phases.length ? node.phases : [...PHASES];
  const [draft, setDraft] = useState<Draft>(() => ({
    ...Object.fromEntries(phases.map((p) => [p, node.limitA[p] ?? ''])),
    kw: node.maxPowerKw ?? '',
  }));
  const [error, setError] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  const label = `${kindLabel(node.kind)} ${nodeLabel(node)}`;

  async function save() {
    setError(null);
    setSaving(true);
    const limitA: Record<string, number> = {};
    for (const p of phases) if (typeof draft[p] === 'number') limitA[p] = draft[p] as number;
    try {
      await api.PUT('/api/v1/sites/{siteId}/nodes/{nodeId}', {
        params: { path: { siteId, nodeId: node.id } },
        body: nodeIn(node, { limitA, maxPowerKw: typeof draft.kw === 'number' ? draft.kw : null }),
      });
      await client.invalidateQueries({ queryKey: ['site', siteId] });
      onClose();
    } catch (e) {
      setError(e);
    } finally {
      setSaving(false);
    }
  }

  return (
    <ModalDialog opened onClose={onClose} title={`Limits of ${label}`}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <Stack gap="sm">
          <Text size="sm" c="dimmed">
            Empty: not limited on that phase. The allocation is computed again at once.
          </Text>
          {phases.map((p) => (
            <NumberInput
              key={p}
              label={`${p} limit (A)`}
              min={0}
              value={draft[p]}
              onChange={(v) => setDraft((d) => ({ ...d, [p]: v }))}
              error={fieldError(error, `limitA.${p}`) ?? fieldError(error, 'limitA')}
            />
          ))}
          <NumberInput
            label="Power limit (kW)"
            description="Optional: the limit of the total power"
            min={0}
            value={draft.kw}
            onChange={(v) => setDraft((d) => ({ ...d, kw: v }))}
            error={fieldError(error, 'maxPowerKw')}
          />
          <ProblemAlert error={error} title="The limits were not accepted" />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={saving}>
              Save limits
            </Button>
          </Group>
        </Stack>
      </form>
    </ModalDialog>
  );
}

function Reallocate({ siteId }: { siteId: string }) {
  const api = useApi();
  const client = useQueryClient();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  return (
    <>
      <Button
        variant="light"
        loading={busy}
        onClick={async () => {
          setError(null);
          setBusy(true);
          try {
            const answer = data(await api.POST('/api/v1/sites/{siteId}/allocation', { params: { path: { siteId } } }));
            client.setQueryData(['site', siteId, 'allocation'], answer);
          } catch (e) {
            setError(e);
          } finally {
            setBusy(false);
          }
        }}
      >
        Reallocate now
      </Button>
      <ProblemAlert error={error} title="Could not reallocate" />
    </>
  );
}

export default function SitePage() {
  const { siteId = '' } = useParams();
  const api = useApi();
  const admin = useCan('admin');
  const [editing, setEditing] = useState<SiteNode | null>(null);
  const path = { params: { path: { siteId } } };
  const site = useQuery({ queryKey: ['site', siteId], queryFn: async () => data(await api.GET('/api/v1/sites/{siteId}', path)) });
  const nodes = useQuery({ queryKey: ['site', siteId, 'nodes'], queryFn: async () => data(await api.GET('/api/v1/sites/{siteId}/nodes', path)) });
  const allocation = useQuery({
    queryKey: ['site', siteId, 'allocation'],
    queryFn: async () => {
      try {
        return data(await api.GET('/api/v1/sites/{siteId}/allocation', path));
      } catch (e) {
        // No allocation yet: the tree without loads.
        if (e instanceof ApiError && e.status === 404 && site.data) return null;
        throw e;
      }
    },
    enabled: site.isSuccess,
  });
  const roots = useMemo(() => buildTree(nodes.data?.nodes ?? [], allocation.data ?? null), [nodes.data, allocation.data]);
  const name = site.data?.name ?? siteId;
  const a = allocation.data;

  const actions = admin
    ? (t: TreeNode) =>
        t.node.kind === 'evse' ? null : (
          <Button size="xs" variant="subtle" aria-label={`Change limits of ${kindLabel(t.node.kind)} ${nodeLabel(t.node)}`} onClick={() => setEditing(t.node)}>
            Change limits
          </Button>
        )
    : undefined;

  return (
    <>
      <Anchor component={Link} to="/sites" size="sm">
        ← Sites
      </Anchor>
      <Group justify="space-between" align="flex-start" mb="sm">
        <div>
          <Title order={1}>{name}</Title>
          {site.data ? (
            <Text size="sm" c="dimmed">
              {site.data.id} · {site.data.nominalVoltageV} V per phase · headroom {site.data.headroomA} A
              {site.data.locationId ? ` · location ${site.data.locationId}` : ''}
            </Text>
          ) : null}
        </div>
        <RequireRole role="operator">
          <Reallocate siteId={siteId} />
        </RequireRole>
      </Group>
      <ProblemAlert error={site.error} title="Could not load the site" />
      <ProblemAlert error={nodes.error} title="Could not load the electrical tree" />
      <ProblemAlert error={allocation.error} title="Could not load the allocation" />
      <Title order={2} size="h3" mb="xs">
        Single-line diagram
      </Title>
      <Text size="sm" mb="sm" role="status" aria-label="Allocation">
        {a ? `Allocation ${a.id} of ${formatTime(a.computedAt)} (${a.cause}): amperes allocated per phase against each limit in force, updated live.` : allocation.isSuccess ? 'No allocation yet: limits only.' : ''}
      </Text>
      {nodes.isLoading ? <Loading label="Loading the electrical tree" /> : null}
      {nodes.data && !nodes.data.nodes.length ? <Muted>This site has no electrical tree yet (PUT /api/v1/sites/{siteId}/nodes).</Muted> : null}
      {roots.length ? <SiteDiagram roots={roots} name={`Single-line diagram of ${name}`} actions={actions} /> : null}
      {editing ? <LimitEditor siteId={siteId} node={editing} onClose={() => setEditing(null)} /> : null}
    </>
  );
}
