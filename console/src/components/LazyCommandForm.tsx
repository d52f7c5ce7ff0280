/** The generated forms, lazy: rjsf and ajv stay out of the initial bundle. */
import { lazy, Suspense } from 'react';
import type { CommandFormProps } from './CommandForm';
import type { SchemaFormProps } from './SchemaForm';
import { Loading } from './common';

const Command = lazy(() => import('./CommandForm'));
const Schema = lazy(() => import('./SchemaForm'));

export function LazyCommandForm(props: CommandFormProps) {
  return (
    <Suspense fallback={<Loading label="Loading form" />}>
      <Command {...props} />
    </Suspense>
  );
}

export function LazySchemaForm(props: SchemaFormProps) {
  return (
    <Suspense fallback={<Loading label="Loading form" />}>
      <Schema {...props} />
    </Suspense>
  );
}
