import fs from 'node:fs';
import os from 'node:os';
import type { DatabaseKind } from './config.js';
import { formatDuration, formatInt, formatMiB, formatMs } from './format.js';
import type { LoadResult } from './load.js';
import { customTargetText, outcomeOf, unitOf } from './scenarios/extended.js';
import type { Scenario } from './scenarios/types.js';
import type { SeedResult } from './seed.js';
import type { ServerLogSummary } from './server.js';

export interface ScenarioRun {
  scenario: Scenario;
  /** Things in the measured account when it ran. */
  things: number;
  load?: LoadResult;
  /** Why it could not run or complete. */
  error?: string;
  rssPeakKiB: number;
  serverLog: ServerLogSummary;
  notes: string[];
  /** Wall time of the whole scenario: preparation, warm-up, load, pause. */
  wallSeconds?: number;
}

export interface DatabaseRun {
  db: DatabaseKind;
  version: string;
  settings: string;
  serverCommand: string;
  seeding: (SeedResult & { rssKiB: number; settled: string; settleSeconds: number })[];
  runs: ScenarioRun[];
  peakRssKiB: number;
  wallSeconds: number;
  failure?: string;
}

export interface RunInfo {
  date: Date;
  command: string;
  duration: number;
  warmup: number;
  things: number;
  checkpoint: number;
}

/** Order of the report's rows: the brief's numbering, then anything added later. */
const ROW_ORDER = [
  'create',
  'bulk',
  'page-checkpoint',
  'page',
  'filter',
  'connect',
  'access',
  'login',
  'mapping',
  'mapping-ec',
  'mapping-rsa',
  'bootstrap',
  'register',
  'register-again',
  'publish-http',
  'publish-http-nats',
  'mqtt-throughput',
  'mqtt-latency',
  'mqtt-connect',
  'nats-two-instances',
  'mqtt-sessions',
];

/** The machine's CPU time so far (/proc/stat, in ticks): all of it and what the hypervisor took. */
export function cpuTicks(): { total: number; steal: number } | null {
  try {
    const fields = fs
      .readFileSync('/proc/stat', 'utf8')
      .split('\n')[0]!
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    // user nice system idle iowait irq softirq steal (guest time is inside user)
    return { total: fields.slice(0, 8).reduce((a, b) => a + b, 0), steal: fields[7] ?? 0 };
  } catch {
    return null;
  }
}

/**
 * A note when the hypervisor took a noticeable share of the CPU during a load: on a
 * shared virtual machine the same code measures slower then.
 */
export function stealNote(from: ReturnType<typeof cpuTicks>, to: ReturnType<typeof cpuTicks>): string | null {
  if (!from || !to || to.total <= from.total) return null;
  const share = (100 * (to.steal - from.steal)) / (to.total - from.total);
  return share >= 3
    ? `CPU steal: the hypervisor took ${share.toFixed(0)}% of the machine's CPU time during this load`
    : null;
}

