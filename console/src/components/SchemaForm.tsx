/**
 * A form generated from a JSON Schema taken from docs/openapi.json (react-jsonschema-form with
 * its Mantine theme). It validates with the form's ajv validator compiled at build time
 * (scripts/forms.mjs): the console's Content-Security-Policy forbids compiling code in the
 * page. The API's validation errors (problem+json `errors[].field` = body.a.b) are shown next
 * to the fields they name.
 */
import { useEffect, useMemo, useState } from 'react';
import Form from '@rjsf/mantine';
import { createPrecompiledValidator, type ValidatorFunctions } from '@rjsf/validator-ajv8';
import type { ErrorSchema, RJSFSchema, UiSchema, ValidatorType } from '@rjsf/utils';
import { ApiError } from '../api/problem';
import { Loading, ProblemAlert } from './common';

const VALIDATORS = import.meta.glob<{ default: ValidatorFunctions }>('../api/validators/*.gen.js');

async function loadValidator(key: string, schema: RJSFSchema): Promise<ValidatorType> {
  const load = VALIDATORS[`../api/validators/${key}.gen.js`];
  if (!load) throw new Error(`no compiled validator for the form ${key}`);
  return createPrecompiledValidator((await load()).default, schema);
}

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
  /** its compiled validator (src/api/validators/<key>.gen.js) */
  validatorKey: string;
  initial?: Record<string, unknown>;
  uiSchema?: UiSchema;
  errorTitle?: string;
  /** Sends the body; an ApiError thrown is shown (by field where the API names one). */
  onSubmit: (body: Record<string, unknown>) => Promise<void>;
}

export default function SchemaForm({ schema, submitText, idPrefix, validatorKey, initial, uiSchema, errorTitle, onSubmit }: SchemaFormProps) {
  const [formData, setFormData] = useState<Record<string, unknown>>(initial ?? {});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [validator, setValidator] = useState<{ key: string; validator: ValidatorType } | null>(null);
  useEffect(() => {
    let current = true;
    loadValidator(validatorKey, schema as RJSFSchema)
      .then((v) => current && setValidator({ key: validatorKey, validator: v }))
      .catch((e: unknown) => current && setError(e));
    return () => {
      current = false;
    };
  }, [validatorKey, schema]);
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

  if (!validator || validator.key !== validatorKey) return error ? <ProblemAlert error={error} /> : <Loading label="Loading form" />;
  return (
    <div>
      <Form
        schema={schema as RJSFSchema}
        uiSchema={ui}
        validator={validator.validator}
        onError={() => setError(null)}
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
