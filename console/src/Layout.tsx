import { NavLink as RouterLink, Outlet } from 'react-router-dom';
import { AppShell, Badge, Burger, Button, Group, NavLink, Text, Title } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useApp, useCan } from './context';
import classes from './Layout.module.css';

const LINKS: { to: string; label: string; admin?: boolean }[] = [
  { to: '/fleet', label: 'Fleet' },
  { to: '/sessions', label: 'Sessions' },
  { to: '/charging', label: 'Smart charging' },
  { to: '/reports', label: 'Reports' },
  { to: '/events', label: 'Live events' },
  { to: '/id-tokens', label: 'Id tokens' },
  { to: '/locations', label: 'Locations' },
  { to: '/sites', label: 'Sites' },
  { to: '/users', label: 'Users', admin: true },
  { to: '/settings', label: 'Settings' },
];

const LIVE_COLOR = { live: 'green', connecting: 'yellow', reconnecting: 'orange', stopped: 'gray' } as const;

export function Layout() {
  const { session, liveStatus, signOut, config } = useApp();
  const admin = useCan('admin');
  const [opened, { toggle, close }] = useDisclosure();

  async function onSignOut() {
    signOut();
    if (config.auth.mode === 'cognito') {
      const { signOutRedirect } = await import('./auth/cognito');
      await signOutRedirect(config.auth);
    }
  }

  // Focus moves itself rather than through the #main fragment: the router owns the URL.
  function skipToContent(event: React.MouseEvent) {
    event.preventDefault();
    document.getElementById('main')?.focus();
  }

  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 200, breakpoint: 'md', collapsed: { mobile: !opened } }} padding="md">
      <a href="#main" className={classes.skip} onClick={skipToContent}>
        Skip to content
      </a>
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="md" size="sm" aria-label="Toggle navigation" aria-expanded={opened} />
            <Title order={2} size="h4">
              CSMS console
            </Title>
          </Group>
          <Group gap="xs" wrap="nowrap">
            <Badge color={LIVE_COLOR[liveStatus]} variant="dot" aria-label={`Live updates: ${liveStatus}`}>
              {liveStatus}
            </Badge>
            <Text size="sm" visibleFrom="sm" aria-label="Signed in as">
              {session?.tenantId} · {session?.role}
            </Text>
            <Button variant="default" size="xs" onClick={onSignOut}>
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" component="nav" aria-label="Main">
        {LINKS.filter((l) => !l.admin || admin).map((l) => (
          <NavLink key={l.to} component={RouterLink} to={l.to} label={l.label} onClick={close} />
        ))}
      </AppShell.Navbar>
      <AppShell.Main id="main" tabIndex={-1} className={classes.main}>
        <Outlet />
      </AppShell.Main>
    </AppShell>
  );
}
