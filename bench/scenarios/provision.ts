import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { type Account, Api } from '../api.js';
import { formatInt, formatMiB, formatMs } from '../format.js';
import { accountOn, instanceInfo, logFindings, measuredHttp, runTag, startInstance } from '../instances.js';
import type { LoadResult, LoadSpec } from '../load.js';
import type { BenchServer } from '../server.js';
import { type ExtendedScenario, latencySummary, type OutcomeLoad } from './extended.js';
import type { BenchContext, ScenarioLoad } from './types.js';

/**
 * Provisioning: POST /mapping (the gateway's thing, control and data channels, bootstrap
 * config, whitelist, gateway metadata, and with x509 provisioning a certificate, in one
 * transaction) without certificates, with EC P-256 and with RSA-2048 keys; and the
 * gateway's own bootstrap fetch. Every mapping uses a fresh external id. The variants
 * with certificates need other server settings, so they run on a server of their own
 * (same database on PostgreSQL; a database of its own on SQLite), started and stopped
 * by the scenario.
 */

const PROVISION_EMAIL = 'bench-provision@example.com';
const json = { 'content-type': 'application/json' };

/** The provisioning account of each server (its things and gateways are the scenarios'). */
const accounts = new WeakMap<BenchServer, Promise<Account>>();
export function provisionAccount(server: BenchServer, api: Api): Promise<Account> {
  let account = accounts.get(server);
  if (!account) {
    account = accountOn(api, PROVISION_EMAIL);
    accounts.set(server, account);
  }
  return account;
}

/** The mapping load: a fresh external id and key every request, from a counter. */
function mappingLoad(token: string, prefix: string): ScenarioLoad {
  let n = 0;
  return {
    method: 'POST',
    path: '/mapping',
    headers: { ...json, authorization: token },
    okStatus: 201,
    setupRequest: (req) => {
      const i = n++;
      return {
        ...req,
        body: JSON.stringify({ external_id: `${prefix}-${i}`, external_key: `key-${prefix}-${i}` }),
      };
    },
  };
}

type KeyKind = 'none' | 'ec' | 'rsa';

/** One mapping, checked: one thing, two channels, whitelisted, and the expected key. */
async function checkMapping(api: Api, token: string, prefix: string, keys: KeyKind): Promise<void> {
  const answer = await api.as(token).provision(`${prefix}-check`, `key-${prefix}-check`);
  const thing = answer.things?.[0]?.id;
  if (
    answer.things?.length !== 1 ||
    answer.channels?.length !== 2 ||
    !thing ||
    !answer.whitelisted?.[thing]
  ) {
    throw new Error(
      `POST /mapping: expected 1 whitelisted thing and 2 channels, got ${JSON.stringify(answer).slice(0, 300)}`,
    );
  }
  const keyPem = answer.client_key?.[thing];
  if (keys === 'none') {
    if (keyPem || answer.client_cert)
      throw new Error('POST /mapping: a certificate came without x509 provisioning');
    return;
  }
  if (!keyPem || !answer.client_cert?.[thing])
    throw new Error('POST /mapping: no certificate and key for the thing');
  const key = crypto.createPrivateKey(keyPem);
  const details = key.asymmetricKeyDetails ?? {};
  const ok =
    keys === 'ec'
      ? key.asymmetricKeyType === 'ec' && details.namedCurve === 'prime256v1'
      : key.asymmetricKeyType === 'rsa' && details.modulusLength === 2048;
  if (!ok)
    throw new Error(
      `POST /mapping: expected a ${keys === 'ec' ? 'P-256' : 'RSA-2048'} key, got ${key.asymmetricKeyType} ${JSON.stringify(details)}`,
    );
}

/** 1a. POST /mapping on the main server (built-in layout, no certificates). */
export const mappingPlain: ExtendedScenario = {
  id: 'mapping',
  title: 'POST /mapping (built-in layout, no certificates, fresh external_id)',
  stage: 'full',
  connections: 4,
  unit: 'req/s',
  unitLabel: 'mappings/s',
  target: { minThroughput: 300 },
  reference: '26.8 req/s, p99 272 ms',
  async run(ctx: BenchContext, duration: number): Promise<LoadResult> {
    const account = await provisionAccount(ctx.server, ctx.api);
    const prefix = `map-${runTag()}`;
    await checkMapping(ctx.api, account.token, prefix, 'none');
    const spec: LoadSpec = {
      ...mappingLoad(account.token, prefix),
      url: ctx.server.url,
      connections: 4,
      duration,
    };
    const { load, cpu } = await measuredHttp(ctx.server, spec, { server: ctx.server.pid });
    const result: OutcomeLoad = { ...load, outcome: { notes: [cpu] } };
    return result;
  },
};

