import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import { after, before, describe, it } from 'node:test';
import { assertEmpty, assertError, UUID_V4 } from './helpers/entities.js';
import {
  certPublicKey,
  commonName,
  csrPublicKey,
  ecRequest,
  opensslResult,
  signCsr,
  workdir,
} from './helpers/openssl.js';
import {
  dialect,
  type Request,
  startServer,
  type TestServer,
  userToken,
  withServer,
} from './helpers/server.js';

/** The device key of a registration id, as a device computes it (Azure DPS's derivation). */
const deviceKey = (groupKey: string, registrationId: string) =>
  crypto.createHmac('sha256', Buffer.from(groupKey, 'base64')).update(registrationId).digest('base64');

/** An EC P-256 key and a CSR for it, made by openssl as a device would. */
function csrOf(
  work: ReturnType<typeof workdir>,
  name: string,
): { csr: string; csrFile: string; keyFile: string } {
  const keyFile = work.path(`${name}.key`);
  const csrFile = work.path(`${name}.csr`);
  ecRequest(keyFile, csrFile, `/CN=${name}`);
  return { csr: fs.readFileSync(csrFile, 'utf8'), csrFile, keyFile };
}

describe(`enrollment groups (${dialect})`, () => {
  const fixture = withServer();
  const request: Request = fixture.request;
  const work = workdir();
  let alice: string;
  let bob: string;
  after(() => work.remove());

  before(async () => {
    alice = (await userToken(request)).token;
    bob = (await userToken(request)).token;
  });

  const create = (token: string, body: Record<string, unknown>) =>
    request('POST', '/enrollments', { token, body });

  async function group(body: Record<string, unknown> = {}): Promise<any> {
    const reply = await create(alice, {
      name: `g-${crypto.randomUUID()}`,
      attestation: 'symmetric_key',
      ...body,
    });
    assert.equal(reply.status, 201, reply.text);
    return reply.json;
  }

  const register = (
    id: string,
    registrationId: string,
    key: string | undefined,
    extra: Record<string, unknown> = {},
  ) =>
    request('POST', `/enrollments/${id}/register`, {
      token: key === undefined ? undefined : `SharedKey ${key}`,
      body: { registration_id: registrationId, ...extra },
    });

  async function thingCount(token: string): Promise<number> {
    const reply = await request('GET', '/things?limit=1', { token });
    return reply.json.total;
  }

  it('creates a symmetric_key group: 201, Location, the group with its key; the owner reads, lists and changes it', async () => {
    const reply = await create(alice, {
      name: 'line-3',
      attestation: 'symmetric_key',
      parameters: {},
      registration_id_pattern: '^SN[0-9]{8}$',
      max_devices: 10000,
      certificate: { key_type: 'ec', key_bits: 256, valid: '8760h' },
    });
    assert.equal(reply.status, 201, reply.text);
    const g = reply.json;
    assert.match(g.id, UUID_V4);
    assert.equal(reply.headers.get('location'), `/enrollments/${g.id}`);
    assert.equal(Buffer.from(g.group_key, 'base64').length, 32);
    assert.deepEqual(
      { ...g, id: undefined, group_key: undefined, created_at: undefined, updated_at: undefined },
      {
        id: undefined,
        group_key: undefined,
        created_at: undefined,
        updated_at: undefined,
        name: 'line-3',
        attestation: 'symmetric_key',
        layout: 'default',
        parameters: {},
        registration_id_pattern: '^SN[0-9]{8}$',
        max_devices: 10000,
        certificate: { key_type: 'ec', key_bits: 256, valid: '8760h' },
        enabled: true,
        registered: 0,
      },
    );
    assert.deepEqual((await request('GET', `/enrollments/${g.id}`, { token: alice })).json, g);

    const page = await request('GET', '/enrollments?limit=100', { token: alice });
    assert.equal(page.status, 200);
    assert.ok(page.json.enrollments.some((e: any) => e.id === g.id));
    assert.equal(page.json.total, page.json.enrollments.length);
    assert.equal(page.json.limit, 100);

    const changed = await request('PATCH', `/enrollments/${g.id}`, {
      token: alice,
      body: { enabled: false, max_devices: null, registration_id_pattern: '' },
    });
    assert.equal(changed.status, 200, changed.text);
    assert.equal(changed.json.enabled, false);
    assert.equal(changed.json.max_devices, null);
    assert.equal(changed.json.registration_id_pattern, '');
    assert.equal(changed.json.group_key, g.group_key);
  });

  it('refuses what it cannot use with a 400 naming the problem, and keeps nothing', async () => {
    const before = (await request('GET', '/enrollments', { token: alice })).json.total;
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ attestation: 'symmetric_key' }, /name/],
      [{ name: 'x', attestation: 'psk' }, /attestation/],
      [{ name: 'x', attestation: 'x509' }, /ca_cert/],
      [{ name: 'x', attestation: 'x509', ca_cert: 'not a pem' }, /ca_cert/],
      [{ name: 'x', attestation: 'symmetric_key', ca_cert: 'x' }, /ca_cert/],
      [{ name: 'x', attestation: 'symmetric_key', registration_id_pattern: '(' }, /registration_id_pattern/],
      [{ name: 'x', attestation: 'symmetric_key', max_devices: 0 }, /max_devices/],
      [
        { name: 'x', attestation: 'symmetric_key', certificate: { key_type: 'ec', key_bits: 1024 } },
        /key_bits/,
      ],
      [{ name: 'x', attestation: 'symmetric_key', certificate: { valid: 'soon' } }, /valid/],
      [{ name: 'x', attestation: 'symmetric_key', layout: 'no-such-layout' }, /no-such-layout/],
    ];
    for (const [body, message] of cases) {
      const reply = await create(alice, body);
      assertError(reply, 400);
      assert.match(reply.json.error, message, JSON.stringify(body));
    }
    assert.equal((await request('GET', '/enrollments', { token: alice })).json.total, before);
    const taken = await group();
    assertError(await create(alice, { name: taken.name, attestation: 'symmetric_key' }), 409);
    assertError(
      await request('PATCH', `/enrollments/${taken.id}`, { token: alice, body: { name: 'renamed' } }),
      400,
    );
  });

  it("is its owner's: another user gets 404, no credentials 401", async () => {
    const g = await group();
    for (const [method, path] of [
      ['GET', `/enrollments/${g.id}`],
      ['PATCH', `/enrollments/${g.id}`],
      ['DELETE', `/enrollments/${g.id}`],
      ['POST', `/enrollments/${g.id}/rotate-key`],
      ['GET', `/enrollments/${g.id}/registrations`],
    ] as const) {
      assertError(
        await request(method, path, { token: bob, body: method === 'PATCH' ? {} : undefined }),
        404,
      );
      assertError(await request(method, path, { body: method === 'PATCH' ? {} : undefined }), 401);
    }
    assert.equal((await request('GET', '/enrollments', { token: bob })).json.total, 0);
  });

  it('registers a device with its derived key: 201 with its thing, channels, bootstrap config; again 200 with the same thing', async () => {
    const g = await group();
    const id = 'SN00000042';
    const first = await register(g.id, id, deviceKey(g.group_key, id));
    assert.equal(first.status, 201, first.text);
    const r = first.json;
    assert.equal(r.registration_id, id);
    assert.match(r.thing_id, UUID_V4);
    assert.equal(r.certificate, undefined, 'no CSR and no certificate setting: no certificate');
    assert.deepEqual(
      r.channels.map((c: any) => c.name).sort(),
      ['control-channel', 'data-channel'],
      "the default layout's channels",
    );
    assert.equal(r.bootstrap.mainflux_id, r.thing_id);
    assert.equal(r.bootstrap.mainflux_key, r.thing_key);
    assert.deepEqual(r.bootstrap.mainflux_channels, r.channels);

    // What the owner sees: the thing, with the registration in its metadata, connected and whitelisted.
    const thing = (await request('GET', `/things/${r.thing_id}`, { token: alice })).json;
    assert.equal(thing.key, r.thing_key);
    assert.equal(thing.metadata.registration_id, id);
    assert.equal(thing.metadata.enrollment, g.id);
    const config = (await request('GET', `/things/configs/${r.thing_id}`, { token: alice })).json;
    assert.equal(config.external_id, id);
    assert.equal(config.state, 1, 'whitelisted');
    const channels = await request('GET', `/things/${r.thing_id}/channels?limit=100`, { token: alice });
    assert.equal(channels.json.total, 2);

    const again = await register(g.id, id, deviceKey(g.group_key, id));
    assert.equal(again.status, 200, again.text);
    assert.equal(again.json.thing_id, r.thing_id);
    assert.equal(again.json.thing_key, r.thing_key);

    const registrations = await request('GET', `/enrollments/${g.id}/registrations`, { token: alice });
    assert.equal(registrations.status, 200);
    assert.equal(registrations.json.total, 1);
    const [reg] = registrations.json.registrations;
    assert.equal(reg.registration_id, id);
    assert.equal(reg.thing_id, r.thing_id);
    assert.equal(reg.count, 2);
    assert.ok(reg.last_enrolled >= reg.first_enrolled);
    assert.equal((await request('GET', `/enrollments/${g.id}`, { token: alice })).json.registered, 1);
  });

  it('answers 401 for a wrong or missing key, 403 saying why for a disabled group, a pattern mismatch or a full group', async () => {
    const g = await group({ registration_id_pattern: '^dev-[0-9]+$', max_devices: 1 });
    const count = await thingCount(alice);
    assertError(await register(g.id, 'dev-1', undefined), 401);
    assertError(await register(g.id, 'dev-1', deviceKey(g.group_key, 'dev-2')), 401);
    assertError(
      await register(g.id, 'dev-1', deviceKey(crypto.randomBytes(32).toString('base64'), 'dev-1')),
      401,
    );
    const pattern = await register(g.id, 'other-1', deviceKey(g.group_key, 'other-1'));
    assertError(pattern, 403);
    assert.match(pattern.json.error, /registration_id_pattern/);
    assert.equal((await register(g.id, 'dev-1', deviceKey(g.group_key, 'dev-1'))).status, 201);
    const full = await register(g.id, 'dev-2', deviceKey(g.group_key, 'dev-2'));
    assertError(full, 403);
    assert.match(full.json.error, /max_devices/);
    assert.equal(
      (await register(g.id, 'dev-1', deviceKey(g.group_key, 'dev-1'))).status,
      200,
      'a known device is not new',
    );
    await request('PATCH', `/enrollments/${g.id}`, { token: alice, body: { enabled: false } });
    const disabled = await register(g.id, 'dev-1', deviceKey(g.group_key, 'dev-1'));
    assertError(disabled, 403);
    assert.match(disabled.json.error, /disabled/);
    assert.equal(await thingCount(alice), count + 1, 'only the one registration made a thing');
    assertError(await register(g.id, 'bad id with spaces', 'x'), 400);
    assertError(await register(crypto.randomUUID(), 'dev-1', 'x'), 404);
  });

  it('rotates the key: the old one stops working at once, the new one works', async () => {
    const g = await group();
    assert.equal((await register(g.id, 'r-1', deviceKey(g.group_key, 'r-1'))).status, 201);
    const rotated = await request('POST', `/enrollments/${g.id}/rotate-key`, { token: alice });
    assert.equal(rotated.status, 200, rotated.text);
    assert.notEqual(rotated.json.group_key, g.group_key);
    assertError(await register(g.id, 'r-1', deviceKey(g.group_key, 'r-1')), 401);
    assert.equal((await register(g.id, 'r-1', deviceKey(rotated.json.group_key, 'r-1'))).status, 200);
    assert.equal(
      (await request('GET', `/enrollments/${g.id}`, { token: alice })).json.group_key,
      rotated.json.group_key,
    );
  });

  it('signs a CSR for the device: no private key leaves the server, openssl verifies it, CN is the thing id', async () => {
    const g = await group({ certificate: { key_type: 'ec', key_bits: 256, valid: '24h' } });
    const { csr, csrFile } = csrOf(work, 'csr-dev');
    const reply = await register(g.id, 'csr-dev', deviceKey(g.group_key, 'csr-dev'), { csr });
    assert.equal(reply.status, 201, reply.text);
    const c = reply.json.certificate;
    assert.ok(c, 'a certificate');
    assert.equal(c.client_key, undefined, 'the key stayed on the device');
    const certFile = work.file('csr-dev.crt', c.client_cert);
    const caFile = work.file('csr-dev-ca.crt', c.issuing_ca);
    assert.ok(opensslResult('verify', '-CAfile', caFile, certFile).ok);
    assert.equal(certPublicKey(certFile), csrPublicKey(csrFile));
    assert.equal(commonName(certFile), reply.json.thing_id);
    assert.equal(reply.json.bootstrap.client_cert, c.client_cert, 'the bootstrap config carries it');
    assert.ok(Date.parse(c.expire) > Date.now());

    // Without a CSR, the group's setting makes the key on the server.
    const made = await register(g.id, 'keyless', deviceKey(g.group_key, 'keyless'));
    assert.equal(made.status, 201, made.text);
    assert.match(made.json.certificate.client_key, /PRIVATE KEY/);
    // A bad CSR: 400, nothing made.
    const count = await thingCount(alice);
    assertError(await register(g.id, 'bad-csr', deviceKey(g.group_key, 'bad-csr'), { csr: 'nope' }), 400);
    assert.equal(await thingCount(alice), count);
  });

  it('50 devices registering at once, each twice: exactly 50 things and 50 first-time 201s', async () => {
    const g = await group();
    const count = await thingCount(alice);
    const ids = Array.from({ length: 50 }, (_, i) => `herd-${i}`);
    const replies = await Promise.all(
      [...ids, ...ids].map((id) => register(g.id, id, deviceKey(g.group_key, id))),
    );
    const statuses = replies.map((r) => r.status);
    assert.equal(
      statuses.filter((s) => s === 201).length,
      50,
      JSON.stringify(
        replies
          .filter((r) => r.status >= 300)
          .map((r) => r.text)
          .slice(0, 3),
      ),
    );
    assert.equal(statuses.filter((s) => s === 200).length, 50);
    for (const id of ids) {
      const pair = replies.filter((r) => r.json.registration_id === id);
      assert.equal(pair.length, 2);
      assert.equal(pair[0]!.json.thing_id, pair[1]!.json.thing_id, id);
    }
    assert.equal(await thingCount(alice), count + 50);
    assert.equal((await request('GET', `/enrollments/${g.id}`, { token: alice })).json.registered, 50);
  });

  it('leaves nothing when any step of a registration fails', async () => {
    const g = await group({ certificate: { key_type: 'ec', key_bits: 256, valid: '1h' } });
    const provision = fixture.server.app.services.provision;
    for (const step of ['certs', 'channels', 'things', 'records', 'config', 'whitelist']) {
      const count = await thingCount(alice);
      const id = `fail-${step}`;
      provision.beforeStep = (s) => {
        if (s === step) throw new Error(`injected failure at ${step}`);
      };
      try {
        const reply = await register(g.id, id, deviceKey(g.group_key, id));
        assert.equal(reply.status, 500, `${step}: ${reply.text}`);
      } finally {
        provision.beforeStep = undefined;
      }
      assert.equal(await thingCount(alice), count, step);
      const registrations = await request('GET', `/enrollments/${g.id}/registrations`, { token: alice });
      assert.ok(!registrations.json.registrations.some((r: any) => r.registration_id === id), step);
      assertError(await request('GET', `/things/bootstrap/${id}`, { token: 'x' }), 404);
      // The device simply tries again.
      assert.equal((await register(g.id, id, deviceKey(g.group_key, id))).status, 201, step);
    }
    assert.equal((await request('GET', `/enrollments/${g.id}`, { token: alice })).json.registered, 6);
  });

  it('forgets a device whose thing is removed: it registers again as a new device; removing the group leaves devices', async () => {
    const g = await group();
    const first = (await register(g.id, 'gone', deviceKey(g.group_key, 'gone'))).json;
    assertEmpty(await request('DELETE', `/things/${first.thing_id}`, { token: alice }), 204);
    const again = await register(g.id, 'gone', deviceKey(g.group_key, 'gone'));
    assert.equal(again.status, 201, again.text);
    assert.notEqual(again.json.thing_id, first.thing_id);
    assertEmpty(await request('DELETE', `/enrollments/${g.id}`, { token: alice }), 204);
    assertError(await request('GET', `/enrollments/${g.id}`, { token: alice }), 404);
    assert.equal((await request('GET', `/things/${again.json.thing_id}`, { token: alice })).status, 200);
  });

  it("fills the group's layout with the group's parameters and the device's own (device = true only)", async () => {
    const toml = `[parameters.site]
type = "string"
required = true
pattern = "^[a-z-]+$"

[parameters.label]
type = "string"
required = true
device = true

[[things]]
name = "{{registration_id}}-{{label}}"
[things.metadata]
external_id = "x"
site = "{{site}}"

[[channels]]
name = "{{site}}-control"
metadata = { type = "control" }

[[channels]]
name = "{{site}}-data"
metadata = { type = "data" }

[bootstrap.content.agent]
site = "{{site}}"
device = "{{registration_id}}"
`;
    const name = `fleet-${crypto.randomBytes(4).toString('hex')}`;
    assert.equal((await request('POST', '/layouts', { token: alice, body: { name, toml } })).status, 201);
    // A group's parameters are checked when it is made: unknown or mistyped ones are refused.
    assertError(
      await create(alice, {
        name: 'p1',
        attestation: 'symmetric_key',
        layout: name,
        parameters: { nope: 1 },
      }),
      400,
    );
    assertError(
      await create(alice, {
        name: 'p2',
        attestation: 'symmetric_key',
        layout: name,
        parameters: { site: 'A B' },
      }),
      400,
    );
    const g = await group({ layout: name, parameters: { site: 'plant-a' } });

    const count = await thingCount(alice);
    const key = deviceKey(g.group_key, 'p-1');
    const notAllowed = await register(g.id, 'p-1', key, { parameters: { label: 'x', site: 'plant-b' } });
    assertError(notAllowed, 400);
    assert.match(notAllowed.json.error, /site/);
    const missing = await register(g.id, 'p-1', key);
    assertError(missing, 400);
    assert.match(missing.json.error, /label/);
    assert.equal(await thingCount(alice), count, 'nothing made');

    const reply = await register(g.id, 'p-1', key, { parameters: { label: 'boiler' } });
    assert.equal(reply.status, 201, reply.text);
    const thing = (await request('GET', `/things/${reply.json.thing_id}`, { token: alice })).json;
    assert.equal(thing.name, 'p-1-boiler');
    assert.equal(thing.metadata.site, 'plant-a');
    assert.deepEqual(reply.json.channels.map((c: any) => c.name).sort(), ['plant-a-control', 'plant-a-data']);
    assert.deepEqual(JSON.parse(reply.json.bootstrap.content), { agent: { device: 'p-1', site: 'plant-a' } });
  });

  it('replays a registration retried with the same Idempotency-Key; refuses a catastrophic pattern', async () => {
    const g = await group();
    const key = deviceKey(g.group_key, 'idem-1');
    const send = (body: Record<string, unknown>) =>
      request('POST', `/enrollments/${g.id}/register`, {
        token: `SharedKey ${key}`,
        headers: { 'idempotency-key': '"reg-1"' },
        body: { registration_id: 'idem-1', ...body },
      });
    const first = await send({});
    assert.equal(first.status, 201, first.text);
    const retry = await send({});
    assert.equal(retry.status, 201, 'the first answer, replayed');
    assert.equal(retry.text, first.text);
    assertError(await send({ parameters: {} }), 422);
    const refused = await create(alice, {
      name: 'redos',
      attestation: 'symmetric_key',
      registration_id_pattern: '^(a+)+$',
    });
    assertError(refused, 400);
    assert.match(refused.json.error, /repeat/);
  });

  it('throttles repeated failures with 429 and Retry-After', async () => {
    const g = await group();
    let last = await register(g.id, 'guess', 'AAAA');
    for (let i = 0; i < 20 && last.status !== 429; i++) last = await register(g.id, 'guess', 'AAAA');
    assertError(last, 429);
    assert.ok(Number(last.headers.get('retry-after')) > 0);
  });
});

