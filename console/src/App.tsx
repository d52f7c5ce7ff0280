import { lazy, Suspense, type ReactNode } from 'react';
import { Navigate, Route, Routes, useLocation } from 'react-router-dom';
import { useApp } from './context';
import { Layout } from './Layout';
import { Loading } from './components/common';
import { CallbackPage, SignInPage } from './pages/SignIn';
import { FleetPage } from './pages/Fleet';

// Everything but the fleet is loaded on first visit (the initial bundle budget).
const StationPage = lazy(() => import('./pages/Station'));
const SessionsPage = lazy(() => import('./pages/Sessions'));
const SessionPage = lazy(() => import('./pages/Session'));
const ChargingPage = lazy(() => import('./pages/Charging'));
const ReportsPage = lazy(() => import('./pages/Reports'));
const EventsPage = lazy(() => import('./pages/Events'));
const IdTokensPage = lazy(() => import('./pages/IdTokens'));
const LocationsPage = lazy(() => import('./pages/Locations'));
const SitesPage = lazy(() => import('./pages/Sites'));
const SitePage = lazy(() => import('./pages/Site'));
const UsersPage = lazy(() => import('./pages/Users'));
const SettingsPage = lazy(() => import('./pages/Settings'));

function RequireSession({ children }: { children: ReactNode }) {
  const { session } = useApp();
  const location = useLocation();
  if (!session) return <Navigate to="/sign-in" replace state={{ from: location.pathname + location.search }} />;
  return <>{children}</>;
}

export function App() {
  return (
    <Suspense fallback={<Loading />}>
      <Routes>
        <Route path="/sign-in" element={<SignInPage />} />
        <Route path="/callback" element={<CallbackPage />} />
        <Route
          element={
            <RequireSession>
              <Layout />
            </RequireSession>
          }
        >
          <Route index element={<Navigate to="/fleet" replace />} />
          <Route path="/fleet" element={<FleetPage />} />
          <Route path="/stations/:stationId" element={<StationPage />} />
          <Route path="/sessions" element={<SessionsPage />} />
          <Route path="/sessions/:ref" element={<SessionPage />} />
          <Route path="/charging" element={<ChargingPage />} />
          <Route path="/reports" element={<ReportsPage />} />
          <Route path="/events" element={<EventsPage />} />
          <Route path="/id-tokens" element={<IdTokensPage />} />
          <Route path="/locations" element={<LocationsPage />} />
          <Route path="/sites" element={<SitesPage />} />
          <Route path="/sites/:siteId" element={<SitePage />} />
          <Route path="/users" element={<UsersPage />} />
          <Route path="/settings" element={<SettingsPage />} />
          <Route path="*" element={<Navigate to="/fleet" replace />} />
        </Route>
      </Routes>
    </Suspense>
  );
}
