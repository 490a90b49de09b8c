import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import mqtt from 'mqtt';
import pg from 'pg';
import { type Answer, startMixedLoad } from '../test/helpers/load.js';
import { type NatsServer, startNats } from '../test/helpers/nats.js';
import { Api } from './api.js';
import { formatInt, formatMs } from './format.js';
import { instanceInfo, startInstance } from './instances.js';
import { runLoad } from './load.js';
import type { BenchServer } from './server.js';

/**
 * `npm run bench`'s faults section (issue 16), on PostgreSQL: what clients see while
 * PostgreSQL or NATS is away and after it returns, a SIGTERM under load, and a load
 * three times what the server can serve. Each experiment has its own cluster, servers
 * and nats-server, stopped when it ends; each is bounded in time.
 */
export interface FaultResult {
  id: string;
  title: string;
  rows: [string, string][];
  /** What must not happen and did (a 500, a lost acknowledged write, a request cut off). */
  problems: string[];
}

interface Cluster {
  url: string;
  crash(): void;
  start(): void;
  stop(): void;
}

async function loadCluster(): Promise<Cluster> {
  const href: string = new URL('../scripts/pg-cluster.mjs', import.meta.url).href;
  const { startCluster } = (await import(href)) as { startCluster(): Promise<Cluster | null> };
  const cluster = await startCluster();
  if (!cluster) throw new Error('PostgreSQL binaries not found');
  return cluster;
}

const OUTAGE_MS = 5000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SECRET = crypto.randomBytes(32).toString('base64url');

/** Waits for a condition; its time in ms, or null when it did not hold within `timeoutMs`. */
async function timeUntil(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<number | null> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (await check()) return performance.now() - started;
    await sleep(10);
  }
  return null;
}

/** `create: 503 ×12, 201 ×3` for the answers given. */
function byStatus(answers: { status: number | string }[]): string {
  const counts = new Map<string, number>();
  for (const a of answers) counts.set(String(a.status), (counts.get(String(a.status)) ?? 0) + 1);
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([status, n]) => `${status} ×${formatInt(n)}`)
    .join(', ');
}

const p99 = (values: number[]) => {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]!;
};

async function account(server: BenchServer): Promise<{ api: Api; token: string }> {
  const api = new Api(server.url);
  const { token } = await api.createAccount(
    `faults-${crypto.randomBytes(4).toString('hex')}@example.com`,
    'bench-password-1',
  );
  return { api, token };
}

/** A thing connected to a channel, its key used once (so it is cached). */
async function publisher(api: Api, token: string, server: BenchServer) {
  const [thing] = await api.createThings(token, [{ name: 'faults-publisher' }]);
  const [channel] = await api.createChannels(token, ['faults']);
  await api.connect(token, [channel!], [thing!.id]);
  const warm = await fetch(`${server.url}/http/channels/${channel}/messages`, {
    method: 'POST',
    headers: { authorization: thing!.key, 'content-type': 'text/plain' },
    body: 'warm',
  });
  if (warm.status !== 202) throw new Error(`publish: ${warm.status}`);
  return { thing: thing!, channel: channel! };
}

