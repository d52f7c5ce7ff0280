/**
 * The station commands the API offers and their request bodies, as JSON Schemas for forms,
 * read from docs/openapi.json at build time (so a new command or field appears by itself).
 */
import openapi from '../../../docs/openapi.json';

export type JsonSchema = Record<string, unknown>;

interface Operation {
  operationId?: string;
  summary?: string;
  description?: string;
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
}

const doc = openapi as unknown as {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, JsonSchema> };
};

export interface CommandSpec {
  name: string; // the path segment: start-transaction
  label: string; // Start transaction
  description: string;
  schema: JsonSchema;
}

/** "evseId" → "EVSE id", "chargingProfilePurpose" → "Charging profile purpose". */
export function humanize(key: string): string {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[\s_-]+/)
    .map((w) => (/^(evse|ocpp|id|url)$/i.test(w) ? (w.toLowerCase() === 'id' ? 'id' : w.toUpperCase()) : w.toLowerCase()));
  const sentence = words.join(' ');
  return sentence.charAt(0).toUpperCase() + sentence.slice(1);
}

/**
 * Inlines $refs and turns `anyOf: [X, {type: null}]` (an optional field) into X, so a form
 * shows a field rather than a choice of "Option 1 / Option 2". Titles become the field's
 * name in words (the accessible label).
 */
export function formSchema(schema: JsonSchema, depth = 0): JsonSchema {
  if (depth > 12) return {};
  let s: JsonSchema = { ...schema };
  if (typeof s.$ref === 'string') {
    const name = s.$ref.split('/').pop()!;
    const { $ref: _ignored, ...rest } = s;
    s = { ...formSchema(doc.components.schemas[name] ?? {}, depth + 1), ...rest };
  }
  if (Array.isArray(s.anyOf)) {
    const branches = (s.anyOf as JsonSchema[]).filter((b) => b.type !== 'null');
    const nullable = branches.length < (s.anyOf as JsonSchema[]).length;
    const only = branches.length === 1 ? formSchema(branches[0], depth + 1) : null;
    if (only && nullable && only.type === 'object') {
      // An optional object: a choice of leaving it out or giving it, so its required
      // fields are asked for only when it is given.
      const { anyOf: _a, ...rest } = s;
      s = { ...rest, oneOf: [{ type: 'null', title: 'Not given' }, { ...only, title: 'Given' }] };
    } else if (only) {
      const { anyOf: _a, ...rest } = s;
      s = { ...only, ...rest };
    } else {
      s.anyOf = branches.map((b) => formSchema(b, depth + 1));
    }
  }
  if (s.properties && typeof s.properties === 'object') {
    const props: Record<string, JsonSchema> = {};
    for (const [key, value] of Object.entries(s.properties as Record<string, JsonSchema>)) {
      props[key] = { ...formSchema(value, depth + 1), title: humanize(key) };
    }
    s.properties = props;
  }
  if (s.items && typeof s.items === 'object' && !Array.isArray(s.items)) s.items = formSchema(s.items as JsonSchema, depth + 1);
  if (s.additionalProperties && typeof s.additionalProperties === 'object') {
    s.additionalProperties = formSchema(s.additionalProperties as JsonSchema, depth + 1);
  }
  delete s.discriminator;
  return s;
}

const COMMAND_PATH = /^\/api\/v1\/stations\/\{stationId\}\/commands\/([a-z-]+)$/;

export function commandSpecs(): CommandSpec[] {
  const specs: CommandSpec[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    const match = COMMAND_PATH.exec(path);
    const post = methods.post;
    if (!match || !post) continue;
    const body = post.requestBody?.content?.['application/json']?.schema ?? { type: 'object' };
    const schema = formSchema(body);
    delete schema.title;
    specs.push({
      name: match[1],
      label: humanize(match[1]),
      description: String(schema.description ?? post.summary ?? '').trim(),
      schema,
    });
  }
  return specs.sort((a, b) => a.label.localeCompare(b.label));
}

export function schemaOf(name: string): JsonSchema {
  return formSchema({ $ref: `#/components/schemas/${name}` });
}
