import type { DatabaseKind } from '../config.js';
import type { LoadResult } from '../load.js';
import type { Scenario } from './types.js';

/**
 * What the provision and messaging scenarios add to the report beyond an HTTP load's
 * figures: a throughput in their own unit, the RSS of a server of their own, target
 * conditions other than throughput and p99 (no message lost, a concurrent probe's p99,
 * an RSS bound), problems that flag the row, and notes.
 */
export interface Outcome {
  /** Replaces the throughput cell (e.g. "9,512 msg/s accepted"). */
  throughput?: string;
  /** Peak RSS (KiB) of the server(s) the load ran on, when that is not the main server. */
  rssPeakKiB?: number;
  /** Conditions of the target beyond throughput and p99; the target is reached only if all hold. */
  checks?: { what: string; ok: boolean }[];
  /** Shown in the errors column; they flag the row (lost messages, refused connections, ...). */
  problems?: string[];
  /** Shown under the table. */
  notes?: string[];
}

/** A load result that may carry an outcome. */
export type OutcomeLoad = LoadResult & { outcome?: Outcome };

export interface ExtendedScenario extends Scenario {
  /** The unit shown for the throughput, where `unit` knows only req/s and things/s. */
  unitLabel?: string;
  /** The target as text, when it is more than a throughput and a p99. */
  targetText?: string;
  /** The databases it runs on (default: every one). */
  databases?: DatabaseKind[];
}

export const outcomeOf = (load: LoadResult | undefined): Outcome | undefined =>
  (load as OutcomeLoad | undefined)?.outcome;

export const unitOf = (s: Scenario): string => (s as ExtendedScenario).unitLabel ?? s.unit;

export const runsOn = (s: Scenario, db: DatabaseKind): boolean => {
  const only = (s as ExtendedScenario).databases;
  return !only || only.includes(db);
};

export const customTargetText = (s: Scenario): string | undefined => (s as ExtendedScenario).targetText;

/** Nearest-rank percentile of unsorted samples (ms); NaN when there are none. */
export function percentile(sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/** p50, p99 and max of latency samples in ms. */
export function latencySummary(samples: number[]): { p50: number; p99: number; max: number; count: number } {
  const sorted = Float64Array.from(samples).sort();
  return {
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
    count: sorted.length,
  };
}

/** A LoadResult for a load that is not autocannon's: `ok` items in `seconds`. */
export function customLoad(options: {
  ok: number;
  seconds: number;
  p50: number;
  p99: number;
  max: number;
  errors?: number;
  itemsPerRequest?: number;
  outcome: Outcome;
}): OutcomeLoad {
  const seconds = Math.max(options.seconds, 0.001);
  return {
    okStatus: 0,
    seconds,
    responses: options.ok,
    ok: options.ok,
    notOk: 0,
    non2xx: 0,
    errors: options.errors ?? 0,
    timeouts: 0,
    statusCodes: {},
    okPerSecond: options.ok / seconds,
    itemsPerSecond: (options.ok * (options.itemsPerRequest ?? 1)) / seconds,
    p50: options.p50,
    p99: options.p99,
    max: options.max,
    outcome: options.outcome,
  };
}
