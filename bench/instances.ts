import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { constants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import type { Account, Api, CreatedThing } from './api.js';
import { loadBenchConfig } from './config.js';
import { formatInt } from './format.js';
import { type LoadResult, type LoadSpec, runLoad } from './load.js';
import { type BenchServer, freePort, type ServerLogSummary, startServer } from './server.js';

/**
 * Servers the provision and messaging scenarios need: the main one's MQTT port and
 * database (which BenchContext does not carry), and servers of their own with other
 * settings (certificates, NATS, a second instance), started and stopped by them.
 */
export interface InstanceInfo {
  /** TETHYS_DB_URL of the server: PostgreSQL's URL, or empty for SQLite. */
  dbUrl: string;
  mqttPort: number;
}

const infos = new WeakMap<BenchServer, InstanceInfo>();

/** Starts a server with its MQTT broker on a free loopback port, and remembers both. */
export async function startInstance(options: {
  dbUrl: string;
  extraEnv?: Record<string, string>;
}): Promise<BenchServer> {
  const mqttPort = await freePort();
  const server = await startServer({
    dbUrl: options.dbUrl,
    extraEnv: { TETHYS_MQTT_PORT: String(mqttPort), ...options.extraEnv },
  });
  infos.set(server, { dbUrl: options.dbUrl, mqttPort });
  return server;
}

export function instanceInfo(server: BenchServer): InstanceInfo {
  const info = infos.get(server);
  if (!info) throw new Error('the server was not started through startInstance (no MQTT port known)');
  return info;
}

/** Raises this process's open-file limit (root, util-linux's prlimit); servers started later inherit it. */
export function raiseOpenFilesLimit(to: number): void {
  const current = openFilesLimit(process.pid);
  if (current !== null && current >= to) return;
  spawnSync('prlimit', ['--pid', String(process.pid), `--nofile=${to}:${to}`], { stdio: 'ignore' });
}

/** Seconds of unrecorded warm-up before a measurement (BENCH_WARMUP). */
export const warmupSeconds = (): number => loadBenchConfig().warmup;

/** The account on this server: registered unless it exists (a shared PostgreSQL), then logged in. */
export function accountOn(api: Api, email: string, password = 'bench-password-1'): Promise<Account> {
  return api.createAccount(email, password, true);
}

/** Creates `count` things through POST /things/bulk (1000 a request, 4 in flight). */
export async function createThings(
  api: Api,
  token: string,
  count: number,
  prefix: string,
): Promise<CreatedThing[]> {
  const out: CreatedThing[] = new Array(count);
  const starts: number[] = [];
  for (let i = 0; i < count; i += 1000) starts.push(i);
  let next = 0;
  const worker = async () => {
    while (next < starts.length) {
      const start = starts[next++]!;
      const n = Math.min(1000, count - start);
      const created = await api.createThings(
        token,
        Array.from({ length: n }, (_, j) => ({ name: `${prefix}-${start + j}` })),
      );
      for (let j = 0; j < n; j++) out[start + j] = created[j]!;
    }
  };
  await Promise.all(Array.from({ length: Math.min(4, starts.length) }, worker));
  return out;
}

/** A channel and `count` things connected to it, in the account. */
export async function connectedThings(
  api: Api,
  token: string,
  count: number,
  prefix: string,
): Promise<{ channel: string; things: CreatedThing[] }> {
  const [channel] = await api.createChannels(token, [`${prefix}-channel`]);
  const things = await createThings(api, token, count, prefix);
  for (let i = 0; i < things.length; i += 1000) {
    await api.connect(
      token,
      [channel!],
      things.slice(i, i + 1000).map((t) => t.id),
    );
  }
  return { channel: channel!, things };
}

/** A name no earlier run on a shared database used. */
export const runTag = (): string =>
  `${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;

/** What a server of a scenario's own logged: errors flag the row, warnings go to the notes. */
export function logFindings(label: string, log: ServerLogSummary): { problems: string[]; notes: string[] } {
  const problems: string[] = [];
  const notes: string[] = [];
  if (log.errors > 0) problems.push(`${label} logged ${log.errors} errors: ${log.samples.join(' | ')}`);
  else if (log.warnings > 0)
    notes.push(`${label} logged ${log.warnings} warnings: ${log.samples.join(' | ')}`);
  return { problems, notes };
}

/** Soft limit on open files of a process (from /proc), or null when unknown. */
export function openFilesLimit(pid: number): number | null {
  try {
    const limits = fs.readFileSync(`/proc/${pid}/limits`, 'utf8');
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(limits);
    if (!m) return null;
    return m[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(m[1]);
  } catch {
    return null;
  }
}

const CLOCK_TICKS = 100;

/** CPU seconds (user + system) a process has used, from /proc; null when unknown. */
function processCpuSeconds(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

/** Busy and total CPU time of the whole machine (seconds over all CPUs), from /proc/stat. */
function machineCpu(): { busy: number; total: number } | null {
  try {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: (total - idle) / CLOCK_TICKS, total: total / CLOCK_TICKS };
  } catch {
    return null;
  }
}

/**
 * Where the CPU went during a measurement: each named process (server, nats-server),
 * the harness (the load generator) and the machine as a whole (busy cores, including
 * the database and anything else running), so a reader can tell whether the generator
 * or a shared machine limited the figure.
 */
export function cpuMeter(processes: Record<string, number>) {
  const started = performance.now();
  const harness = process.cpuUsage();
  const before = Object.fromEntries(
    Object.entries(processes).map(([name, pid]) => [name, processCpuSeconds(pid)]),
  );
  const machine = machineCpu();
  return {
    /** "server 1.62 cores, harness 0.31 cores, machine busy 1.97 of 2 cores". */
    stop(): string {
      const seconds = Math.max((performance.now() - started) / 1000, 0.001);
      const parts: string[] = [];
      for (const [name, pid] of Object.entries(processes)) {
        const a = before[name];
        const b = processCpuSeconds(pid);
        if (a != null && b != null) parts.push(`${name} ${((b - a) / seconds).toFixed(2)}`);
      }
      const h = process.cpuUsage(harness);
      parts.push(`harness (load generator) ${((h.user + h.system) / 1e6 / seconds).toFixed(2)}`);
      const m2 = machineCpu();
      const machineText =
        machine && m2
          ? `; machine busy ${((m2.busy - machine.busy) / seconds).toFixed(2)} of ${((m2.total - machine.total) / seconds).toFixed(1)} cores (database and other work included)`
          : '';
      return `CPU in cores: ${parts.join(', ')}${machineText}`;
    },
  };
}

/**
 * An HTTP load on `server` as the harness runs one (BENCH_WARMUP seconds unrecorded, then
 * the measurement), with the CPU of the named processes measured over the measurement.
 * `during` starts something alongside the measurement (a probe) and stops it after.
 */
export async function measuredHttp<T = undefined>(
  server: BenchServer,
  spec: LoadSpec,
  processes: Record<string, number>,
  during?: () => { stop(): Promise<T> },
): Promise<{ load: LoadResult; cpu: string; alongside?: T }> {
  const warmup = warmupSeconds();
  if (warmup > 0) {
    const warm = await runLoad({ ...spec, duration: warmup });
    // Requests the warm-up left in flight still run on the server (a slow /mapping holds
    // a key generation): let them finish before measuring.
    await sleep(Math.min(5000, Number.isFinite(warm.max) ? warm.max : 0));
  }
  server.rss.takeWindow();
  const before = await serverMetrics(server.url);
  const meter = cpuMeter(processes);
  const side = during?.();
  const load = await runLoad(spec);
  const alongside = await side?.stop();
  const cpu = meter.stop();
  const after = await serverMetrics(server.url);
  return {
    load,
    cpu: `${cpu}; ${loopDelayText(after)}; ${gcText(before, after, load.seconds)}`,
    alongside,
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The server's Prometheus metrics (GET /metrics) by series, or null when unavailable. */
export async function serverMetrics(url: string): Promise<Map<string, number> | null> {
  try {
    const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) return null;
    const out = new Map<string, number>();
    for (const line of (await res.text()).split('\n')) {
      if (!line || line.startsWith('#')) continue;
      const at = line.lastIndexOf(' ');
      out.set(line.slice(0, at), Number(line.slice(at + 1)));
    }
    return out;
  } catch {
    return null;
  }
}

/** The change of a series between two snapshots (0 when absent). */
export function metricDelta(
  before: Map<string, number> | null,
  after: Map<string, number> | null,
  series: string,
) {
  return (after?.get(series) ?? 0) - (before?.get(series) ?? 0);
}

/** The sum over a metric's series whose name starts with `prefix` (e.g. every refusal reason). */
export function metricSum(metrics: Map<string, number> | null, prefix: string): number {
  let sum = 0;
  for (const [k, v] of metrics ?? []) if (k.startsWith(prefix)) sum += v;
  return sum;
}

/**
 * The server's event-loop delay since the previous GET /metrics (prom-client resets its
 * histogram at every scrape, so scrape once before the measurement): how long the main
 * thread was kept from answering, whatever kept it busy (p99 and max of the delays of a
 * 10 ms timer, that timer's own 10 ms taken off).
 */
export function loopDelayText(metrics: Map<string, number> | null, label = 'server'): string {
  if (!metrics) return `${label} event-loop delay unknown (GET /metrics did not answer)`;
  // prom-client samples with a 10 ms timer and records whole intervals: 10 ms is no delay.
  const ms = (series: string) => {
    const v = Math.max(0, (metrics.get(series) ?? Number.NaN) * 1000 - 10);
    return Number.isFinite(v) ? `${v.toFixed(v < 10 ? 1 : 0)} ms` : '—';
  };
  return `${label} event-loop delay p99 ${ms('nodejs_eventloop_lag_p99_seconds')}, max ${ms('nodejs_eventloop_lag_max_seconds')}`;
}

/**
 * The server's garbage collection between two GET /metrics snapshots `seconds` apart
 * (prom-client's cumulative `nodejs_gc_duration_seconds`): the pause time a second, and
 * how many full (mark-compact) collections there were, which grow with the old
 * generation's churn (an LRU cache at its bound, say).
 */
export function gcText(
  before: Map<string, number> | null,
  after: Map<string, number> | null,
  seconds: number,
  label = 'server',
): string {
  if (!before || !after || !(seconds > 0)) return `${label} GC unknown (GET /metrics did not answer)`;
  const kinds = ['major', 'minor', 'incremental', 'weakcb'];
  const pause = kinds.reduce(
    (sum, kind) => sum + metricDelta(before, after, `nodejs_gc_duration_seconds_sum{kind="${kind}"}`),
    0,
  );
  const full = metricDelta(before, after, 'nodejs_gc_duration_seconds_count{kind="major"}');
  return `${label} GC ${((pause * 1000) / seconds).toFixed(0)} ms a second, ${formatInt(full)} full collection${full === 1 ? '' : 's'} in ${seconds.toFixed(0)} s`;
}

/**
 * The harness' own event loop and garbage collection while a load it generates runs:
 * where a scenario measures latency in the harness (MQTT clients), a delay here is in
 * its figures too.
 */
export function harnessLoopMeter() {
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  let gcMs = 0;
  let full = 0;
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcMs += e.duration;
      const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) full++;
    }
  });
  gc.observe({ entryTypes: ['gc'] });
  const started = performance.now();
  return {
    /** "harness event-loop delay p99 3.1 ms, max 12 ms; harness GC 9 ms a second, 1 full collection". */
    stop(): string {
      delay.disable();
      gc.disconnect();
      const seconds = Math.max((performance.now() - started) / 1000, 0.001);
      const ms = (ns: number) => `${(ns / 1e6).toFixed(ns < 1e7 ? 1 : 0)} ms`;
      return `harness event-loop delay p99 ${ms(delay.percentile(99))}, max ${ms(delay.max)}; harness GC ${(gcMs / seconds).toFixed(0)} ms a second, ${formatInt(full)} full collection${full === 1 ? '' : 's'}`;
    },
  };
}
