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

export const MAX_NAME = 1024;
export const MAX_KEY = 4096;
export const MAX_LIMIT = 100;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (id: string) => UUID.test(id);
