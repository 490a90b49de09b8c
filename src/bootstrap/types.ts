import type { Metadata } from '../things/types.js';

export const State = { inactive: 0, active: 1 } as const;

export interface ConfigChannel {
  id: string;
  name: string;
  metadata: Metadata;
}

/** A gateway's bootstrap configuration; its id is its thing's id (MODEL.md §2.7). */
export interface BootstrapConfig {
  thingId: string;
  owner: string;
  /** The thing's current key (0.12.1 served a stale snapshot). */
  thingKey: string;
  externalId: string;
  externalKey: string;
  name: string;
  content: string;
  clientCert: string;
  clientKey: string;
  caCert: string;
  state: number;
  channels: ConfigChannel[];
}

export interface ConfigFilter {
  state?: number;
  externalId?: string;
  thingId?: string;
  thingKey?: string;
  name?: string;
}

export interface Certs {
  clientCert: string;
  clientKey: string;
  caCert: string;
}