/** The layout the EC variant starts its server with: the built-in one, plus [certs]. */
const EC_LAYOUT = `# Tethys benchmark: the built-in layout with EC P-256 certificates
[bootstrap]
provision = true
autowhite_list = true
x509_provision = true

[certs]
keytype = "ec"
key_bits = 256

[[things]]
name = "thing"
metadata = { external_id = "xxxxxx" }

[[channels]]
name = "control-channel"
metadata = { type = "control" }

[[channels]]
name = "data-channel"
metadata = { type = "data" }
`;

/**
 * GET <path> at a steady rate in the background (open loop: a request goes out on time
 * whether or not the previous ones answered), each timed from its start to the end of
 * its response.
 */
function startProbe(url: string, token: string, requestPath: string, ratePerSecond: number) {
  const { hostname, port } = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const samples: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const inFlight = new Set<Promise<void>>();
  const started = performance.now();
  let sent = 0;
  const fire = () => {
    const t0 = performance.now();
    const done = new Promise<void>((resolve) => {
      const req = http.get(
        { hostname, port, path: requestPath, agent, headers: { authorization: token }, timeout: 30_000 },
        (res) => {
          res.resume();
          res.on('end', () => {
            samples.push(performance.now() - t0);
            statuses[res.statusCode ?? 0] = (statuses[res.statusCode ?? 0] ?? 0) + 1;
            resolve();
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => {
        errors++;
        resolve();
      });
    });
    inFlight.add(done);
    done.then(() => inFlight.delete(done));
  };
  const tick = () => {
    if (stopped) return;
    const due = Math.floor(((performance.now() - started) * ratePerSecond) / 1000) + 1;
    while (sent < due) {
      sent++;
      fire();
    }
    timer = setTimeout(tick, Math.max(1, (sent * 1000) / ratePerSecond - (performance.now() - started)));
  };
  tick();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await Promise.all(inFlight);
      agent.destroy();
      return { ...latencySummary(samples), errors, statuses };
    },
  };
}

/** RSA-2048 key generation on one core of this machine, in the harness: what bounds the RSA variant. */
function rsaKeygenMs(keys = 3): number {
  const t0 = performance.now();
  for (let i = 0; i < keys; i++) crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return (performance.now() - t0) / keys;
}

const PROBE_RATE = 20;
const PROBE_P99_MS = 50;

/** 1b, 1c. POST /mapping with certificates, on a server of its own with x509 provisioning. */
function mappingWithCerts(keys: 'ec' | 'rsa'): ExtendedScenario {
  const rsa = keys === 'rsa';
  return {
    id: rsa ? 'mapping-rsa' : 'mapping-ec',
    title: rsa
      ? `POST /mapping with RSA-2048 certificates (own server), with GET /things?limit=10 at ${PROBE_RATE} req/s alongside`
      : 'POST /mapping with EC P-256 certificates (own server, layout [certs] keytype = "ec")',
    stage: 'full',
    connections: 4,
    unit: 'req/s',
    unitLabel: 'mappings/s',
    target: rsa ? { minThroughput: 0 } : { minThroughput: 150 },
    targetText: rsa
      ? `bounded by key generation (≈ 4/s a core); GET /things p99 < ${PROBE_P99_MS} ms alongside`
      : undefined,
    async run(ctx: BenchContext, duration: number): Promise<LoadResult> {
      const { dbUrl } = instanceInfo(ctx.server);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tethys-bench-layout-'));
      const env: Record<string, string> = { MF_PROVISION_X509_PROVISIONING: 'true' };
      if (rsa) env.MF_PROVISION_CERTS_RSA_BITS = '2048';
      else {
        env.MF_PROVISION_CONFIG_FILE = path.join(dir, 'provision.toml');
        fs.writeFileSync(env.MF_PROVISION_CONFIG_FILE, EC_LAYOUT);
      }
      const notes: string[] = [];
      const problems: string[] = [];
      const checks: { what: string; ok: boolean }[] = [];
      let server: BenchServer | null = null;
      try {
        const keygenMs = rsa ? rsaKeygenMs() : 0;
        server = await startInstance({ dbUrl, extraEnv: env });
        const api = new Api(server.url);
        const account = await provisionAccount(server, api);
        const prefix = `${keys}-${runTag()}`;
        await checkMapping(api, account.token, prefix, keys);
        const spec: LoadSpec = {
          ...mappingLoad(account.token, prefix),
          url: server.url,
          connections: 4,
          duration,
        };
        server.takeLog();
        const token = account.token;
        const url = server.url;
        const {
          load,
          cpu,
          alongside: probed,
        } = await measuredHttp(
          server,
          spec,
          { server: server.pid },
          rsa ? () => startProbe(url, token, '/things?limit=10', PROBE_RATE) : undefined,
        );
        notes.push(cpu);
        const rssPeakKiB = server.rss.takeWindow();
        const found = logFindings('the server', server.takeLog());
        problems.push(...found.problems);
        notes.push(...found.notes);
        notes.push(
          `own server (${rsa ? 'MF_PROVISION_CERTS_RSA_BITS=2048' : 'layout file with [certs] keytype = "ec", key_bits = 256'}, MF_PROVISION_X509_PROVISIONING=true) on ${dbUrl ? 'the same PostgreSQL database' : 'a SQLite database of its own'}; peak RSS ${formatMiB(rssPeakKiB)}`,
        );
        if (rsa && probed) {
          const probeOk = probed.errors === 0 && Object.keys(probed.statuses).every((s) => s === '200');
          notes.push(
            `GET /things?limit=10 at ${PROBE_RATE} req/s during the load: ${formatInt(probed.count)} requests, p50 ${formatMs(probed.p50)}, p99 ${formatMs(probed.p99)}, max ${formatMs(probed.max)}, statuses ${JSON.stringify(probed.statuses)}${probed.errors ? `, ${probed.errors} errors` : ''}`,
          );
          notes.push(
            `RSA-2048 key generation in the harness, one core: ${formatMs(keygenMs)} a key (${(1000 / keygenMs).toFixed(1)}/s a core); the server generates on the libuv pool (UV_THREADPOOL_SIZE ${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'})`,
          );
          checks.push({
            what: `GET /things p99 < ${PROBE_P99_MS} ms`,
            ok: probeOk && probed.p99 < PROBE_P99_MS,
          });
          if (!probeOk)
            problems.push(`GET /things probe: ${JSON.stringify(probed.statuses)}, ${probed.errors} errors`);
        }
        const result: OutcomeLoad = {
          ...load,
          outcome: {
            throughput: rsa
              ? `${formatInt(load.okPerSecond)} mappings/s; GET /things p99 ${formatMs(probed?.p99 ?? Number.NaN)}`
              : undefined,
            rssPeakKiB,
            checks,
            problems,
            notes,
          },
        };
        return result;
      } finally {
        await server?.stop();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

export const mappingEc = mappingWithCerts('ec');
export const mappingRsa = mappingWithCerts('rsa');

/** Gateways the bootstrap scenario provisions and rotates among. */
const GATEWAYS = 300;

/** 2. GET /things/bootstrap/{external_id} with the external key, rotating among provisioned gateways. */
export const bootstrapFetch: ExtendedScenario = {
  id: 'bootstrap',
  title: `GET /things/bootstrap/{external_id} (Authorization: external key, ${GATEWAYS} gateways)`,
  stage: 'full',
  connections: 32,
  unit: 'req/s',
  target: { minThroughput: 3000 },
  async run(ctx: BenchContext, duration: number): Promise<LoadResult> {
    const account = await provisionAccount(ctx.server, ctx.api);
    const prefix = `boot-${runTag()}`;
    const gateways: { externalId: string; externalKey: string; thing: string }[] = [];
    let next = 0;
    const worker = async () => {
      while (next < GATEWAYS) {
        const i = next++;
        const externalId = `${prefix}-${i}`;
        const externalKey = `key-${prefix}-${i}`;
        const answer = await ctx.api.as(account.token).provision(externalId, externalKey);
        gateways[i] = { externalId, externalKey, thing: answer.things![0]!.id };
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const first = gateways[0]!;
    const config = await ctx.api.sdk.bootstrap.fetch(first.externalId, first.externalKey);
    if (config?.mainflux_id !== first.thing || (config?.mainflux_channels?.length ?? 0) !== 2) {
      throw new Error(
        `bootstrap fetch: expected thing ${first.thing} with 2 channels, got ${JSON.stringify(config).slice(0, 300)}`,
      );
    }
    const paths = gateways.map((g) => `/things/bootstrap/${encodeURIComponent(g.externalId)}`);
    let n = 0;
    const spec: LoadSpec = {
      url: ctx.server.url,
      connections: 32,
      duration,
      method: 'GET',
      path: paths[0]!,
      headers: { authorization: first.externalKey },
      okStatus: 200,
      setupRequest: (req) => {
        const i = n++ % gateways.length;
        return {
          ...req,
          path: paths[i]!,
          headers: { ...req.headers, authorization: gateways[i]!.externalKey },
        };
      },
    };
    const { load, cpu } = await measuredHttp(ctx.server, spec, { server: ctx.server.pid });
    const result: OutcomeLoad = { ...load, outcome: { notes: [cpu] } };
    return result;
  },
};

export const provisionScenarios: ExtendedScenario[] = [mappingPlain, mappingEc, mappingRsa, bootstrapFetch];
