import crypto from 'node:crypto';
import type { Registered } from '../../sdk/src/index.js';
// The server's @peculiar/x509, set up as it uses it (reflect-metadata first, Node's WebCrypto).
import { x509 } from '../../src/certs/x509.js';
import type { Api } from '../api.js';
import { formatInt } from '../format.js';
import { measuredHttp, runTag } from '../instances.js';
import type { LoadResult, LoadSpec } from '../load.js';
import type { ExtendedScenario, OutcomeLoad } from './extended.js';
import { provisionAccount } from './provision.js';
import type { BenchContext } from './types.js';

/**
 * Zero-touch enrollment: POST /enrollments/{id}/register by devices of a symmetric_key
 * group (`Authorization: SharedKey <base64(HMAC-SHA256(group key, registration id))>`),
 * on the main server (its certificates service signs with the local CA), in the
 * provisioning account. `register`: a fresh registration id each request, with a CSR
 * (the first time: the layout's thing and channels, bootstrap config and a certificate
 * in one transaction); `register-again`: ids registered before, without a CSR, in a group
 * without a certificate setting (the 200 answer: the same thing, nothing signed).
 */

const json = { 'content-type': 'application/json' };
const CONNECTIONS = 16;
/** Registration ids the re-registration scenario registers first and cycles through. */
const REGISTERED = 2000;

/** The device key of a registration id, as a device derives it from the group key. */
const deviceKey = (groupKey: Buffer, registrationId: string): string =>
  crypto.createHmac('sha256', groupKey).update(registrationId).digest('base64');

/**
 * One EC P-256 key and a CSR for it. The server signs for the CSR's public key with
 * CN = the new thing's id whatever the CSR's subject says, so the one CSR serves every
 * request: making a key and a CSR per request would measure the load generator.
 */
export async function deviceCsr(): Promise<{ pem: string; spki: Buffer }> {
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await crypto.webcrypto.subtle.generateKey(algorithm, false, ['sign', 'verify']);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: 'CN=bench-device',
    keys: keys as CryptoKeyPair,
    signingAlgorithm: algorithm,
  });
  const spki = Buffer.from(await crypto.webcrypto.subtle.exportKey('spki', keys.publicKey));
  return { pem: csr.toString('pem'), spki };
}

/** A new symmetric_key group of the default layout, without a certificate setting. */
async function newGroup(api: Api, token: string, name: string): Promise<{ id: string; key: string }> {
  const group = await api.as(token).enrollments.create({ name, attestation: 'symmetric_key' });
  if (!group.id || !group.group_key) {
    throw new Error(`POST /enrollments: no id or group_key in ${JSON.stringify(group).slice(0, 300)}`);
  }
  return { id: group.id, key: group.group_key };
}

/**
 * The register load on the main server, measured: `idOf(n)` is the n-th request's
 * registration id, whose device key goes in its Authorization header; the body ends with
 * `tail`. `note` joins the CPU reading in the row's notes.
 */
async function measuredRegistrations(
  ctx: BenchContext,
  duration: number,
  group: { id: string; key: string },
  load: { idOf: (n: number) => string; tail: string; okStatus: number; note: string },
): Promise<OutcomeLoad> {
  const key = Buffer.from(group.key, 'base64');
  let n = 0;
  const spec: LoadSpec = {
    url: ctx.server.url,
    connections: CONNECTIONS,
    duration,
    method: 'POST',
    path: `/enrollments/${group.id}/register`,
    headers: json,
    okStatus: load.okStatus,
    setupRequest: (req) => {
      const id = load.idOf(n++);
      return {
        ...req,
        body: `{"registration_id":${JSON.stringify(id)}${load.tail}`,
        headers: { ...req.headers, authorization: `SharedKey ${deviceKey(key, id)}` },
      };
    },
  };
  const { load: result, cpu } = await measuredHttp(ctx.server, spec, { server: ctx.server.pid });
  return { ...result, outcome: { notes: [cpu, load.note] } };
}

/** Why a registration's answer is not what the load assumes, or null. */
function registrationProblem(
  reply: Registered & { created: boolean },
  expect: { created: boolean; thingId?: string; spki?: Buffer },
): string | null {
  if (reply.created !== expect.created) return `expected created = ${expect.created}`;
  if (!reply.thing_id || reply.bootstrap?.mainflux_id !== reply.thing_id)
    return 'no thing, or a bootstrap config of another thing';
  if (expect.thingId && reply.thing_id !== expect.thingId) return 'another thing than the first time';
  if (!expect.spki) return reply.certificate ? 'a certificate without a CSR or a setting' : null;
  const c = reply.certificate;
  if (!c?.client_cert || c.client_key) return 'no certificate, or a private key made on the server';
  const cert = new crypto.X509Certificate(c.client_cert);
  if (!cert.subject.split('\n').includes(`CN=${reply.thing_id}`))
    return `certificate subject ${cert.subject.replaceAll('\n', ', ')}, not CN = the thing id`;
  const certKey = cert.publicKey.export({ type: 'spki', format: 'der' });
  if (!certKey.equals(expect.spki)) return "the certificate is not for the CSR's key";
  return null;
}

