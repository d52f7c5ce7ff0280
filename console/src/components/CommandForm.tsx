/** A command's form, generated from its OpenAPI request schema, sent to the station. */
import { Text } from '@mantine/core';
import { useApi } from '../context';
import { commandValidator, type CommandSpec } from '../api/commands';
import type { Schemas } from '../api/client';
import SchemaForm from './SchemaForm';

export interface CommandFormProps {
  stationId: string;
  spec: CommandSpec;
  initial?: Record<string, unknown>;
  onSent?: (command: Schemas['CommandOut']) => void;
}

export default function CommandForm({ stationId, spec, initial, onSent }: CommandFormProps) {
  const api = useApi();
  async function send(body: Record<string, unknown>) {
    const path = `/api/v1/stations/{stationId}/commands/${spec.name}`;
    // The path comes from the OpenAPI document itself (src/api/commands.ts).
    const post = api.POST as unknown as (p: string, o: unknown) => Promise<{ data?: Schemas['CommandOut'] }>;
    const result = await post(path, { params: { path: { stationId } }, body });
    if (result.data) onSent?.(result.data);
  }
  return (
    <div>
      {spec.description ? (
        <Text size="sm" c="dimmed" mb="sm">
          {spec.description}
        </Text>
      ) : null}
      <SchemaForm
        schema={spec.schema}
        submitText={`Send ${spec.label.toLowerCase()}`}
        idPrefix={`cmd-${spec.name}`}
        validatorKey={commandValidator(spec.name)}
        initial={initial}
        errorTitle="The command was not accepted"
        onSubmit={send}
      />
    </div>
  );
}
