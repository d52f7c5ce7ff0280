/**
 * The tenant's settings (ADR 0026): the security profile new stations get and the file URL
 * allow-list of firmware and log commands. Any role reads them; an admin changes them. The API
 * decides what is valid: its 422 is shown under the field it names.
 */
import { useEffect, useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Button, Card, Checkbox, Group, Radio, Stack, TagsInput, Text, Title } from '@mantine/core';
import { useApi, useCan } from '../context';
import { data, type Schemas } from '../api/client';
import { ApiError } from '../api/problem';
import { Loading, ProblemAlert } from '../components/common';

type Settings = Schemas['TenantSettingsOut'];
type Update = Schemas['TenantSettingsUpdate'];

export const SCHEMES = ['https', 'ftps', 'sftp', 'http', 'ftp'] as const;
const CLEAR_TEXT = new Set(['http', 'ftp']);

const PROFILES = [
  { value: '2', label: '2: a password, HTTP Basic auth over TLS (recommended)' },
  { value: '1', label: '1: a password, HTTP Basic auth' },
  { value: '0', label: '0: no password (only for stations that can do nothing else)' },
];

/**
 * The API's field errors by the body field they name (`body.fileUrlHosts.1` → fileUrlHosts),
 * an item of a list named by its value (`files_example.com: ...`), which the index is to the API.
 */
export function errorsByField(error: unknown, sent: Record<string, unknown> = {}): Record<string, string> {
  if (!(error instanceof ApiError) || error.status !== 422) return {};
  const out: Record<string, string> = {};
  for (const [path, message] of Object.entries(error.bodyFieldErrors())) {
    const [field, ...rest] = path.split('.');
    const list = sent[field];
    const item = Array.isArray(list) && rest.length === 1 && /^\d+$/.test(rest[0]) ? list[Number(rest[0])] : undefined;
    const where = item !== undefined ? `${String(item)}: ` : rest.length ? `${rest.join('.')}: ` : '';
    out[field] = out[field] ? `${out[field]}; ${where}${message}` : `${where}${message}`;
  }
  // A 422 without field paths that names a field in its detail (the API's own checks).
  if (!Object.keys(out).length && error.detail) {
    const named = /^(defaultSecurityProfile|fileUrlSchemes|fileUrlHosts)\b/.exec(error.detail);
    if (named) out[named[1]] = error.detail;
  }
  return out;
}

interface Draft {
  profile: string;
  defaultSchemes: boolean;
  schemes: string[];
  hosts: string[];
}

function draftOf(s: Settings): Draft {
  return {
    profile: String(s.defaultSecurityProfile),
    defaultSchemes: s.fileUrlSchemes === null,
    schemes: s.fileUrlSchemes ?? s.effectiveFileUrlSchemes,
    hosts: s.fileUrlHosts ?? [],
  };
}

function SettingsForm({ settings }: { settings: Settings }) {
  const api = useApi();
  const client = useQueryClient();
  const admin = useCan('admin');
  const [draft, setDraft] = useState<Draft>(() => draftOf(settings));
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  useEffect(() => setDraft(draftOf(settings)), [settings]);
  const [sent, setSent] = useState<Record<string, unknown>>({});
  const fieldErrors = errorsByField(error, sent);
  const set = (patch: Partial<Draft>) => {
    setSaved(false);
    setDraft((d) => ({ ...d, ...patch }));
  };

  async function save() {
    setBusy(true);
    setError(null);
    setSaved(false);
    const body: Update = {
      defaultSecurityProfile: Number(draft.profile) as Update['defaultSecurityProfile'],
      fileUrlSchemes: draft.defaultSchemes ? null : (draft.schemes as NonNullable<Update['fileUrlSchemes']>),
      fileUrlHosts: draft.hosts,
    };
    setSent(body as Record<string, unknown>);
    try {
      const answer = data(await api.PATCH('/api/v1/settings', { body }));
      client.setQueryData(['settings'], answer);
      setSaved(true);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  // What is not a field's (a 403, a 429, a 422 naming nothing we show) goes above the button.
  const unplaced = error && !Object.keys(fieldErrors).length ? error : null;
  return (
    <Stack maw={720}>
      <Card withBorder>
        <Radio.Group
          label="Default security profile"
          description="What a station provisioned without a profile gets. Stations provisioned earlier keep theirs."
          value={draft.profile}
          onChange={(v) => admin && set({ profile: v })}
          error={fieldErrors.defaultSecurityProfile}
        >
          <Stack gap="xs" mt="xs">
            {PROFILES.map((p) => (
              <Radio key={p.value} value={p.value} label={p.label} disabled={!admin && p.value !== draft.profile} />
            ))}
          </Stack>
        </Radio.Group>
      </Card>
      <Card withBorder>
        <Title order={2} size="h4" mb={4}>
          Firmware and log file URLs
        </Title>
        <Text size="sm" c="dimmed" mb="sm">
          Where UpdateFirmware, GetDiagnostics and GetLog may send a station.
        </Text>
        <Checkbox
          label="Use the deployment's default schemes"
          checked={draft.defaultSchemes}
          readOnly={!admin}
          onChange={(e) => admin && set({ defaultSchemes: e.currentTarget.checked, schemes: settings.effectiveFileUrlSchemes })}
          mb="xs"
        />
        <Checkbox.Group
          label="URL schemes"
          description={`In force: ${settings.effectiveFileUrlSchemes.join(', ')}. http and ftp send files in clear.`}
          value={draft.schemes}
          onChange={(v) => admin && set({ schemes: v })}
          error={fieldErrors.fileUrlSchemes}
        >
          <Group mt="xs">
            {SCHEMES.map((s) => (
              <Checkbox
                key={s}
                value={s}
                label={CLEAR_TEXT.has(s) ? `${s} (clear text)` : s}
                disabled={draft.defaultSchemes || !admin}
              />
            ))}
          </Group>
        </Checkbox.Group>
        <TagsInput
          mt="md"
          label="URL hosts"
          description="A host name, or *.domain for any host below it; none: any host. Press Enter after each."
          placeholder={admin ? 'files.example.com' : undefined}
          value={draft.hosts}
          onChange={(v) => set({ hosts: v })}
          readOnly={!admin}
          error={fieldErrors.fileUrlHosts}
          splitChars={[',', ' ']}
          clearable={admin}
        />
      </Card>
      {unplaced ? <ProblemAlert error={unplaced} title="The settings were not changed" /> : null}
      {error && Object.keys(fieldErrors).length ? (
        <Text size="sm" c="red" role="alert">
          The settings were not changed: the API refused what is marked above.
        </Text>
      ) : null}
      {admin ? (
        <Group>
          <Button onClick={() => void save()} loading={busy}>
            Save settings
          </Button>
          {saved ? (
            <Text size="sm" c="green.8" role="status">
              Saved.
            </Text>
          ) : null}
        </Group>
      ) : (
        <Text size="sm" c="dimmed">
          Only an admin changes the settings.
        </Text>
      )}
    </Stack>
  );
}

export default function SettingsPage() {
  const api = useApi();
  const settings = useQuery({ queryKey: ['settings'], queryFn: async () => data(await api.GET('/api/v1/settings')) });
  return (
    <>
      <Title order={1} mb="md">
        Settings
      </Title>
      <ProblemAlert error={settings.error} title="Could not load the settings" />
      {settings.data ? <SettingsForm settings={settings.data} /> : settings.isLoading ? <Loading label="Loading the settings" /> : null}
    </>
  );
}