export function machineInfo(): { cpus: number; model: string; ramGiB: string; node: string; os: string } {
  let model = os.cpus()[0]?.model ?? 'unknown';
  try {
    model = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? model;
  } catch {}
  return {
    cpus: os.availableParallelism(),
    model,
    ramGiB: (os.totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    os: `${os.type()} ${os.release()}`,
  };
}

export const titleOf = (run: ScenarioRun) => run.scenario.title.replace('{things}', formatInt(run.things));

/** A problem the reader must see: failures, non-success answers, connection errors, server errors. */
export function problems(run: ScenarioRun): string[] {
  const out: string[] = [];
  if (run.error) out.push(`failed: ${run.error}`);
  const l = run.load;
  if (l) {
    if (l.notOk > 0) {
      const codes = Object.entries(l.statusCodes)
        .filter(([code]) => code !== String(l.okStatus))
        .map(([code, n]) => `${code}×${formatInt(n)}`)
        .join(', ');
      out.push(
        `${formatInt(l.notOk)} unexpected status (${codes})${l.non2xx > 0 ? `, ${formatInt(l.non2xx)} non-2xx` : ''}`,
      );
    }
    if (l.errors > 0)
      out.push(
        `${formatInt(l.errors)} connection errors${l.timeouts ? ` (${formatInt(l.timeouts)} timeouts)` : ''}`,
      );
  }
  out.push(...(outcomeOf(l)?.problems ?? []));
  if (run.serverLog.errors > 0)
    out.push(`server logged ${formatInt(run.serverLog.errors)} errors: ${run.serverLog.samples.join(' | ')}`);
  return out;
}

function throughputCell(run: ScenarioRun): string {
  const l = run.load;
  if (!l) return '—';
  const custom = outcomeOf(l)?.throughput;
  if (custom) return custom;
  if (run.scenario.unit === 'things/s')
    return `${formatInt(l.itemsPerSecond)} things/s (${formatInt(l.okPerSecond)} req/s)`;
  return `${formatInt(l.okPerSecond)} ${unitOf(run.scenario)}`;
}

function targetText(s: Scenario): string {
  if (!s.target) return '—';
  const custom = customTargetText(s);
  if (custom) return custom;
  const t = s.target;
  return `≥ ${formatInt(t.minThroughput)} ${unitOf(s)}${t.maxP99Ms ? `, p99 < ${t.maxP99Ms} ms` : ''}`;
}

export function targetVerdict(run: ScenarioRun): 'reached' | 'not reached' | '—' {
  const t = run.scenario.target;
  const l = run.load;
  if (!t) return '—';
  if (!l || run.error) return 'not reached';
  const throughput = run.scenario.unit === 'things/s' ? l.itemsPerSecond : l.okPerSecond;
  const ok =
    throughput >= t.minThroughput &&
    (t.maxP99Ms === undefined || l.p99 < t.maxP99Ms) &&
    l.notOk === 0 &&
    l.errors === 0 &&
    (outcomeOf(l)?.checks ?? []).every((c) => c.ok);
  return ok ? 'reached' : 'not reached';
}

function sortRuns(runs: ScenarioRun[]): ScenarioRun[] {
  const rank = (r: ScenarioRun) => {
    const i = ROW_ORDER.indexOf(r.scenario.id);
    return i < 0 ? ROW_ORDER.length : i;
  };
  return [...runs].sort((a, b) => rank(a) - rank(b));
}

/** The rows of one database's table: header first. */
export function tableRows(run: DatabaseRun, markdown: boolean): string[][] {
  const withTargets = run.db === 'postgres';
  const header = ['scenario', 'connections', 'throughput', 'p50', 'p99', 'errors', 'peak RSS'];
  if (withTargets) header.push('target', 'reached?', 'Mainflux 0.12.1');
  const rows = [header];
  for (const r of sortRuns(run.runs)) {
    const issues = problems(r);
    const flag =
      issues.length > 0 ? (markdown ? `⚠ ${issues.join('; ')}` : `FLAG: ${issues.join('; ')}`) : '0';
    const row = [
      markdown ? markdownCell(titleOf(r)) : titleOf(r),
      String(r.scenario.connections),
      throughputCell(r),
      r.load ? formatMs(r.load.p50) : '—',
      r.load ? formatMs(r.load.p99) : '—',
      markdown ? markdownCell(flag) : flag,
      // A scenario on a server of its own reports that server's peak.
      outcomeOf(r.load)?.rssPeakKiB
        ? `${formatMiB(outcomeOf(r.load)!.rssPeakKiB!)} (own server)`
        : formatMiB(r.rssPeakKiB),
    ];
    if (withTargets) {
      const verdict = targetVerdict(r);
      row.push(
        targetText(r.scenario),
        markdown && verdict === 'not reached' ? '**not reached**' : verdict,
        r.scenario.reference ?? '—',
      );
    }
    rows.push(row);
  }
  return rows;
}

/** Table cells keep `|` and `<…>` (as in `s<random>`) as text. */
const markdownCell = (text: string) =>
  text.replaceAll('|', '\\|').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

function markdownTable(rows: string[][]): string {
  const [header, ...body] = rows;
  return [
    `| ${header!.join(' | ')} |`,
    `| ${header!.map(() => '---').join(' | ')} |`,
    ...body.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

export function textTable(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((cell, c) => cell.padEnd(widths[c]!))
      .join('  ')
      .trimEnd();
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

function seedingLine(run: DatabaseRun): string {
  if (run.seeding.length === 0) return 'not seeded';
  const parts = run.seeding.map(
    (s) =>
      `${formatInt(s.from)} → ${formatInt(s.to)}: ${formatInt(s.rate)} things/s (${formatDuration(s.seconds)}, RSS after ${formatMiB(s.rssKiB)}${s.settled ? `; then ${s.settled}` : ''})`,
  );
  const things = run.seeding.reduce((a, s) => a + (s.to - s.from), 0);
  const secs = run.seeding.reduce((a, s) => a + s.seconds, 0);
  return `${parts.join('; ')}; overall ${formatInt(things / Math.max(secs, 0.001))} things/s`;
}

const dbName = (db: DatabaseKind) => (db === 'postgres' ? 'PostgreSQL' : 'SQLite');

export function renderMarkdown(info: RunInfo, runs: DatabaseRun[]): string {
  const m = machineInfo();
  const out: string[] = [];
  out.push('# Tethys benchmark results', '');
  out.push(`- Date: ${info.date.toISOString()}`);
  out.push(`- Machine: ${m.cpus} CPUs (${m.model}), ${m.ramGiB} GiB RAM, ${m.os}`);
  out.push(`- Node: ${m.node}`);
  out.push(`- Command: \`${info.command}\``);
  out.push(
    `- Load: autocannon on loopback, in the harness process on the same machine as the server and the database; ${info.duration} s a scenario after ${info.warmup} s of unrecorded warm-up; seeded account ${formatInt(info.things)} things (page scenario also at ${formatInt(info.checkpoint)})`,
  );
  if (info.things !== 1_000_000 || info.checkpoint !== 100_000 || info.duration < 10) {
    out.push(
      '',
      `> **Not a full run**: the targets are defined for 10 s loads at 100,000 and 1,000,000 things; this run used ${formatInt(info.checkpoint)} and ${formatInt(info.things)} things and ${info.duration} s loads, so the target column is indicative only.`,
    );
  }
  out.push('');
  for (const run of runs) {
    out.push(`## ${dbName(run.db)} ${run.version}`, '');
    out.push(`- Database settings: ${run.settings}`);
    out.push(`- Server: \`${run.serverCommand}\`, peak RSS ${formatMiB(run.peakRssKiB)}`);
    out.push(`- Seeding through POST /things/bulk (1000 a request): ${seedingLine(run)}`);
    out.push(`- Wall time for this database: ${formatDuration(run.wallSeconds)}`);
    if (run.failure) out.push(`- **Run failed:** ${run.failure.split('\n')[0]}`);
    out.push('');
    out.push(markdownTable(tableRows(run, true)), '');
    const notes = run.runs.flatMap((r) => [
      ...r.notes.map((n) => `${titleOf(r)}: ${n}`),
      ...(outcomeOf(r.load)?.notes ?? []).map((n) => `${titleOf(r)}: ${n}`),
      ...(r.serverLog.warnings > 0
        ? [
            `${titleOf(r)}: server logged ${r.serverLog.warnings} warnings: ${r.serverLog.samples.join(' | ')}`,
          ]
        : []),
    ]);
    if (notes.length > 0) out.push('Notes:', '', ...notes.map((n) => `- ${markdownCell(n)}`), '');
  }
  out.push(
    'Throughput counts successful responses only (the connect scenario counts 200s; a 409 means a pair was already connected). ' +
      'p50 and p99 are autocannon latencies over all responses, except where the scenario measures its own: ' +
      'MQTT latency rows (publish → delivery, CONNECT → CONNACK) and the two-instance row (end to end); the MQTT throughput row has none (see its note). ' +
      'MQTT load comes from a minimal MQTT client in the harness process; the server(s), the database, nats-server and the load generator share the same CPUs, as they did for the Mainflux 0.12.1 reference figures. ' +
      'Targets are for PostgreSQL at 100,000 and 1,000,000 things; a target counts as reached only with no errors. ' +
      'Mainflux 0.12.1 figures are the reference measurements, for context.',
    '',
  );
  return out.join('\n');
}

export function renderText(info: RunInfo, runs: DatabaseRun[]): string {
  const out: string[] = [];
  for (const run of runs) {
    out.push(
      '',
      `${dbName(run.db)} ${run.version} — peak server RSS ${formatMiB(run.peakRssKiB)}, wall time ${formatDuration(run.wallSeconds)}`,
    );
    out.push(`seeding: ${seedingLine(run)}`);
    if (run.failure) out.push(`RUN FAILED: ${run.failure}`);
    out.push(textTable(tableRows(run, false)));
  }
  out.push('', `(${info.command}; ${info.duration} s a scenario)`);
  return out.join('\n');
}
