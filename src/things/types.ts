export type Metadata = Record<string, unknown>;

export interface Thing {
  id: string;
  owner: string;
  name: string;
  key: string;
  metadata: Metadata;
}

export interface Channel {
  id: string;
  owner: string;
  name: string;
  metadata: Metadata;
}

export type Order = 'id' | 'name';
export type Direction = 'asc' | 'desc';

export interface PageQuery {
  offset: number;
  limit: number;
  /** Case-insensitive substring; `%` and `_` are wildcards, as in Mainflux. */
  name?: string;
  /** JSON containment: the stored metadata must contain this object. */
  metadata?: Metadata;
  order: Order;
  dir: Direction;
}

export interface Page<T> {
  total: number;
  items: T[];
}

/**
 * Limits in bytes of UTF-8, as 0.12.1 measures them (Go's `len` of a string): a name of
 * 1,024 ASCII characters is accepted, one of 1,024 CJK characters (3,072 bytes) is not.
 * The byte limit also keeps a name within what PostgreSQL's B-tree on (owner, name, id)
 * can hold (2,704 bytes an entry).
 */
export const MAX_NAME = 1024;
export const MAX_KEY = 4096;

/** The size that MAX_NAME and MAX_KEY limit: bytes of UTF-8. */
export function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}
export const MAX_LIMIT = 100;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (id: string) => UUID.test(id);
