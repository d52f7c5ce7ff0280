import { useState } from 'react';
import { useLocation, useNavigate } from 'react-router-dom';
import { useQuery } from '@tanstack/react-query';
import { Button, Container, Paper, SegmentedControl, Select, Stack, Text, TextInput, Title } from '@mantine/core';
import { useApp } from '../context';
import { ApiError } from '../api/problem';
import { ProblemAlert } from '../components/common';
import type { Role } from '../auth/session';

interface DevTenant {
  id: string;
  name: string;
}

async function devCall<T>(url: string, init?: RequestInit): Promise<T> {
  const response = await fetch(url, { ...init, headers: { 'Content-Type': 'application/json', ...init?.headers } });
  const body: unknown = await response.json().catch(() => ({ title: response.statusText }));
  if (!response.ok) throw new ApiError(response.status, body);
  return body as T;
}

/** Development sign-in (only `csms dev` answers /console/dev/*): pick a tenant and a role. */
function DevSignIn({ onToken }: { onToken: (token: string) => void }) {
  const base = import.meta.env.BASE_URL;
  const tenants = useQuery({
    queryKey: ['dev-tenants'],
    queryFn: () => devCall<{ items: DevTenant[] }>(`${base}dev/tenants`),
  });
  const [tenantId, setTenantId] = useState<string | null>(null);
  const [role, setRole] = useState<Role>('operator');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const options = (tenants.data?.items ?? []).map((t) => ({ value: t.id, label: t.name && t.name !== t.id ? `${t.name} (${t.id})` : t.id }));
  const chosen = tenantId ?? options[0]?.value ?? '';

  async function submit(event: React.FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const answer = await devCall<{ token: string }>(`${base}dev/sign-in`, {
        method: 'POST',
        body: JSON.stringify({ tenantId: chosen, role }),
      });
      onToken(answer.token);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} aria-label="Development sign-in">
      <Stack>
        <Text size="sm" c="dimmed">
          Development sign-in: this local stack trusts any tenant and role you pick.
        </Text>
        {options.length ? (
          <Select label="Tenant" data={options} value={chosen} onChange={setTenantId} allowDeselect={false} searchable />
        ) : (
          // Until the tenants are listed the field waits: typed into now, it would be replaced by the list.
          <TextInput
            label="Tenant"
            value={tenantId ?? ''}
            onChange={(e) => setTenantId(e.currentTarget.value)}
            required
            disabled={tenants.isPending}
            placeholder={tenants.isPending ? 'Loading the tenants…' : undefined}
          />
        )}
        <div>
          <Text component="label" size="sm" fw={500} id="role-label">
            Role
          </Text>
          <SegmentedControl
            fullWidth
            aria-labelledby="role-label"
            value={role}
            onChange={(v) => setRole(v as Role)}
            data={[
              { value: 'viewer', label: 'Viewer' },
              { value: 'operator', label: 'Operator' },
              { value: 'admin', label: 'Admin' },
            ]}
          />
        </div>
        <ProblemAlert error={error} title="Sign-in failed" />
        <ProblemAlert error={tenants.error} title="Could not list the tenants" />
        <Button type="submit" loading={busy} disabled={!chosen}>
          Sign in
        </Button>
      </Stack>
    </form>
  );
}

export function SignInPage() {
  const { config, signIn } = useApp();
  const navigate = useNavigate();
  const location = useLocation();
  const returnTo = (location.state as { from?: string } | null)?.from ?? '/fleet';
  const [error, setError] = useState<unknown>(null);

  function onToken(token: string) {
    if (signIn(token)) navigate(returnTo, { replace: true });
    else setError(new Error('The token names no tenant or no role, or has expired.'));
  }

  async function cognito() {
    if (config.auth.mode !== 'cognito') return;
    try {
      const { signInRedirect } = await import('../auth/cognito');
      await signInRedirect(config.auth, returnTo);
    } catch (e) {
      setError(e);
    }
  }

  return (
    <Container component="main" size={420} py="xl">
      <Title order={1} ta="center" mb="md">
        Sign in to the CSMS console
      </Title>
      <Paper withBorder p="lg" radius="md">
        {config.auth.mode === 'dev' ? (
          <DevSignIn onToken={onToken} />
        ) : (
          <Button fullWidth onClick={cognito}>
            Sign in with your organisation
          </Button>
        )}
        <ProblemAlert error={error} title="Sign-in failed" />
      </Paper>
    </Container>
  );
}

/** The managed login's redirect back (Cognito mode): exchange the code, keep the ID token. */
export function CallbackPage() {
  const { config, signIn } = useApp();
  const navigate = useNavigate();
  const [error, setError] = useState<unknown>(null);
  const [started, setStarted] = useState(false);
  if (!started && config.auth.mode === 'cognito') {
    setStarted(true);
    const auth = config.auth;
    void import('../auth/cognito')
      .then(({ completeSignIn }) => completeSignIn(auth))
      .then(({ idToken, returnTo }) => {
        if (!signIn(idToken)) throw new Error('The ID token names no tenant (custom:tenant) or no role.');
        navigate(returnTo, { replace: true });
      })
      .catch(setError);
  }
  return (
    <Container component="main" size={420} py="xl">
      <Title order={1}>Signing in…</Title>
      <ProblemAlert error={error} title="Sign-in failed" />
    </Container>
  );
}
