/** The charts, lazy: Recharts stays out of the initial bundle. */
import { lazy, Suspense, type ComponentProps } from 'react';
import { Loading } from '../components/common';

const Meter = lazy(() => import('./Charts').then((m) => ({ default: m.MeterChart })));
const Schedule = lazy(() => import('./Charts').then((m) => ({ default: m.ScheduleChart })));
const BarsChart = lazy(() => import('./Charts').then((m) => ({ default: m.Bars })));

export function MeterChart(props: ComponentProps<typeof Meter>) {
  return (
    <Suspense fallback={<Loading label="Loading chart" />}>
      <Meter {...props} />
    </Suspense>
  );
}
export function ScheduleChart(props: ComponentProps<typeof Schedule>) {
  return (
    <Suspense fallback={<Loading label="Loading chart" />}>
      <Schedule {...props} />
    </Suspense>
  );
}
export function Bars(props: ComponentProps<typeof BarsChart>) {
  return (
    <Suspense fallback={<Loading label="Loading chart" />}>
      <BarsChart {...props} />
    </Suspense>
  );
}
