import { type TArray, type TInteger, type TProperties, type TSchema, Type } from '@sinclair/typebox';

/** Go decodes `null` into the zero value, so every optional field also accepts null. */
export const Opt = <T extends TSchema>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()]));

export const Metadata = Type.Record(Type.String(), Type.Unknown(), { description: 'free-form JSON object' });

/** Drops keys whose value Go's `omitempty` would leave out. */
export function omitEmpty<T extends Record<string, unknown>>(obj: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined || v === null || v === '' || v === 0 || v === false) continue;
    if (typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date) && Object.keys(v).length === 0)
      continue;
    if (Array.isArray(v) && v.length === 0) continue;
    out[k] = v;
  }
  return out as T;
}

// ---- answers ----------------------------------------------------------------------
// Routes declare every answer they give (`schema.response`): the OpenAPI description at
// /docs/json shows them, and the test suite checks every answer it receives against them
// (scripts/contract.ts). Answers are written from them (src/http/serialise.ts).

/** An object answer with exactly these fields (a field the code adds but the schema lacks is a contract failure). */
export const Answer = <T extends TProperties>(description: string, properties: T) =>
  Type.Object(properties, { description, additionalProperties: false });

/** A Mainflux-style page: `{"total", "offset", "limit", "<items>": [...]}`. */
export const PageAnswer = <K extends string, T extends TSchema>(description: string, items: K, item: T) =>
  Answer(description, {
    total: Type.Integer(),
    offset: Type.Integer(),
    limit: Type.Integer(),
    [items]: Type.Array(item),
  } as { total: TInteger; offset: TInteger; limit: TInteger } & Record<K, TArray<T>>);

/** An answer without a body (`Content-Type: application/json`, as every Mainflux service sends), with the headers it sets. */
export function NoBody(description: string, headers: Record<string, string> = {}) {
  return {
    type: 'null' as const,
    description,
    ...(Object.keys(headers).length > 0
      ? {
          headers: Object.fromEntries(
            Object.entries(headers).map(([name, about]) => [name, { type: 'string', description: about }]),
          ),
        }
      : {}),
  };
}

/** The JSON errors every route may answer besides its own answers. */
export const Errors = {
  '4xx': Type.Object(
    { error: Type.String() },
    {
      description: 'Refused: `{"error": …}` (429 and some 4xx also with Retry-After)',
      additionalProperties: false,
    },
  ),
  '5xx': Type.Object(
    { error: Type.String() },
    {
      description: 'A dependency is unavailable (503 with Retry-After) or the server failed: `{"error": …}`',
      additionalProperties: false,
    },
  ),
};

/**
 * The request header of the routes whose config says `idempotent` (describeRoute adds
 * it to their description): the IETF httpapi draft's Idempotency-Key.
 */
export const IdempotencyKeyHeader = Type.Object({
  'Idempotency-Key': Type.Optional(
    Type.String({
      minLength: 1,
      description:
        'Makes the request safe to retry: a retry with the same key and the same request within 24 h gets the first answer again (status, headers, body) and changes nothing; the key with another request is refused 422, a retry while the first runs 409. Keys are per user. A string of 1 to 255 visible ASCII characters, quoted (`"…"`, the draft\'s form) or bare; anything else is refused 400.',
      examples: ['"8e03978e-40d5-43e8-bc93-6894a57f9324"'],
    }),
  ),
});

export const DEPRECATED_HEADER = {
  'Warning-Deprecated': 'this endpoint is deprecated in favour of the bulk one',
};

// ---- who may call ------------------------------------------------------------------
// Every operation takes a user's token or API key (`userToken`, the description's
// default) unless its schema says otherwise with one of these.

/** No credentials (registration, login, health, the internal identify API whose body carries them). */
export const Public = { security: [] };
/** A thing's key in Authorization (the HTTP message adapter). */
export const ThingKey = { security: [{ thingKey: [] }] };
/** A gateway's external key in Authorization (the bootstrap fetch). */
export const ExternalKey = { security: [{ externalKey: [] }] };
/** An enrolling device: its derived key, or (x509 groups) nothing but its TLS client certificate. */
export const DeviceKey = { security: [{ deviceKey: [] }, {}] as Record<string, string[]>[] };
