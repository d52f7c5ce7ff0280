// Generates the console's forms from the API's OpenAPI document (run by `npm run gen`):
// - src/api/forms.gen.json: every station command (POST /stations/{id}/commands/{name}) and the
//   admins' create bodies, as JSON Schemas prepared for react-jsonschema-form;
// - src/api/validators/<key>.gen.js: their ajv validators compiled ahead of time, because the
//   console's Content-Security-Policy forbids the code generation ajv does at run time.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { schemaParser } from '@rjsf/utils';
import createAjvInstance from '@rjsf/validator-ajv8/lib/createAjvInstance.js';
import standaloneCode from 'ajv/dist/standalone/index.js';

// console/ (under a test runner the module's URL may not be a file: URL; it runs from console/ then)
const root = resolve(import.meta.url.startsWith('file:') ? dirname(fileURLToPath(import.meta.url)) : join(process.cwd(), 'scripts'), '..');
const doc = JSON.parse(readFileSync(join(root, '../docs/openapi.json'), 'utf8'));

/** "evseId" → "EVSE id", "chargingProfilePurpose" → "Charging profile purpose". */
export function humanize(key) {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[\s_-]+/)
    .map((w) => (/^(evse|ocpp|url)$/i.test(w) ? w.toUpperCase() : w.toLowerCase()));
  const sentence = words.join(' ');
  return sentence.charAt(0).toUpperCase() + sentence.slice(1);
}

/**
 * Inlines $refs; an optional scalar (`anyOf: [X, {type: null}]`) becomes X, an optional object
 * a choice of leaving it out or giving it (so its required fields are asked for only when
 * given); each property's title is its name in words (the field's accessible label).
 */
export function formSchema(schema, schemas = doc.components.schemas, depth = 0) {
  if (depth > 12) return {};
  let s = { ...schema };
  if (typeof s.$ref === 'string') {
    const { $ref, ...rest } = s;
    s = { ...formSchema(schemas[$ref.split('/').pop()] ?? {}, schemas, depth + 1), ...rest };
  }
  if (Array.isArray(s.anyOf)) {
    const branches = s.anyOf.filter((b) => b.type !== 'null');
    const nullable = branches.length < s.anyOf.length;
    const only = branches.length === 1 ? formSchema(branches[0], schemas, depth + 1) : null;
    const { anyOf, ...rest } = s;
    if (only && nullable && only.type === 'object') {
      s = { ...rest, oneOf: [{ type: 'null', title: 'Not given' }, { ...only, title: 'Given' }] };
    } else if (only) {
      s = { ...only, ...rest };
    } else {
      s = { ...rest, anyOf: branches.map((b) => formSchema(b, schemas, depth + 1)) };
    }
  }
  if (s.properties) {
    const props = {};
    for (const [key, value] of Object.entries(s.properties)) props[key] = { ...formSchema(value, schemas, depth + 1), title: humanize(key) };
    s.properties = props;
  }
  if (s.items && typeof s.items === 'object' && !Array.isArray(s.items)) s.items = formSchema(s.items, schemas, depth + 1);
  if (s.additionalProperties && typeof s.additionalProperties === 'object') {
    s.additionalProperties = formSchema(s.additionalProperties, schemas, depth + 1);
  }
  delete s.discriminator;
  return s;
}

const COMMAND_PATH = /^\/api\/v1\/stations\/\{stationId\}\/commands\/([a-z-]+)$/;
/** The admins' create (and edit) forms. */
const BODIES = ['IdTokenCreate', 'IdTokenUpdate', 'LocationCreate', 'SiteCreate', 'UserCreate'];

export function buildForms() {
  const commands = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    const match = COMMAND_PATH.exec(path);
    const post = methods.post;
    if (!match || !post) continue;
    const body = post.requestBody?.content?.['application/json']?.schema ?? { type: 'object' };
    const { title, description, ...schema } = formSchema(body);
    commands.push({ name: match[1], label: humanize(match[1]), description: String(description ?? '').trim(), schema });
  }
  commands.sort((a, b) => a.label.localeCompare(b.label));
  const bodies = {};
  for (const name of BODIES) {
    const { title, description, ...schema } = formSchema({ $ref: `#/components/schemas/${name}` });
    bodies[name] = schema;
  }
  return { commands, bodies };
}

/**
 * What @rjsf/validator-ajv8's compileSchemaValidators writes, as an ES module: its export names
 * (schema hashes such as "-58477b56") are not identifiers, so each is exported as v<n> and the
 * default export maps the hashes to them, as createPrecompiledValidator wants.
 */
function validatorsCode(schema) {
  const schemas = Object.values(schemaParser(schema));
  const ajv = createAjvInstance(undefined, undefined, { code: { lines: true, source: true, esm: true }, schemas });
  const ids = schemas.map((s) => s.$id);
  const mapping = Object.fromEntries(ids.map((id, i) => [`v${i}`, id]));
  let code = standaloneCode(ajv, mapping).replace(/^"use strict";\n?/, '');
  // ajv still require()s its runtime helpers in ESM output: import them instead. A CommonJS
  // module's namespace differs between Node (tests) and the bundler (build); take the one
  // holding the helper's exports either way.
  const modules = [...new Set([...code.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]))];
  const imports = modules.map((m, i) => `import * as ns${i} from ${JSON.stringify(m.endsWith(".js") ? m : `${m}.js`)};\nconst req${i} = cjs(ns${i});`);
  modules.forEach((m, i) => (code = code.split(`require(${JSON.stringify(m)})`).join(`req${i}`)));
  const cjs = 'function cjs(ns) { return ns.default && typeof ns.default === "object" && ns.default.__esModule ? ns.default : ns; }';
  return `// Generated by scripts/forms.mjs from docs/openapi.json: do not edit.\n${modules.length ? `${cjs}\n${imports.join('\n')}\n` : ''}${code}\nexport default {${ids.map((id, i) => `${JSON.stringify(id)}: v${i}`).join(', ')}};\n`;
}

if (import.meta.url.startsWith('file:') && process.argv[1] === fileURLToPath(import.meta.url)) {
  const forms = buildForms();
  writeFileSync(join(root, 'src/api/forms.gen.json'), JSON.stringify(forms, null, 1));
  const out = join(root, 'src/api/validators');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const all = [...forms.commands.map((c) => [`command-${c.name}`, c.schema]), ...Object.entries(forms.bodies)];
  for (const [key, schema] of all) {
    writeFileSync(`${out}/${key}.gen.js`, validatorsCode(schema));
  }
  console.log(`forms: ${forms.commands.length} commands, ${BODIES.length} bodies, their validators compiled`);
}