describe(`enrollment with x509 attestation over HTTPS (${dialect})`, () => {
  const work = workdir();
  let server: TestServer;
  let serverCa: string;
  let owner: string;
  let group: any;

  /** A CA, and device certificates it signs (CN = the registration id). */
  function ca(name: string): { cert: string; key: string } {
    const key = work.path(`${name}.key`);
    const cert = work.path(`${name}.crt`);
    ecRequest(key, cert, `/CN=${name}`, { x509: true, days: 2 });
    return { cert, key };
  }
  function deviceCert(issuer: { cert: string; key: string }, cn: string): { cert: string; key: string } {
    const key = work.path(`${cn}-${crypto.randomUUID()}.key`);
    const csr = work.path(`${cn}.csr`);
    const cert = work.path(`${cn}-${crypto.randomUUID()}.crt`);
    ecRequest(key, csr, `/CN=${cn}`);
    signCsr(csr, issuer, cert);
    return { cert, key };
  }

  /** POST over HTTPS with a client certificate. */
  function registerTls(
    path: string,
    body: unknown,
    client?: { cert: string; key: string },
  ): Promise<{ status: number; json: any }> {
    const url = new URL(path, server.url);
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          ca: serverCa,
          headers: { 'content-type': 'application/json' },
          ...(client ? { cert: fs.readFileSync(client.cert), key: fs.readFileSync(client.key) } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined });
          });
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });
  }

  let fleetCa: { cert: string; key: string };
  before(async () => {
    const tls = ca('server');
    ecRequest(work.path('https.key'), work.path('https.crt'), '/CN=127.0.0.1', {
      x509: true,
      ip: '127.0.0.1',
    });
    void tls;
    serverCa = fs.readFileSync(work.path('https.crt'), 'utf8');
    server = await startServer({
      TETHYS_TLS_CERT: work.path('https.crt'),
      TETHYS_TLS_KEY: work.path('https.key'),
    });
    fleetCa = ca('fleet');
    const email = `x509-${crypto.randomUUID()}@example.com`;
    assert.equal((await registerTls('/users', { email, password: 'secret-password' })).status, 201);
    owner = (await registerTls('/tokens', { email, password: 'secret-password' })).json.token;
    group = await new Promise((resolve, reject) => {
      const url = new URL('/enrollments', server.url);
      const req = https.request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          ca: serverCa,
          headers: { 'content-type': 'application/json', authorization: owner },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
        },
      );
      req.on('error', reject);
      req.end(
        JSON.stringify({
          name: 'x509-line',
          attestation: 'x509',
          ca_cert: fs.readFileSync(fleetCa.cert, 'utf8'),
        }),
      );
    });
  });
  after(async () => {
    await server?.close();
    work.remove();
  });

  it('registers a device whose certificate chains to the group CA with CN = its registration id', async () => {
    assert.equal(group.attestation, 'x509');
    assert.equal(group.group_key, undefined);
    const device = deviceCert(fleetCa, 'unit-7');
    const first = await registerTls(
      `/enrollments/${group.id}/register`,
      { registration_id: 'unit-7' },
      device,
    );
    assert.equal(first.status, 201, JSON.stringify(first.json));
    const again = await registerTls(
      `/enrollments/${group.id}/register`,
      { registration_id: 'unit-7' },
      device,
    );
    assert.equal(again.status, 200);
    assert.equal(again.json.thing_id, first.json.thing_id);
  });

  it('answers 401 without a certificate, for another CA, or for another CN', async () => {
    const stranger = ca('stranger');
    const cases: [string, { cert: string; key: string } | undefined][] = [
      ['no certificate', undefined],
      ['another CA', deviceCert(stranger, 'unit-8')],
      ['another CN', deviceCert(fleetCa, 'unit-9')],
    ];
    for (const [label, client] of cases) {
      const reply = await registerTls(
        `/enrollments/${group.id}/register`,
        { registration_id: 'unit-8' },
        client,
      );
      assert.equal(reply.status, 401, label);
      assert.equal(typeof reply.json.error, 'string');
    }
  });
});