async function postgresOutage(): Promise<FaultResult> {
  const result: FaultResult = {
    id: 'postgres-outage',
    title: `PostgreSQL crashed (stop -m immediate) for ${OUTAGE_MS / 1000} s under mixed load, then started again`,
    rows: [],
    problems: [],
  };
  const cluster = await loadCluster();
  const server = await startInstance({ dbUrl: cluster.url, extraEnv: { MF_AUTH_SECRET: SECRET } });
  try {
    const { api, token } = await account(server);
    const { thing, channel } = await publisher(api, token, server);
    const load = startMixedLoad({ base: server.url, token, channel, thingKey: thing.key });
    await sleep(3000);
    const down = Date.now();
    cluster.crash();
    await sleep(OUTAGE_MS);
    cluster.start();
    const back = Date.now();
    const ops = ['create', 'mapping', 'list'] as const;
    const recovery = await timeUntil(
      () => ops.every((op) => load.of(op, back).some((a) => a.status === 200 || a.status === 201)),
      30_000,
    );
    await sleep(2000);
    await load.stop();
    const during = (op: Answer['op']) => load.of(op, down, back);
    for (const op of ['create', 'mapping', 'list', 'publish'] as const) {
      const answers = during(op);
      result.rows.push([
        `${op} during the outage`,
        `${byStatus(answers)}; slowest ${formatMs(Math.max(0, ...answers.map((a) => a.ms)))}`,
      ]);
    }
    result.rows.push([
      'requests succeeding again after PostgreSQL started',
      recovery === null ? 'not within 30 s' : formatMs(recovery),
    ]);
    const faults = load.answers.filter((a) => a.status === 500 || a.status === 'failed');
    if (faults.length > 0) result.problems.push(`${faults.length} answers 500 or cut off`);
    if (recovery === null) result.problems.push('no recovery within 30 s');
    const db = new pg.Client({ connectionString: cluster.url });
    await db.connect();
    try {
      const things = load.acknowledged.things;
      const present = Number(
        (await db.query('SELECT count(*) AS n FROM things WHERE id = ANY($1)', [things])).rows[0].n,
      );
      const gateways = load.acknowledged.mappings.map((m) => m.externalId);
      const configs = Number(
        (
          await db.query('SELECT count(*) AS n FROM bootstrap_configs WHERE external_id = ANY($1)', [
            gateways,
          ])
        ).rows[0].n,
      );
      const lost = things.length - present + gateways.length - configs;
      result.rows.push([
        'acknowledged writes lost',
        `${lost} (of ${formatInt(things.length)} things and ${formatInt(gateways.length)} gateways)`,
      ]);
      if (lost > 0) result.problems.push(`${lost} acknowledged writes lost`);
    } finally {
      await db.end();
    }
  } finally {
    await server.stop();
    cluster.stop();
  }
  return result;
}

/**
 * nats-server away for OUTAGE_MS between two instances: core NATS stopped (SIGTERM: a
 * restart, an upgrade), and nats-server with JetStream crashed (SIGKILL). Nothing
 * acknowledged may be lost in either.
 */
async function natsOutage(crash: boolean): Promise<FaultResult> {
  const result: FaultResult = {
    id: crash ? 'nats-crash' : 'nats-outage',
    title: crash
      ? `nats-server with JetStream crashed (SIGKILL) for ${OUTAGE_MS / 1000} s between two instances, then started again`
      : `core nats-server stopped (SIGTERM) for ${OUTAGE_MS / 1000} s between two instances, then started again`,
    rows: [],
    problems: [],
  };
  const cluster = await loadCluster();
  let nats: NatsServer = await startNats({ jetstream: crash });
  const env = { MF_NATS_URL: nats.url, MF_AUTH_SECRET: SECRET, TETHYS_NATS_JETSTREAM: crash ? 'on' : 'off' };
  const a = await startInstance({ dbUrl: cluster.url, extraEnv: env });
  const b = await startInstance({ dbUrl: cluster.url, extraEnv: env });
  const mqttPort = instanceInfo(b).mqttPort;
  let subscriber: mqtt.MqttClient | null = null;
  try {
    const { api, token } = await account(a);
    const { thing, channel } = await publisher(api, token, a);
    const [listener] = await api.createThings(token, [{ name: 'listener' }]);
    await api.connect(token, [channel], [listener!.id]);
    const received = new Set<number>();
    subscriber = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
      username: listener!.id,
      password: listener!.key,
      reconnectPeriod: 0,
    });
    subscriber.on('message', (_topic, payload) => received.add(Number(payload.toString())));
    await subscriber.subscribeAsync(`channels/${channel}/messages`);
    const answers: { seq: number; status: number | string; sentAt: number; ms: number }[] = [];
    let seq = 0;
    let running = true;
    const worker = async () => {
      while (running) {
        const n = seq++;
        const sentAt = Date.now();
        const t0 = performance.now();
        try {
          const r = await fetch(`${a.url}/http/channels/${channel}/messages`, {
            method: 'POST',
            headers: { authorization: thing.key, 'content-type': 'text/plain' },
            body: String(n),
          });
          await r.arrayBuffer();
          answers.push({ seq: n, status: r.status, sentAt, ms: performance.now() - t0 });
          if (r.status !== 202) await sleep(5);
        } catch {
          answers.push({ seq: n, status: 'failed', sentAt, ms: performance.now() - t0 });
          await sleep(5);
        }
      }
    };
    const workers = Array.from({ length: 4 }, worker);
    await sleep(3000);
    const down = Date.now();
    if (crash) await nats.kill();
    else await nats.stop();
    await sleep(OUTAGE_MS);
    nats = await startNats({ port: nats.port, ...(nats.storeDir ? { storeDir: nats.storeDir } : {}) });
    const back = Date.now();
    const seqAtReturn = seq;
    const recovery = await timeUntil(() => [...received].some((n) => n >= seqAtReturn), 30_000);
    await sleep(2000);
    running = false;
    await Promise.all(workers);
    const acknowledged = answers.filter((x) => x.status === 202).map((x) => x.seq);
    const last = Math.max(...acknowledged);
    await timeUntil(() => received.has(last), 5000);
    const lost = acknowledged.filter((n) => !received.has(n)).length;
    const during = answers.filter((x) => x.sentAt >= down && x.sentAt < back);
    result.rows.push([
      'HTTP publishes on A during the outage',
      `${byStatus(during)}; slowest ${formatMs(Math.max(0, ...during.map((x) => x.ms)))}`,
    ]);
    result.rows.push([
      'delivery on B again after nats-server started',
      recovery === null ? 'not within 30 s' : formatMs(recovery),
    ]);
    result.rows.push([
      'acknowledged messages lost',
      `${lost} (of ${formatInt(acknowledged.length)} acknowledged with 202)`,
    ]);
    if (lost > 0) result.problems.push(`${lost} acknowledged messages lost`);
    if (recovery === null) result.problems.push('no delivery within 30 s of the return');
  } finally {
    await subscriber?.endAsync(true).catch(() => {});
    await b.stop();
    await a.stop();
    await nats.stop();
    if (nats.storeDir) fs.rmSync(nats.storeDir, { recursive: true, force: true });
    cluster.stop();
  }
  return result;
}

