/** The benchmark's settings, all from the environment (see bench/README.md). */
export type DatabaseKind = 'postgres' | 'sqlite';

export interface BenchConfig {
  databases: DatabaseKind[];
  /** Things in the measured account for the list and filter scenarios. */
  things: number;
  /** The smaller account size the page scenario is also measured at. */
  checkpoint: number;
  /** Seconds each scenario's load runs. */
  duration: number;
  /** Seconds of the same load before each measurement, not recorded. */
  warmup: number;
  /** Bulk requests of 1000 things in flight while seeding. */
  seedConcurrency: number;
  /** Comma-separated scenario ids to run (empty: all). */
  only: string[];
  /** Where the Markdown report goes. */
  resultsFile: string;
}

export class BenchConfigError extends Error {}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new BenchConfigError(`${name}: "${raw}" is not a whole number`);
  const n = Number(raw);
  if (n < min || n > max) throw new BenchConfigError(`${name}: ${n} is outside ${min}..${max}`);
  return n;
}

export function loadBenchConfig(env: NodeJS.ProcessEnv = process.env): BenchConfig {
  const db = env.BENCH_DB || 'both';
  if (!['postgres', 'sqlite', 'both'].includes(db)) {
    throw new BenchConfigError(`BENCH_DB: "${db}" is not postgres, sqlite or both`);
  }
  const things = integer(env, 'BENCH_THINGS', 1_000_000, 1000, 100_000_000);
  return {
    databases: db === 'both' ? ['postgres', 'sqlite'] : [db as DatabaseKind],
    things,
    checkpoint: Math.min(integer(env, 'BENCH_CHECKPOINT', 100_000, 1000, 100_000_000), things),
    duration: integer(env, 'BENCH_DURATION', 10, 1, 3600),
    warmup: integer(env, 'BENCH_WARMUP', 2, 0, 600),
    seedConcurrency: integer(env, 'BENCH_SEED_CONCURRENCY', 6, 4, 8),
    only: (env.BENCH_ONLY ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    resultsFile: env.BENCH_RESULTS || new URL('./RESULTS.md', import.meta.url).pathname,
  };
}

/** The command line that reproduces this run, for the report. */
export function commandLine(env: NodeJS.ProcessEnv = process.env): string {
  const names = [
    'BENCH_DB',
    'BENCH_THINGS',
    'BENCH_CHECKPOINT',
    'BENCH_DURATION',
    'BENCH_WARMUP',
    'BENCH_SEED_CONCURRENCY',
    'BENCH_ONLY',
  ];
  const set = names.filter((n) => env[n]).map((n) => `${n}=${env[n]}`);
  return [...set, 'npm run bench'].join(' ');
}
