/** Types of pg-cluster.mjs (a plain script, so that `npm test` needs no compiler). */
export interface Cluster {
  url: string;
  port: number;
  /** As a crash, a failover or `pg_ctl stop -m immediate`: every connection drops at once. */
  crash(): void;
  /** Starts it again on the same data and port (after crash or stop). */
  start(): string;
  /** Stops every server process (SIGSTOP); returns their pids for thaw. */
  freeze(): number[];
  thaw(pids: number[]): void;
  stop(): void;
}
export function findPgBin(): string | null;
export function startCluster(options?: { settings?: string[] }): Promise<Cluster | null>;
