import fastJson from 'fast-json-stringify';

/**
 * Answers are written from the routes' answer schemas by fast-json-stringify, the
 * serialiser fastify itself uses, from a copy of each schema without what only
 * documents it:
 * - `required`: fast-json-stringify writes required fields first, and Mainflux writes
 *   its fields in struct order (`id`, `name`, `key`, `metadata`, left out when empty),
 *   so the fields are written in the order the schema declares them. That a required
 *   field is there is what the contract check proves (scripts/contract.ts);
 * - a free-form object (metadata: any keys, any values), or one that may also be null,
 *   is written as JSON.stringify writes it, rather than key by key against a pattern;
 * - "X or null" is the type pair [X, null], and a choice between strings is a string,
 *   so no answer is matched against alternatives at run time.
 * The test suite compares every answer so written with JSON.stringify of the same value
 * (test/helpers/server.ts): the schemas decide the speed, never the bytes.
 */
export function answerSerialiser(schema: unknown): (data: unknown) => string {
  return fastJson(forWriting(schema) as Parameters<typeof fastJson>[0]);
}

type Schema = Record<string, unknown>;

const SCHEMA_MAPS = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas']);
const SCHEMA_LISTS = new Set(['anyOf', 'oneOf', 'allOf', 'prefixItems']);
const SCHEMAS = new Set(['items', 'additionalProperties', 'not', 'if', 'then', 'else', 'contains']);

const isSchema = (value: unknown): value is Schema =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** An object with no declared fields: any keys, any values. */
function freeForm(s: Schema): boolean {
  if (s.type !== 'object' || s.properties !== undefined) return false;
  const open = (v: unknown) => v === undefined || v === true || (isSchema(v) && Object.keys(v).length === 0);
  const patterns = isSchema(s.patternProperties) ? Object.values(s.patternProperties) : [];
  return open(s.additionalProperties) && patterns.every(open);
}

function forWriting(schema: unknown): unknown {
  if (!isSchema(schema)) return schema;
  if (freeForm(schema)) return {};
  const choices = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(choices)) {
    const branches = choices.filter(isSchema).map((b) => forWriting(b) as Schema);
    const nonNull = branches.filter((b) => b.type !== 'null');
    if (nonNull.some((b) => Object.keys(b).length === 0)) return {};
    if (nonNull.length === 1 && branches.length === 2 && typeof nonNull[0]!.type === 'string') {
      return { ...nonNull[0], type: [nonNull[0]!.type, 'null'] };
    }
    if (branches.length > 0 && branches.every((b) => b.type === 'string')) return { type: 'string' };
  }
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'required') continue;
    if (SCHEMA_MAPS.has(key) && isSchema(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([name, s]) => [name, forWriting(s)]));
    } else if (SCHEMA_LISTS.has(key) && Array.isArray(value)) {
      out[key] = value.map(forWriting);
    } else if (SCHEMAS.has(key)) {
      out[key] = forWriting(value);
    } else {
      out[key] = value;
    }
  }
  return out;
}
