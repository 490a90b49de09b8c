import { type TSchema, Type } from '@sinclair/typebox';

/** Go decodes `null` into the zero value, so every optional field also accepts null. */
export const Opt = <T extends TSchema>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()]));

export const Metadata = Type.Record(Type.String(), Type.Unknown(), { description: 'free-form JSON object' });

export const ErrorBody = Type.Object({ error: Type.String() });

/** List parameters are strings on the wire; services parse them with Mainflux's rules. */
export const Str = (description: string) => Type.Optional(Type.String({ description }));

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
