import { describe, expect, it } from 'vitest';
import { commandSpecs } from './commands';
import { buildForms, formSchema, humanize } from '../../scripts/forms.mjs';

describe('form schemas from the OpenAPI document', () => {
  it('labels fields in words', () => {
    expect(humanize('evseId')).toBe('EVSE id');
    expect(humanize('chargingProfilePurpose')).toBe('Charging profile purpose');
    expect(humanize('start-transaction')).toBe('Start transaction');
  });

  it('inlines references and turns optional scalars into plain fields, optional objects into a choice', () => {
    const schema = formSchema({
      type: 'object',
      properties: {
        evseId: { anyOf: [{ type: 'integer', minimum: 1 }, { type: 'null' }], description: 'absent: any' },
        idToken: { $ref: '#/components/schemas/IdTokenBody' },
        groupIdToken: { anyOf: [{ $ref: '#/components/schemas/IdTokenBody' }, { type: 'null' }] },
      },
    });
    const props = schema.properties as Record<string, Record<string, unknown>>;
    expect(props.evseId).toEqual({ type: 'integer', minimum: 1, description: 'absent: any', title: 'EVSE id' });
    expect(props.idToken.type).toBe('object');
    expect(props.idToken.$ref).toBeUndefined();
    expect((props.groupIdToken.oneOf as unknown[]).length).toBe(2);
    expect(JSON.stringify(schema)).not.toContain('$ref');
  });

  it('has a schema for every command, and the generated file is up to date with docs/openapi.json', () => {
    expect(commandSpecs()).toEqual(buildForms().commands);
    for (const spec of commandSpecs()) {
      expect(spec.schema.type, spec.name).toBe('object');
      expect(JSON.stringify(spec.schema), spec.name).not.toContain('$ref');
    }
  });
});
