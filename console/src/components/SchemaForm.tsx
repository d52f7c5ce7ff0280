/**
 * A form generated from a JSON Schema taken from docs/openapi.json (react-jsonschema-form with
 * its Mantine theme and the ajv 8 validator). The API's validation errors (problem+json
 * `errors[].field` = body.a.b) are shown next to the fields they name.
 */
import { useMemo, useState } from 'react';
import Form from '@rjsf/mantine';
import validator from '@rjsf/validator-ajv8';
import type { ErrorSchema, RJSFSchema, UiSchema } from '@rjsf/utils';
import { ApiError } from '../api/problem';
import { ProblemAlert } from './common';

/** The API's `body.a.b` field errors as an rjsf ErrorSchema ({a: {b: {__errors: [...]}}}). */
export function errorSchemaFrom(error: unknown): ErrorSchema {
  const out: Record<string, unknown> = {};
  if (!(error instanceof ApiError)) return out as ErrorSchema;
  for (const [path, message] of Object.entries(error.bodyFieldErrors())) {
    let node = out;
    for (const part of path.split('.').filter(Boolean)) {
      node[part] ??= {};
      node = node[part] as Record<string, unknown>;
    }
    node.__errors = [...((node.__errors as string[]) ?? []), message];
  }
  return out as ErrorSchema;
}

export interface SchemaFormProps {
  schema: Record<string, unknown>;
  submitText: string;
  idPrefix: string;
  initial?: Record<string, unknown>;
  uiSchema?: UiSchema;
  errorTitle?: string;
  /** Sends the body; an ApiError thrown is shown (by field where the API names one). */
  onSubmit: (body: Record<string, unknown>) => Promise<void>;
}

export default function SchemaForm({ schema, submitText, idPrefix, initial, uiSchema, errorTitle, onSubmit }: SchemaFormProps) {
  const [formData, setFormData] = useState<Record<string, unknown>>(initial ?? {});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const ui = useMemo<UiSchema>(
    () => ({ ...uiSchema, 'ui:submitButtonOptions': { submitText, props: { disabled: busy } } }),
    [uiSchema, submitText, busy],
  );

  async function submit(body: Record<string, unknown>) {
    setBusy(true);
    setError(null);
    try {
      await onSubmit(body);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div>
      <Form
        schema={schema as RJSFSchema}
        uiSchema={ui}
        validator={validator}
        formData={formData}
        onChange={(e) => setFormData(e.formData as Record<string, unknown>)}
        onSubmit={(e) => void submit(e.formData as Record<string, unknown>)}
        extraErrors={errorSchemaFrom(error)}
        showErrorList={false}
        noHtml5Validate
        idPrefix={idPrefix}
      />
      <ProblemAlert error={error} title={errorTitle ?? 'The request was not accepted'} />
    </div>
  );
}
