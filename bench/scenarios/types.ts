import type { Account, Api, CreatedThing } from '../api.js';
import type { DatabaseKind } from '../config.js';
import type { LoadResult, LoadSpec } from '../load.js';
import type { KeptThings } from '../seed.js';
import type { BenchServer } from '../server.js';

/** What every scenario may use: the running server and the fixtures set up for it. */
export interface BenchContext {
  db: DatabaseKind;
  /** The server's TETHYS_DB_URL (PostgreSQL; empty for SQLite, whose file is in the server's data folder). */
  dbUrl: string;
  api: Api;
  server: BenchServer;
  /** The account seeded to the configured size (list, filter, connect, access). */
  main: Account;
  /** A second account for the create scenarios, so they do not change the seeded count. */
  writer: Account;
  /** Things in the main account right now. */
  seeded: number;
  /** Channels of the main account the connect scenario walks (200). */
  channels: string[];
  /** The first seeded things, by seeding index (ids and keys). */
  kept: KeptThings;
  /** A channel every thing in `accessThings` is connected to. */
  accessChannel: string;
  accessThings: CreatedThing[];
  /**
   * Waits until autovacuum has caught up with the inserts so far (PostgreSQL; at once on
   * SQLite), as after seeding: for scenarios that create their own things before they
   * measure. Says what it waited for, or '' when there is nothing to say.
   */
  settle(): Promise<string>;
}

/** A goal for PostgreSQL: throughput at least, and p99 under a bound when given. */
export interface Target {
  minThroughput: number;
  maxP99Ms?: number;
}

/** The part of a load a scenario decides; the harness adds the URL and duration. */
export type ScenarioLoad = Omit<LoadSpec, 'url' | 'duration' | 'connections'>;

export interface Scenario {
  id: string;
  /** The endpoint and what is special about the request, for the report. */
  title: string;
  /** When it runs: after seeding to the checkpoint (100k), or to the full count (1M). */
  stage: 'checkpoint' | 'full';
  connections: number;
  /** What throughput counts: successful requests or things created. */
  unit: 'req/s' | 'things/s';
  target?: Target;
  /** Mainflux 0.12.1's figure, for context. */
  reference?: string;
  /**
   * An HTTP scenario: checks with one request that the server answers as the load
   * assumes, then builds the load, which the harness runs with autocannon.
   */
  prepare?(ctx: BenchContext): Promise<ScenarioLoad>;
  /** Any other kind of load (MQTT, ...): runs it for `duration` seconds itself. */
  run?(ctx: BenchContext, duration: number): Promise<LoadResult>;
  /**
   * Inserts enough things that PostgreSQL's autovacuum will work on the table after it:
   * the harness waits for that before the next scenario, as after seeding, so the next
   * figure is not this one's clean-up.
   */
  insertsThings?: boolean;
  /** Notes the report should carry after the load (e.g. a fixture ran out). */
  afterLoad?(ctx: BenchContext): string[];
}
