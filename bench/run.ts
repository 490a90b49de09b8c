// `npm run bench`: seeds Tethys through its API and measures the core scenarios with
// autocannon, on PostgreSQL and on SQLite; writes bench/RESULTS.md. See bench/README.md.
import fs from 'node:fs';
import { Api } from './api.js';
import {
  type BenchConfig,
  BenchConfigError,
  commandLine,
  type DatabaseKind,
  loadBenchConfig,
} from './config.js';
import { type BenchDatabase, startDatabase, stopDatabasesNow } from './database.js';
import { FAULTS, type FaultResult, renderFaults, runFaults } from './faults.js';
import { formatDuration, formatInt, formatMiB, formatMs } from './format.js';
import { raiseOpenFilesLimit, startInstance } from './instances.js';
import { runLoad, stopCurrentLoad } from './load.js';
import {
  cpuTicks,
  type DatabaseRun,
  problems,
  type RunInfo,
  renderMarkdown,
  renderText,
  type ScenarioRun,
  stealNote,
  titleOf,
} from './report.js';
import { certsScenarios } from './scenarios/certs.js';
import { coreScenarios } from './scenarios/core.js';
import { enrollmentScenarios } from './scenarios/enrollment.js';
import { eventsScenarios } from './scenarios/events.js';
import { outcomeOf, runsOn, unitOf } from './scenarios/extended.js';
import { messagingScenarios } from './scenarios/messaging.js';
import { provisionScenarios } from './scenarios/provision.js';
import type { BenchContext, Scenario } from './scenarios/types.js';
import { KeptThings, seedThings } from './seed.js';
import { type BenchServer, killServersNow } from './server.js';

/** Channels the connect scenario walks; with the kept things they make its pairs. */
const CONNECT_CHANNELS = 200;
/** Things connected to the access-check channel. */
const ACCESS_THINGS = 1000;
/** Connect requests per second the pair supply is sized for (a new pair each request). */
const CONNECT_RATE_CEILING = 20_000;
/** Pause between scenarios so requests cut off by the previous load drain first. */
const SETTLE_MS = 1000;

/** Every scenario, in the order they run within their stage; new families go here. */
const ALL_SCENARIOS: Scenario[] = [
  ...coreScenarios,
  ...certsScenarios,
  ...provisionScenarios,
  ...enrollmentScenarios,
  ...eventsScenarios,
  ...messagingScenarios,
];

const log = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function runScenario(ctx: BenchContext, scenario: Scenario, config: BenchConfig): Promise<ScenarioRun> {
  const run: ScenarioRun = {
    scenario,
    things: ctx.seeded,
    rssPeakKiB: 0,
    serverLog: { warnings: 0, errors: 0, samples: [] },
    notes: [],
  };
  log(
    `  [${ctx.db}] ${titleOf(run)}, ${scenario.connections} connections, ${config.warmup} + ${config.duration} s ...`,
  );
  ctx.server.takeLog();
  ctx.server.rss.takeWindow();
  const started = performance.now();
  let cpuFrom = cpuTicks();
  try {
    if (scenario.run) {
      run.load = await scenario.run(ctx, config.duration);
    } else if (scenario.prepare) {
      const load = await scenario.prepare(ctx);
      const spec = { ...load, url: ctx.server.url, connections: scenario.connections };
      // Warm the JIT and the caches with the same load; its figures are dropped.
      if (config.warmup > 0) await runLoad({ ...spec, duration: config.warmup });
      ctx.server.rss.takeWindow();
      cpuFrom = cpuTicks();
      run.load = await runLoad({ ...spec, duration: config.duration });
    } else {
      throw new Error('the scenario has neither prepare nor run');
    }
    const steal = stealNote(cpuFrom, cpuTicks());
    if (steal) run.notes.push(steal);
    run.notes.push(...(scenario.afterLoad?.(ctx) ?? []));
  } catch (err) {
    run.error = (err as Error).message;
  }
  await sleep(SETTLE_MS);
  run.rssPeakKiB = ctx.server.rss.takeWindow();
  run.serverLog = ctx.server.takeLog();
  const l = run.load;
  const summary = l
    ? `${outcomeOf(l)?.throughput ?? `${formatInt(scenario.unit === 'things/s' ? l.itemsPerSecond : l.okPerSecond)} ${unitOf(scenario)}`}, p50 ${formatMs(l.p50)}, p99 ${formatMs(l.p99)}, max ${formatMs(l.max)}`
    : 'no result';
  const issues = problems(run);
  run.wallSeconds = (performance.now() - started) / 1000;
  const wall = formatDuration(run.wallSeconds);
  log(`    ${summary} (${wall} in all)${issues.length ? `  FLAG: ${issues.join('; ')}` : ''}`);
  return run;
}