/** One POST /things on this agent's single keep-alive connection. */
function createOn(
  agent: http.Agent,
  base: URL,
  token: string,
): Promise<{ status?: number; error?: string; id?: string }> {
  return new Promise((resolve) => {
    const body = JSON.stringify({ name: 'shutdown' });
    const req = http.request(
      {
        agent,
        host: base.hostname,
        port: base.port,
        path: '/things',
        method: 'POST',
        headers: { authorization: token, 'content-type': 'application/json', 'content-length': body.length },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode, id: res.headers.location?.split('/').pop() }));
        res.on('error', (err) => resolve({ error: (err as NodeJS.ErrnoException).code ?? err.message }));
      },
    );
    req.on('error', (err) => resolve({ error: (err as NodeJS.ErrnoException).code ?? err.message }));
    req.end(body);
  });
}

async function shutdownUnderLoad(): Promise<FaultResult> {
  const result: FaultResult = {
    id: 'shutdown',
    title: 'SIGTERM with 8 keep-alive clients creating things without pause',
    rows: [],
    problems: [],
  };
  const cluster = await loadCluster();
  const server = await startInstance({ dbUrl: cluster.url, extraEnv: { MF_AUTH_SECRET: SECRET } });
  try {
    const { token } = await account(server);
    const base = new URL(server.url);
    const outcomes: { status?: number; error?: string; id?: string }[] = [];
    const agents = Array.from({ length: 8 }, () => new http.Agent({ keepAlive: true, maxSockets: 1 }));
    const writers = agents.map(async (agent) => {
      for (;;) {
        const o = await createOn(agent, base, token);
        outcomes.push(o);
        if (o.error) return;
      }
    });
    await sleep(3000);
    const signalled = performance.now();
    process.kill(server.pid, 'SIGTERM');
    const code = await server.exited;
    const shutdownMs = performance.now() - signalled;
    await Promise.all(writers);
    for (const agent of agents) agent.destroy();
    const cutOff = outcomes.filter((o) => o.error && o.error !== 'ECONNREFUSED').length;
    const acknowledged = outcomes.filter((o) => o.status === 201).map((o) => o.id!);
    const db = new pg.Client({ connectionString: cluster.url });
    await db.connect();
    const present = Number(
      (await db.query('SELECT count(*) AS n FROM things WHERE id = ANY($1)', [acknowledged])).rows[0].n,
    );
    await db.end();
    result.rows.push(['shutdown time (signal → exit)', `${formatMs(shutdownMs)}, exit code ${code}`]);
    result.rows.push(['requests cut off', `${cutOff} (of ${formatInt(outcomes.length)} sent)`]);
    result.rows.push([
      'acknowledged writes lost',
      `${acknowledged.length - present} (of ${formatInt(acknowledged.length)})`,
    ]);
    if (cutOff > 0) result.problems.push(`${cutOff} requests cut off`);
    if (present < acknowledged.length) result.problems.push('acknowledged writes lost');
    if (code !== 0) result.problems.push(`exit code ${code}`);
  } finally {
    await server.stop();
    cluster.stop();
  }
  return result;
}