async function checkRegistration(
  api: Api,
  group: { id: string; key: string },
  registrationId: string,
  csr: string | undefined,
  expect: Parameters<typeof registrationProblem>[1],
): Promise<string> {
  const key = deviceKey(Buffer.from(group.key, 'base64'), registrationId);
  const reply = await api.sdk.enrollments.register(
    group.id,
    { registration_id: registrationId, ...(csr ? { csr } : {}) },
    key,
  );
  const problem = registrationProblem(reply, expect);
  if (problem) {
    throw new Error(
      `POST /enrollments/{id}/register ${registrationId}: ${problem}: ${JSON.stringify(reply).slice(0, 300)}`,
    );
  }
  return reply.thing_id;
}

/** Registers `count` ids through the SDK, `CONNECTIONS` at a time; answers their things. */
async function registerAll(api: Api, group: { id: string; key: string }, ids: string[]): Promise<string[]> {
  const things: string[] = new Array(ids.length);
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const i = next++;
      things[i] = await checkRegistration(api, group, ids[i]!, undefined, { created: true });
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  return things;
}

/**
 * A scenario on a new symmetric_key group of the provisioning account: `measure` checks
 * the answers the load assumes, prepares what it needs and measures.
 */
function registrationScenario(
  id: string,
  title: string,
  minThroughput: number,
  measure: (
    ctx: BenchContext,
    duration: number,
    group: { id: string; key: string },
    tag: string,
  ) => Promise<OutcomeLoad>,
): ExtendedScenario {
  return {
    id,
    title,
    stage: 'full',
    connections: CONNECTIONS,
    unit: 'req/s',
    unitLabel: 'registrations/s',
    target: { minThroughput },
    async run(ctx: BenchContext, duration: number): Promise<LoadResult> {
      const account = await provisionAccount(ctx.server, ctx.api);
      const tag = runTag();
      const group = await newGroup(ctx.api, account.token, `bench-${id}-${tag}`);
      return measure(ctx, duration, group, tag);
    },
  };
}

/** Registration: a fresh id each request, with a CSR (EC P-256), the first-time 201. */
export const register = registrationScenario(
  'register',
  'POST /enrollments/{id}/register (symmetric_key, fresh registration_id, CSR EC P-256, default layout)',
  200,
  async (ctx, duration, group, tag) => {
    const csr = await deviceCsr();
    const check = `reg-${tag}-check`;
    const first = await checkRegistration(ctx.api, group, check, csr.pem, { created: true, spki: csr.spki });
    await checkRegistration(ctx.api, group, check, csr.pem, {
      created: false,
      thingId: first,
      spki: csr.spki,
    });
    const prefix = `reg-${tag}-`;
    return measuredRegistrations(ctx, duration, group, {
      idOf: (n) => `${prefix}${n}`,
      tail: `,"csr":${JSON.stringify(csr.pem)}}`,
      okStatus: 201,
      note: 'one CSR (one P-256 key, made once in the harness) for every request: the server signs for its public key with CN = the new thing id; each request has its own registration id and SharedKey',
    });
  },
);

/** Re-registration: ids registered before, no CSR, a group without a certificate setting (200). */
export const registerAgain = registrationScenario(
  'register-again',
  `POST /enrollments/{id}/register again (symmetric_key, ${formatInt(REGISTERED)} registered ids in turn, no CSR, no certificate setting)`,
  1000,
  async (ctx, duration, group, tag) => {
    const ids = Array.from({ length: REGISTERED }, (_, i) => `again-${tag}-${i}`);
    const started = performance.now();
    const things = await registerAll(ctx.api, group, ids);
    const seconds = (performance.now() - started) / 1000;
    await checkRegistration(ctx.api, group, ids[0]!, undefined, { created: false, thingId: things[0] });
    return measuredRegistrations(ctx, duration, group, {
      idOf: (n) => ids[n % ids.length]!,
      tail: '}',
      okStatus: 200,
      note: `${formatInt(REGISTERED)} ids registered first (no CSR, ${CONNECTIONS} at a time through the SDK): ${formatInt(REGISTERED / seconds)} registrations/s`,
    });
  },
);

export const enrollmentScenarios: ExtendedScenario[] = [register, registerAgain];