function serverAlive(server: BenchServer): boolean {
  try {
    process.kill(server.pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function benchDatabase(
  kind: DatabaseKind,
  config: BenchConfig,
  scenarios: Scenario[],
): Promise<DatabaseRun> {
  const started = performance.now();
  const result: DatabaseRun = {
    db: kind,
    version: '',
    settings: '',
    serverCommand: '',
    seeding: [],
    runs: [],
    peakRssKiB: 0,
    wallSeconds: 0,
  };
  let database: BenchDatabase | null = null;
  let server: BenchServer | null = null;
  try {
    log(`\n== ${kind} ==`);
    database = await startDatabase(kind);
    result.version = database.version;
    result.settings = database.settings;
    // With its MQTT broker on a free port (the provision and messaging scenarios find it).
    server = await startInstance({ dbUrl: database.url });
    result.serverCommand = server.command;
    log(`  server: ${server.command} (pid ${server.pid}) on ${server.url}, ${kind} ${database.version}`);

    const api = new Api(server.url);
    const password = 'bench-password-1';
    const main = await api.createAccount('bench-main@example.com', password);
    const writer = await api.createAccount('bench-writer@example.com', password);
    const channelNames = Array.from({ length: CONNECT_CHANNELS }, (_, i) => `bench-connect-${i}`);
    const channels = await api.createChannels(main.token, channelNames);
    const [accessChannel] = await api.createChannels(main.token, ['bench-access']);

    const keep = Math.min(
      config.things,
      Math.max(
        ACCESS_THINGS,
        Math.ceil(((config.duration + config.warmup) * CONNECT_RATE_CEILING) / CONNECT_CHANNELS),
      ),
    );
    const kept = new KeptThings(keep);
    const seedStep = async (to: number) => {
      const step = await seedThings(
        api,
        main.token,
        { from: ctx.seeded, to },
        { concurrency: config.seedConcurrency, keep: kept, label: kind },
      );
      ctx.seeded = to;
      const rssKiB = server!.rss.read()?.rss ?? 0;
      const settleStart = performance.now();
      const settled = await database!.settle(to);
      const settleSeconds = (performance.now() - settleStart) / 1000;
      if (settled) log(`  ${kind}: ${settled}`);
      result.seeding.push({ ...step, rssKiB, settled, settleSeconds });
    };
    const ctx: BenchContext = {
      db: kind,
      dbUrl: database.url,
      api,
      server,
      main,
      writer,
      seeded: 0,
      channels,
      kept,
      accessChannel: accessChannel!,
      accessThings: [],
      settle: () => database!.settle(ctx.seeded),
    };

    await seedStep(config.checkpoint);
    ctx.accessThings = kept.all().slice(0, ACCESS_THINGS);
    await api.connect(
      main.token,
      [accessChannel!],
      ctx.accessThings.map((t) => t.id),
    );

    const stage = (name: Scenario['stage']) => scenarios.filter((s) => s.stage === name && runsOn(s, kind));
    const measure = async (list: Scenario[]) => {
      for (const scenario of list) {
        if (!serverAlive(server!))
          throw new Error(`the server (pid ${server!.pid}) is gone:\n${server!.tail()}`);
        const run = await runScenario(ctx, scenario, config);
        result.runs.push(run);
        if (scenario.insertsThings && run.load) {
          const settled = await database!.settle(ctx.seeded);
          if (settled) {
            log(`  ${kind}: ${settled}`);
            run.notes.push(`afterwards, before the next scenario: ${settled}`);
          }
        }
      }
    };
    await measure(stage('checkpoint'));
    if (config.things > config.checkpoint) await seedStep(config.things);
    // At the checkpoint size the full-size page scenario would only repeat the first one.
    await measure(
      stage('full').filter(
        (s) => !(s.id === 'page' && config.things === config.checkpoint && stage('checkpoint').length > 0),
      ),
    );
    result.peakRssKiB = server.rss.peak();
  } catch (err) {
    const e = err as Error;
    result.failure = `${e.message}${server ? `\nlast server output:\n${server.tail()}` : ''}`;
    log(`  [${kind}] FAILED: ${result.failure}`);
  } finally {
    if (server) {
      result.peakRssKiB ||= server.rss.peak();
      await server.stop();
    }
    database?.stop();
    result.wallSeconds = (performance.now() - started) / 1000;
  }
  log(
    `  [${kind}] done in ${formatDuration(result.wallSeconds)}, peak server RSS ${formatMiB(result.peakRssKiB)}`,
  );
  return result;
}

/** What a run at the default size would take, from this run's seeding rate. */
function estimateFullRun(config: BenchConfig, runs: DatabaseRun[], scenarioCount: number): string[] {
  const full = 1_000_000;
  if (config.things >= full) return [];
  return runs
    .filter((r) => r.seeding.length > 0)
    .map((r) => {
      const things = r.seeding.reduce((a, s) => a + (s.to - s.from), 0);
      const secs = r.seeding.reduce((a, s) => a + s.seconds, 0);
      const rate = things / Math.max(secs, 0.001);
      // Each scenario's time here, with its load stretched to 10 s (what it spent beyond
      // warm-up and load is preparation, which does not depend on the duration).
      const measured = r.runs.reduce(
        (a, s) => a + Math.max(0, (s.wallSeconds ?? 0) - config.duration) + 10,
        0,
      );
      const scenarioSecs =
        r.runs.length > 0 ? measured : scenarioCount * (10 + config.warmup + SETTLE_MS / 1000 + 1);
      const settle = r.seeding.reduce((a, s) => a + s.settleSeconds, 0);
      const waits =
        r.db === 'postgres'
          ? `, and waits for autovacuum (${formatDuration(settle)} here, at most ${r.seeding.length} × 3 min)`
          : '';
      return `  ${r.db}: seeding 1,000,000 at ${formatInt(rate)} things/s ≈ ${formatDuration(full / rate)} (if the rate holds as the table grows), ${formatDuration(scenarioSecs)} of 10 s scenarios${waits}`;
    });
}

async function main(): Promise<number> {
  let config: BenchConfig;
  try {
    config = loadBenchConfig();
  } catch (err) {
    if (err instanceof BenchConfigError) {
      console.error(`bench: ${err.message}`);
      return 2;
    }
    throw err;
  }
  const scenarios = ALL_SCENARIOS.filter((s) => config.only.length === 0 || config.only.includes(s.id));
  const faultIds: string[] = ['faults', ...FAULTS];
  const faultsWanted =
    config.databases.includes('postgres') &&
    (config.only.length === 0 || config.only.some((id) => faultIds.includes(id)));
  if (scenarios.length === 0 && !faultsWanted) {
    console.error(
      `bench: BENCH_ONLY matches no scenario (ids: ${[...ALL_SCENARIOS.map((s) => s.id), ...faultIds].join(', ')}; the faults run on PostgreSQL)`,
    );
    return 2;
  }
  const info: RunInfo = {
    date: new Date(),
    command: commandLine(),
    duration: config.duration,
    warmup: config.warmup,
    things: config.things,
    checkpoint: config.checkpoint,
  };
  log(
    `Tethys benchmark: ${config.databases.join(' and ')}, ${formatInt(config.things)} things (page also at ${formatInt(config.checkpoint)}), ${config.duration} s a scenario`,
  );

  const runs: DatabaseRun[] = [];
  if (scenarios.length > 0) {
    for (const kind of config.databases) runs.push(await benchDatabase(kind, config, scenarios));
  }
  let faults: FaultResult[] = [];
  if (faultsWanted) {
    log('\n== faults (PostgreSQL) ==');
    faults = await runFaults(config.only, log);
  }

  fs.writeFileSync(config.resultsFile, `${renderMarkdown(info, runs)}\n${renderFaults(faults)}`);
  log(renderText(info, runs));
  log(`\nwrote ${config.resultsFile}`);
  const estimate = estimateFullRun(config, runs, scenarios.length);
  if (estimate.length > 0)
    log(['\nEstimated time of a run at BENCH_THINGS=1000000:', ...estimate].join('\n'));
  return runs.some((r) => r.failure || r.runs.some((s) => s.error)) ||
    faults.some((f) => f.problems.length > 0)
    ? 1
    : 0;
}

// Whatever ends the harness, the server and the throwaway cluster go with it.
process.on('exit', () => {
  killServersNow();
  stopDatabasesNow();
});
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    console.error(`\nbench: ${signal}: stopping (the server and database are removed on exit)`);
    stopCurrentLoad();
    process.exit(130);
  });
}

// The sessions scenarios hold up to 50,000 connections: a descriptor each in the harness
// and in the server (which inherits this limit). Raised where the system lets us.
raiseOpenFilesLimit(120_000);
process.exitCode = await main();