async function overload(): Promise<FaultResult> {
  const result: FaultResult = {
    id: 'overload',
    title: 'POST /things at three times the rate the server sustains (open loop, 1,000 connections)',
    rows: [],
    problems: [],
  };
  const cluster = await loadCluster();
  const server = await startInstance({ dbUrl: cluster.url, extraEnv: { MF_AUTH_SECRET: SECRET } });
  try {
    const { token } = await account(server);
    const spec = {
      url: server.url,
      method: 'POST' as const,
      path: '/things',
      headers: { authorization: token, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'overload' }),
      okStatus: 201,
    };
    // What it sustains: closed loop with enough connections to keep it busy.
    await runLoad({ ...spec, connections: 256, duration: 2 });
    const capacity = await runLoad({ ...spec, connections: 256, duration: 5 });
    const rate = Math.round(capacity.okPerSecond * 3);
    const accepted: number[] = [];
    const refused: number[] = [];
    const other = new Map<number, number>();
    const loaded = await runLoad({
      ...spec,
      // More connections than requests may wait for the database (TETHYS_DB_QUEUE_MAX).
      connections: 1000,
      duration: 8,
      overallRate: rate,
      onResponse: (status, ms) => {
        if (status === 201) accepted.push(ms);
        else if (status === 503) refused.push(ms);
        else other.set(status, (other.get(status) ?? 0) + 1);
      },
    });
    result.rows.push([
      'sustained (256 connections, closed loop)',
      `${formatInt(capacity.okPerSecond)} req/s, p99 ${formatMs(capacity.p99)}`,
    ]);
    result.rows.push([
      `offered ${formatInt(rate)} req/s: accepted (201)`,
      `${formatInt(accepted.length / loaded.seconds)} req/s, p99 ${formatMs(p99(accepted))}`,
    ]);
    result.rows.push([
      'refused (503 with Retry-After)',
      `${formatInt(refused.length / loaded.seconds)} req/s, p99 ${formatMs(p99(refused))}`,
    ]);
    if (other.size > 0 || loaded.errors > 0) {
      result.rows.push([
        'other answers',
        `${[...other.entries()].map(([s, n]) => `${s} ×${n}`).join(', ') || 'none'}; ${loaded.errors} connection errors`,
      ]);
      if ((other.get(500) ?? 0) > 0) result.problems.push(`${other.get(500)} answers 500`);
    }
  } finally {
    await server.stop();
    cluster.stop();
  }
  return result;
}

export const FAULTS = ['postgres-outage', 'nats-outage', 'nats-crash', 'shutdown', 'overload'] as const;

export async function runFaults(only: string[], log: (line: string) => void): Promise<FaultResult[]> {
  const experiments: [string, () => Promise<FaultResult>][] = [
    ['postgres-outage', postgresOutage],
    ['nats-outage', () => natsOutage(false)],
    ['nats-crash', () => natsOutage(true)],
    ['shutdown', shutdownUnderLoad],
    ['overload', overload],
  ];
  const results: FaultResult[] = [];
  for (const [id, run] of experiments) {
    if (only.length > 0 && !only.includes(id) && !only.includes('faults')) continue;
    log(`  [faults] ${id} ...`);
    try {
      const r = await run();
      results.push(r);
      for (const [label, value] of r.rows) log(`    ${label}: ${value}`);
      if (r.problems.length) log(`    FLAG: ${r.problems.join('; ')}`);
    } catch (err) {
      results.push({ id, title: id, rows: [], problems: [`failed: ${(err as Error).message}`] });
      log(`    FAILED: ${(err as Error).message}`);
    }
  }
  return results;
}

export function renderFaults(results: FaultResult[]): string {
  if (results.length === 0) return '';
  const out = [
    '## Faults (PostgreSQL)',
    '',
    'Each on a cluster, servers and nats-server of its own (`bench/faults.ts`); what clients saw, and what must be 0.',
    '',
    '| fault | measured | result |',
    '|---|---|---|',
  ];
  for (const r of results) {
    for (const [label, value] of r.rows) out.push(`| ${r.title} | ${label} | ${value} |`);
    if (r.problems.length) out.push(`| ${r.title} | **problems** | ${r.problems.join('; ')} |`);
  }
  out.push('');
  return out.join('\n');
}
