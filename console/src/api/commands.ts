/**
 * The station commands the API offers and the admins' create bodies, as JSON Schemas for
 * forms, generated from docs/openapi.json at build time by scripts/forms.mjs (so a new
 * command or field appears by itself), each with its validator compiled ahead of time.
 */
import forms from './forms.gen.json';

export type JsonSchema = Record<string, unknown>;

export interface CommandSpec {
  name: string; // the path segment: start-transaction
  label: string; // Start transaction
  description: string;
  schema: JsonSchema;
}

export function commandSpecs(): CommandSpec[] {
  return forms.commands as CommandSpec[];
}

/** The key of a form's precompiled validator (src/api/validators/<key>.gen.js). */
export const commandValidator = (name: string) => `command-${name}`;

export type BodyName = keyof typeof forms.bodies;

export function bodySchema(name: BodyName): JsonSchema {
  return forms.bodies[name] as JsonSchema;
}
