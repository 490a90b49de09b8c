import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { loadConfig } from '../src/config.js';
import type { ProvisionStep } from '../src/provision/service.js';
import { assertError, ids, listAll, page, sorted, UUID_V4 } from './helpers/entities.js';
import { certPublicKey, commonName, keyPublicKey, opensslResult, workdir } from './helpers/openssl.js';
import {
  client,
  dialect,
  type Reply,
  type Request,
  startServer,
  type TestServer,
  userToken,
  withServer,
} from './helpers/server.js';
import { startVault } from './helpers/vault.js';

const SECRET = 'provision-test-secret';
const uid = () => crypto.randomBytes(6).toString('hex');

/** The seed document's layout example, verbatim. */
const SEED_LAYOUT = `[bootstrap]
  [bootstrap.content]
    [bootstrap.content.agent.edgex]
      url = "http://localhost:48090/api/v1/"

    [bootstrap.content.agent.log]
      level = "info"

    [bootstrap.content.agent.mqtt]
      mtls = false
      qos = 0
      retain = false
      skip_tls_ver = true
      url = "localhost:1883"

    [bootstrap.content.agent.server]
      nats_url = "localhost:4222"
      port = "9000"

    [bootstrap.content.agent.heartbeat]
      interval = "30s"

    [bootstrap.content.agent.terminal]
      session_timeout = "30s"

    [bootstrap.content.export.exp]
      log_level = "debug"
      nats = "nats://localhost:4222"
      port = "8172"
      cache_url = "localhost:6379"
      cache_pass = ""
      cache_db = "0"

    [bootstrap.content.export.mqtt]
      ca_path = "ca.crt"
      cert_path = "thing.crt"
      channel = ""
      host = "tcp://localhost:1883"
      mtls = false
      password = ""
      priv_key_path = "thing.key"
      qos = 0
      retain = false
      skip_tls_ver = false
      username = ""

    [[bootstrap.content.export.routes]]
      mqtt_topic = ""
      nats_topic = "channels"
      subtopic = ""
      type = "mfx"
      workers = 10

    [[bootstrap.content.export.routes]]
      mqtt_topic = ""
      nats_topic = "export"
      subtopic = ""
      type = "default"
      workers = 10

[[things]]
  name = "thing"

  [things.metadata]
    external_id = "xxxxxx"

[[channels]]
  name = "control-channel"

  [channels.metadata]
    type = "control"

[[channels]]
  name = "data-channel"

  [channels.metadata]
    type = "data"

[[channels]]
  name = "export-channel"

  [channels.metadata]
    type = "export"
`;

/** `[bootstrap.content]` of the seed layout as Mainflux marshals it: keys sorted, integers and booleans kept. */
const SEED_CONTENT =
  '{"agent":{"edgex":{"url":"http://localhost:48090/api/v1/"},"heartbeat":{"interval":"30s"},"log":{"level":"info"},' +
  '"mqtt":{"mtls":false,"qos":0,"retain":false,"skip_tls_ver":true,"url":"localhost:1883"},' +
  '"server":{"nats_url":"localhost:4222","port":"9000"},"terminal":{"session_timeout":"30s"}},' +
  '"export":{"exp":{"cache_db":"0","cache_pass":"","cache_url":"localhost:6379","log_level":"debug","nats":"nats://localhost:4222","port":"8172"},' +
  '"mqtt":{"ca_path":"ca.crt","cert_path":"thing.crt","channel":"","host":"tcp://localhost:1883","mtls":false,"password":"",' +
  '"priv_key_path":"thing.key","qos":0,"retain":false,"skip_tls_ver":false,"username":""},' +
  '"routes":[{"mqtt_topic":"","nats_topic":"channels","subtopic":"","type":"mfx","workers":10},' +
  '{"mqtt_topic":"","nats_topic":"export","subtopic":"","type":"default","workers":10}]}}';

/**
 * Two things, only the first a gateway; a [certs] section; `provision = false` that the
 * environment overrides; credentials for requests without Authorization.
 */
const TWO_THINGS_LAYOUT = `
[server]
mf_user = "file-user@example.com"
mf_pass = "file-password"

[bootstrap]
provision = false
autowhite_list = true

[certs]
days_valid = "24h"
key_bits = 2048
keytype = "rsa"

[[things]]
name = "gateway"
[things.metadata]
external_id = "placeholder"
model = "rpi4"

[[things]]
name = "exporter"
metadata = { role = "export", port = 8172 }

[[channels]]
name = "control-channel"
metadata = { type = "control" }

[[channels]]
name = "data-channel"
metadata = { type = "data" }
`;

const TWO_GATEWAYS_LAYOUT = `
[[things]]
name = "first"
metadata = { external_id = "a" }

[[things]]
name = "second"
metadata = { external_id = "b" }

[[channels]]
name = "control-channel"
metadata = { type = "control" }

[[channels]]
name = "data-channel"
metadata = { type = "data" }
`;

const x509Wired = (server: TestServer) =>
  Boolean((server.app.services.provision as unknown as { certs: unknown }).certs);

describe(`provision (${dialect})`, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tethys-layouts-'));
  const layoutFile = (name: string, text: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  };
  // The built-in layout, no credentials configured.
  const fixture = withServer({ MF_AUTH_SECRET: SECRET });
  const { request } = fixture;
  let alice: { email: string; password: string; token: string };
  let bob: string;

  before(async () => {
    [alice, bob] = await Promise.all([userToken(request), userToken(request).then((u) => u.token)]);
  });
  after(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Another server on the same database and auth secret (so users, tokens and API keys carry over). */
  const sibling = (env: Record<string, string>) =>
    startServer({
      TETHYS_DB_URL: fixture.server.dbUrl,
      TETHYS_DATA_DIR: fixture.server.dataDir,
      MF_AUTH_SECRET: SECRET,
      ...env,
    });

  const mapping = (
    req: Request,
    token: string | undefined,
    body: unknown,
    contentType = 'application/json',
  ) =>
    req('POST', '/mapping', { token, contentType, ...(typeof body === 'string' ? { raw: body } : { body }) });

  const totals = async (req: Request, token: string) => ({
    things: (await page(req, token, '/things?limit=1')).total as number,
    channels: (await page(req, token, '/channels?limit=1')).total as number,
    configs: (await page(req, token, '/things/configs?limit=1')).total as number,
  });

  async function connectionsOwnedBy(s: TestServer, email: string): Promise<number> {
    const r = await sql<{
      n: number | string;
    }>`SELECT count(*) AS n FROM connections WHERE owner = ${email}`.execute(s.app.services.db.kysely);
    return Number(r.rows[0]!.n);
  }

  /** Nothing of the user's is left: no things, channels, configs or connections. */
  async function assertNothingFor(s: TestServer, req: Request, user: { email: string; token: string }) {
    assert.deepEqual(await totals(req, user.token), { things: 0, channels: 0, configs: 0 });
    assert.equal((await listAll(req, user.token, '/things', 'things')).length, 0);
    assert.equal((await listAll(req, user.token, '/channels', 'channels')).length, 0);
    assert.equal(await connectionsOwnedBy(s, user.email), 0);
  }

  /**
   * A 201 as the seed shows it, for the built-in layout: one thing with metadata
   * {external_id}, control and data channels, the thing whitelisted.
   */
  function assertSeedShape(reply: Reply, externalId: string, name: string) {
    assert.equal(reply.status, 201, reply.text);
    assert.match(reply.headers.get('content-type') ?? '', /^application\/json/);
    const body = reply.json;
    assert.deepEqual(Object.keys(body), ['things', 'channels', 'whitelisted']);
    assert.equal(body.things.length, 1);
    const [thing] = body.things;
    assert.deepEqual(Object.keys(thing), ['id', 'name', 'key', 'metadata']);
    assert.match(thing.id, UUID_V4);
    assert.match(thing.key, UUID_V4);
    assert.equal(thing.name, name);
    assert.deepEqual(thing.metadata, { external_id: externalId });
    assert.equal(body.channels.length, 2);
    for (const c of body.channels) {
      assert.deepEqual(Object.keys(c), ['id', 'name', 'metadata']);
      assert.match(c.id, UUID_V4);
    }
    assert.deepEqual(
      body.channels.map((c: any) => [c.name, c.metadata]),
      [
        ['control-channel', { type: 'control' }],
        ['data-channel', { type: 'data' }],
      ],
    );
    assert.deepEqual(body.whitelisted, { [thing.id]: true });
    return { thing, control: body.channels[0], data: body.channels[1] };
  }

  /** What the gateway and its owner see after a successful /mapping. */
  async function assertProvisioned(
    req: Request,
    token: string,
    result: { thing: any; channels: any[] },
    externalId: string,
    externalKey: string,
    content: string,
  ) {
    const { thing, channels } = result;
    // The gateway fetches its config exactly as the seed does it.
    const fetched = await req('GET', `/things/bootstrap/${encodeURIComponent(externalId)}`, {
      headers: { authorization: externalKey, 'content-type': 'application/json' },
    });
    assert.equal(fetched.status, 200, fetched.text);
    assert.deepEqual(fetched.json, {
      mainflux_id: thing.id,
      mainflux_key: thing.key,
      mainflux_channels: channels.map((c) => ({ id: c.id, name: c.name, metadata: c.metadata })),
      content,
    });
    assert.equal(typeof JSON.parse(fetched.json.content), 'object', 'the Agent parses content as JSON');

    // Whitelisted: connected to every channel, so it can publish.
    assert.deepEqual(
      sorted(ids(await listAll(req, token, `/things/${thing.id}/channels`, 'channels'))),
      sorted(ids(channels)),
    );
    for (const c of channels) {
      const published = await req('POST', `/http/channels/${c.id}/messages`, {
        token: thing.key,
        raw: '[{"n":"t","v":1}]',
        contentType: 'application/senml+json',
      });
      assert.equal(published.status, 202, published.text);
    }
    const config = await req('GET', `/things/configs/${thing.id}`, { token });
    assert.equal(config.status, 200);
    assert.equal(config.json.state, 1);
    assert.equal(config.json.external_id, externalId);
    assert.equal(config.json.external_key, externalKey);

    // The gateway thing's metadata (MODEL.md §7 step 7).
    const typed = (type: string) => channels.find((c) => c.metadata?.type === type)?.id ?? '';
    const stored = await req('GET', `/things/${thing.id}`, { token });
    assert.equal(stored.status, 200);
    assert.deepEqual(stored.json.metadata, {
      ...thing.metadata,
      external_id: externalId,
      type: 'gateway',
      cfg_id: thing.id,
      ctrl_channel_id: typed('control'),
      data_channel_id: typed('data'),
      export_channel_id: typed('export'),
      external_key: externalKey,
    });
  }

  describe("the seed document's requests", () => {
    it('with the token in Authorization and a name (the Example): 201, the gateway fetches its config', async () => {
      const reply = await mapping(
        request,
        alice.token,
        '{"name":"edge-gw",  "external_id" : "gateway", "external_key":"external_key" }',
      );
      const { thing, control, data } = assertSeedShape(reply, 'gateway', 'edge-gw');
      await assertProvisioned(
        request,
        alice.token,
        { thing, channels: [control, data] },
        'gateway',
        'external_key',
        'null',
      );
      // Owned by the token's user only.
      assert.equal((await request('GET', `/things/${thing.id}`, { token: bob })).status, 404);
    });

    it('with the token and no name: the layout name', async () => {
      const user = await userToken(request);
      const externalId = `33:52:79:C3:${uid()}`;
      const reply = await mapping(
        request,
        user.token,
        `{"external_id": "${externalId}", "external_key": "223334fw2"}`,
      );
      const { thing, control, data } = assertSeedShape(reply, externalId, 'thing');
      await assertProvisioned(
        request,
        user.token,
        { thing, channels: [control, data] },
        externalId,
        '223334fw2',
        'null',
      );
      assert.deepEqual(await totals(request, user.token), { things: 1, channels: 2, configs: 1 });
    });

    it('with an API key in Authorization', async () => {
      const key = await request('POST', '/keys', { token: alice.token, body: { type: 2 } });
      assert.equal(key.status, 201, key.text);
      const externalId = `api-${uid()}`;
      const reply = await mapping(request, key.json.value, { external_id: externalId, external_key: 'k1' });
      const { thing, control, data } = assertSeedShape(reply, externalId, 'thing');
      await assertProvisioned(
        request,
        alice.token,
        { thing, channels: [control, data] },
        externalId,
        'k1',
        'null',
      );
      // `Bearer <key>`, as later releases and common clients send it.
      const bearer = await mapping(request, `Bearer ${key.json.value}`, {
        external_id: `bearer-${uid()}`,
        external_key: 'k',
      });
      assert.equal(bearer.status, 201, bearer.text);
      assert.equal(
        (await request('GET', `/things/${bearer.json.things[0].id}`, { token: alice.token })).status,
        200,
      );
    });

    it('without Authorization and no credentials configured: 401 with a JSON error, nothing created', async () => {
      const externalId = `none-${uid()}`;
      assertError(
        await mapping(request, undefined, `{"external_id": "${externalId}", "external_key": "223334fw2"}`),
        401,
      );
      assertError(await mapping(request, 'not-a-token', { external_id: externalId, external_key: 'k' }), 401);
      assertError(
        await request('GET', `/things/bootstrap/${externalId}`, { headers: { authorization: '223334fw2' } }),
        404,
      );
    });

    it('without Authorization, with MF_PROVISION_API_KEY (the exact seed request); a header still wins', async () => {
      const user = await userToken(request);
      const key = (await request('POST', '/keys', { token: user.token, body: { type: 2 } })).json
        .value as string;
      const other = await sibling({
        MF_PROVISION_API_KEY: key,
        MF_PROVISION_BS_CONTENT: '{"b":{"y":1,"x":true},"a":"z"}',
      });
      try {
        const req = client(other.url);
        const reply = await mapping(
          req,
          undefined,
          '{"external_id": "33:52:77:99:43", "external_key": "223334fw2"}',
        );
        const { thing, control, data } = assertSeedShape(reply, '33:52:77:99:43', 'thing');
        // MF_PROVISION_BS_CONTENT is the content when there is no layout file, keys sorted.
        await assertProvisioned(
          req,
          user.token,
          { thing, channels: [control, data] },
          '33:52:77:99:43',
          '223334fw2',
          '{"a":"z","b":{"x":true,"y":1}}',
        );
        const getMapping = await req('GET', '/mapping', { token: user.token });
        assert.equal(getMapping.status, 200);
        assert.deepEqual(getMapping.json, { b: { y: 1, x: true }, a: 'z' });

        const mine = await userToken(req);
        const byHeader = await mapping(req, mine.token, { external_id: `hdr-${uid()}`, external_key: 'k' });
        assert.equal(byHeader.status, 201, byHeader.text);
        assert.equal(
          (await req('GET', `/things/${byHeader.json.things[0].id}`, { token: mine.token })).status,
          200,
          'the header user owns it',
        );
        assert.equal((await totals(req, user.token)).things, 1, 'not the API key user');
      } finally {
        await other.close();
      }
    });

    it('without Authorization, with MF_PROVISION_USER / MF_PROVISION_PASS; a wrong password is 401', async () => {
      const user = await userToken(request);
      const good = await sibling({ MF_PROVISION_USER: user.email, MF_PROVISION_PASS: user.password });
      try {
        const req = client(good.url);
        const externalId = `user-${uid()}`;
        const reply = await mapping(req, undefined, { external_id: externalId, external_key: 'pw' });
        const { thing, control, data } = assertSeedShape(reply, externalId, 'thing');
        await assertProvisioned(
          req,
          user.token,
          { thing, channels: [control, data] },
          externalId,
          'pw',
          'null',
        );
      } finally {
        await good.close();
      }
      const bad = await sibling({ MF_PROVISION_USER: user.email, MF_PROVISION_PASS: 'wrong-password' });
      try {
        const req = client(bad.url);
        assertError(await mapping(req, undefined, { external_id: `bad-${uid()}`, external_key: 'pw' }), 401);
        assert.equal((await totals(req, user.token)).things, 1);
      } finally {
        await bad.close();
      }
    });
  });

  describe('POST /mapping input and conflicts', () => {
    it('a repeated external_id answers 409 and changes nothing, for the same or another user', async () => {
      const user = await userToken(request);
      const externalId = `dup-${uid()}`;
      assert.equal(
        (await mapping(request, user.token, { external_id: externalId, external_key: 'k' })).status,
        201,
      );
      const before = await totals(request, user.token);
      const connections = await connectionsOwnedBy(fixture.server, user.email);
      assert.equal(connections, 2);
      assertError(await mapping(request, user.token, { external_id: externalId, external_key: 'k' }), 409);
      assertError(
        await mapping(request, user.token, { external_id: externalId, external_key: 'other', name: 'x' }),
        409,
      );
      assert.deepEqual(await totals(request, user.token), before);
      assert.equal(await connectionsOwnedBy(fixture.server, user.email), connections);

      const other = await userToken(request);
      assertError(await mapping(request, other.token, { external_id: externalId, external_key: 'k' }), 409);
      await assertNothingFor(fixture.server, request, other);
      // The first gateway is untouched.
      const fetched = await request('GET', `/things/bootstrap/${externalId}`, {
        headers: { authorization: 'k' },
      });
      assert.equal(fetched.status, 200);
    });

    it('concurrent requests: one 201 per external id, the others 409; distinct ids all succeed', async () => {
      const user = await userToken(request);
      const externalId = `race-${uid()}`;
      const same = await Promise.all(
        [1, 2, 3].map(() => mapping(request, user.token, { external_id: externalId, external_key: 'k' })),
      );
      assert.deepEqual(same.map((r) => r.status).sort(), [201, 409, 409], same.map((r) => r.text).join('\n'));
      const distinct = await Promise.all(
        [1, 2, 3, 4].map((i) =>
          mapping(request, user.token, { external_id: `${externalId}-${i}`, external_key: 'k' }),
        ),
      );
      assert.deepEqual(
        distinct.map((r) => r.status),
        [201, 201, 201, 201],
        distinct.map((r) => r.text).join('\n'),
      );
      assert.deepEqual(await totals(request, user.token), { things: 5, channels: 10, configs: 5 });
      assert.equal(await connectionsOwnedBy(fixture.server, user.email), 10);
    });

    it('Content-Type must be exactly application/json (415); empty or invalid JSON and empty ids are 400', async () => {
      const user = await userToken(request);
      const ok = { external_id: `ct-${uid()}`, external_key: 'k' };
      for (const type of [
        'application/json; charset=utf-8',
        'text/plain',
        'application/senml+json',
        'APPLICATION/JSON',
      ]) {
        assertError(await mapping(request, user.token, ok, type), 415, 'unsupported content type');
      }
      assertError(
        await request('POST', '/mapping', { token: user.token, raw: JSON.stringify(ok), contentType: null }),
        415,
      );
      assertError(await mapping(request, user.token, ''), 400);
      assertError(await mapping(request, user.token, '{"external_id":'), 400);
      assertError(await mapping(request, user.token, 'not json'), 400);
      assertError(await mapping(request, user.token, { external_id: 5, external_key: 'k' }), 400);
      assertError(await mapping(request, user.token, { ...ok, external_id: '' }), 400);
      assertError(await mapping(request, user.token, { ...ok, external_key: '' }), 400);
      assertError(await mapping(request, user.token, { external_key: 'k' }), 400);
      await assertNothingFor(fixture.server, request, user);
      // None of it took the external id.
      assert.equal((await mapping(request, user.token, ok)).status, 201);
    });

    it('GET /mapping: the content for a valid token, no Content-Type needed (null with the built-in layout)', async () => {
      const reply = await request('GET', '/mapping', { token: alice.token });
      assert.equal(reply.status, 200, reply.text);
      assert.match(reply.headers.get('content-type') ?? '', /^application\/json/);
      assert.equal(reply.text, 'null');
      assert.equal(
        (
          await request('GET', '/mapping', {
            token: alice.token,
            headers: { 'content-type': 'application/json' },
          })
        ).status,
        200,
      );
      const textPlain = await request('GET', '/mapping', {
        token: alice.token,
        headers: { 'content-type': 'text/plain' },
      });
      assert.equal(textPlain.status, 200, textPlain.text);
      assertError(await request('GET', '/mapping'), 401);
      assertError(await request('GET', '/mapping', { token: 'bad' }), 401);
    });
  });

  describe('all or nothing', () => {
    const steps: ProvisionStep[] = ['channels', 'things', 'config', 'whitelist'];

    it('runs the steps in order', async () => {
      const seen: ProvisionStep[] = [];
      fixture.server.app.services.provision.beforeStep = (s) => {
        seen.push(s);
      };
      try {
        const user = await userToken(request);
        assert.equal(
          (await mapping(request, user.token, { external_id: `steps-${uid()}`, external_key: 'k' })).status,
          201,
        );
      } finally {
        fixture.server.app.services.provision.beforeStep = undefined;
      }
      assert.deepEqual(seen, steps);
    });

    for (const step of steps) {
      it(`a failure at "${step}" leaves no thing, channel, config or connection; the same request then works`, async () => {
        const user = await userToken(request);
        const body = { external_id: `fail-${step}-${uid()}`, external_key: 'k', name: 'gw' };
        fixture.server.app.services.provision.beforeStep = (s) => {
          if (s === step) throw new Error('injected');
        };
        let reply: Reply;
        try {
          reply = await mapping(request, user.token, body);
        } finally {
          fixture.server.app.services.provision.beforeStep = undefined;
        }
        assert.notEqual(reply.status, 201);
        assertError(reply, reply.status);
        assert.ok(reply.status >= 400, reply.text);
        await assertNothingFor(fixture.server, request, user);
        assertError(
          await request('GET', `/things/bootstrap/${body.external_id}`, { headers: { authorization: 'k' } }),
          404,
          'failed to read bootstrap configuration',
        );

        const retry = await mapping(request, user.token, body);
        const { thing, control, data } = assertSeedShape(retry, body.external_id, 'gw');
        await assertProvisioned(
          request,
          user.token,
          { thing, channels: [control, data] },
          body.external_id,
          'k',
          'null',
        );
        assert.deepEqual(await totals(request, user.token), { things: 1, channels: 2, configs: 1 });
      });
    }

    it('a conflict on the second of two gateway things (duplicate external_id) is a 409 that leaves nothing', async () => {
      const other = await startServer({
        MF_PROVISION_CONFIG_FILE: layoutFile('two-gateways.toml', TWO_GATEWAYS_LAYOUT),
      });
      try {
        const req = client(other.url);
        const user = await userToken(req);
        const externalId = `two-${uid()}`;
        assertError(await mapping(req, user.token, { external_id: externalId, external_key: 'k' }), 409);
        await assertNothingFor(other, req, user);
        assertError(
          await req('GET', `/things/bootstrap/${externalId}`, { headers: { authorization: 'k' } }),
          404,
        );
      } finally {
        await other.close();
      }
    });
  });

  describe('layout file', () => {
    it("the seed's layout: content is the sorted JSON text of [bootstrap.content]; three channels with export", async () => {
      const other = await startServer({ MF_PROVISION_CONFIG_FILE: layoutFile('seed.toml', SEED_LAYOUT) });
      try {
        const req = client(other.url);
        const user = await userToken(req);
        const reply = await mapping(req, user.token, {
          name: 'edge-gw',
          external_id: 'gateway',
          external_key: 'external_key',
        });
        assert.equal(reply.status, 201, reply.text);
        assert.deepEqual(Object.keys(reply.json), ['things', 'channels', 'whitelisted']);
        const [thing] = reply.json.things;
        assert.equal(reply.json.things.length, 1);
        assert.deepEqual(thing.metadata, { external_id: 'gateway' });
        assert.deepEqual(
          reply.json.channels.map((c: any) => [c.name, c.metadata]),
          [
            ['control-channel', { type: 'control' }],
            ['data-channel', { type: 'data' }],
            ['export-channel', { type: 'export' }],
          ],
        );
        await assertProvisioned(
          req,
          user.token,
          { thing, channels: reply.json.channels },
          'gateway',
          'external_key',
          SEED_CONTENT,
        );
        const metadata = (await req('GET', `/things/${thing.id}`, { token: user.token })).json.metadata;
        assert.equal(metadata.export_channel_id, reply.json.channels[2].id);

        // GET /mapping: the table as an object; a token is needed, a Content-Type is not.
        const content = await req('GET', '/mapping', { token: user.token });
        assert.equal(content.status, 200, content.text);
        assert.deepEqual(content.json, JSON.parse(SEED_CONTENT));
        assertError(await req('GET', '/mapping'), 401);
      } finally {
        await other.close();
      }
    });

    it('two things, one with external_id; [certs]; `provision = false` in the file is turned on by the environment', async () => {
      const other = await startServer({
        MF_PROVISION_CONFIG_FILE: layoutFile('two-things.toml', TWO_THINGS_LAYOUT),
      });
      try {
        const req = client(other.url);
        const user = await userToken(req);
        const externalId = `two-${uid()}`;
        const reply = await mapping(req, user.token, { external_id: externalId, external_key: 'k2' });
        assert.equal(reply.status, 201, reply.text);
        const [gw, exporter] = reply.json.things;
        assert.deepEqual(
          reply.json.things.map((t: any) => [t.name, t.metadata]),
          [
            ['gateway', { external_id: externalId, model: 'rpi4' }],
            ['exporter', { role: 'export', port: 8172 }],
          ],
        );
        assert.deepEqual(
          reply.json.whitelisted,
          { [gw.id]: true },
          'only the thing with a config is whitelisted',
        );
        await assertProvisioned(
          req,
          user.token,
          { thing: gw, channels: reply.json.channels },
          externalId,
          'k2',
          'null',
        );
        assert.deepEqual(await totals(req, user.token), { things: 2, channels: 2, configs: 1 });
        assert.equal(
          (await page(req, user.token, `/things/${exporter.id}/channels`)).total,
          0,
          'the other thing is not connected',
        );
        assert.deepEqual((await req('GET', `/things/${exporter.id}`, { token: user.token })).json.metadata, {
          role: 'export',
          port: 8172,
        });

        // A name in the request names every thing.
        const named = await mapping(req, user.token, {
          name: 'site-7',
          external_id: `two-${uid()}`,
          external_key: 'k3',
        });
        assert.equal(named.status, 201, named.text);
        assert.deepEqual(
          named.json.things.map((t: any) => t.name),
          ['site-7', 'site-7'],
        );

        // Without Authorization: mf_user / mf_pass of the file.
        assertError(
          await mapping(req, undefined, { external_id: `file-${uid()}`, external_key: 'k' }),
          401,
          'failed to create access token',
        );
        const fileUser = await userToken(req, 'file-user@example.com', 'file-password');
        const byFile = await mapping(req, undefined, { external_id: `file-${uid()}`, external_key: 'k' });
        assert.equal(byFile.status, 201, byFile.text);
        assert.deepEqual(
          sorted(ids((await page(req, fileUser.token, '/things')).things)),
          sorted(ids(byFile.json.things)),
        );
      } finally {
        await other.close();
      }
    });

    describe('files that stop the start', () => {
      /** buildApp on SQLite in a scratch folder: these fail before anything listens. */
      async function startFails(file: string, check: (message: string) => boolean) {
        const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tethys-badlayout-'));
        try {
          await assert.rejects(
            startServer({ TETHYS_DB_URL: '', TETHYS_DATA_DIR: dataDir, MF_PROVISION_CONFIG_FILE: file }),
            (err: unknown) => {
              assert.ok(err instanceof Error);
              assert.ok(check(err.message), err.message);
              return true;
            },
          );
        } finally {
          fs.rmSync(dataDir, { recursive: true, force: true });
        }
      }

      it('a syntax error: the message names the file and the line', async () => {
        const file = layoutFile(
          'broken.toml',
          '[[things]]\nname = "thing"\n[things.metadata\nexternal_id = "x"\n',
        );
        await startFails(file, (m) => m.includes('broken.toml') && /line 3\b/.test(m));
      });

      it('a named file that is missing', async () => {
        const file = path.join(dir, 'missing.toml');
        await startFails(file, (m) => m.includes('missing.toml'));
      });

      it('`things = "x"`: the message names the problem', async () => {
        const file = layoutFile('things-string.toml', 'things = "x"\n\n[[channels]]\nname = "c"\n');
        await startFails(file, (m) => /things/.test(m) && /array/.test(m));
      });

      it('MF_PROVISION_BS_AUTO_WHITELIST=true with MF_PROVISION_BS_CONFIG_PROVISIONING=false: loadConfig throws', () => {
        assert.throws(
          () =>
            loadConfig({
              MF_PROVISION_BS_AUTO_WHITELIST: 'true',
              MF_PROVISION_BS_CONFIG_PROVISIONING: 'false',
            }),
          /auto whitelist/,
        );
        assert.throws(
          () => loadConfig({ MF_PROVISION_BS_CONFIG_PROVISIONING: 'false' }),
          /auto whitelist/,
          'auto-whitelist is on by default',
        );
        assert.doesNotThrow(() =>
          loadConfig({
            MF_PROVISION_BS_AUTO_WHITELIST: 'false',
            MF_PROVISION_BS_CONFIG_PROVISIONING: 'false',
          }),
        );
      });
    });
  });

  describe('x509 provisioning', () => {
    it('returns client_cert/client_key by thing id and ca_cert; the gateway fetches the same; openssl verifies', async (t) => {
      const other = await startServer({
        MF_PROVISION_CONFIG_FILE: layoutFile('x509.toml', TWO_THINGS_LAYOUT),
        MF_PROVISION_X509_PROVISIONING: 'true',
      });
      const work = workdir();
      try {
        if (!x509Wired(other)) {
          t.skip('x509 provisioning not wired');
          return;
        }
        const req = client(other.url);
        const user = await userToken(req);
        const externalId = `x509-${uid()}`;
        const reply = await mapping(req, user.token, { external_id: externalId, external_key: 'kx' });
        assert.equal(reply.status, 201, reply.text);
        assert.deepEqual(Object.keys(reply.json), [
          'things',
          'channels',
          'client_cert',
          'client_key',
          'ca_cert',
          'whitelisted',
        ]);
        const thingIds = ids(reply.json.things);
        assert.deepEqual(Object.keys(reply.json.client_cert).sort(), sorted(thingIds));
        assert.deepEqual(Object.keys(reply.json.client_key).sort(), sorted(thingIds));
        const ca = work.file('ca.pem', reply.json.ca_cert);
        for (const id of thingIds) {
          const cert = work.file(`${id}.crt`, reply.json.client_cert[id]);
          const key = work.file(`${id}.key`, reply.json.client_key[id]);
          const verified = opensslResult('verify', '-CAfile', ca, cert);
          assert.ok(verified.ok, verified.output);
          assert.equal(certPublicKey(cert), keyPublicKey(key), 'the key belongs to the certificate');
          assert.equal(commonName(cert), id);
        }
        const gw = reply.json.things[0];
        const fetched = await req('GET', `/things/bootstrap/${externalId}`, {
          headers: { authorization: 'kx' },
        });
        assert.equal(fetched.status, 200);
        assert.equal(fetched.json.client_cert, reply.json.client_cert[gw.id]);
        assert.equal(fetched.json.client_key, reply.json.client_key[gw.id]);
        assert.equal(fetched.json.ca_cert, reply.json.ca_cert);

        // Every thing gets its certificate; a failure at any step leaves nothing behind.
        const seen: ProvisionStep[] = [];
        other.app.services.provision.beforeStep = (s) => {
          seen.push(s);
        };
        const again = await mapping(req, user.token, { external_id: `x509-${uid()}`, external_key: 'k' });
        other.app.services.provision.beforeStep = undefined;
        assert.equal(again.status, 201, again.text);
        // Certificates before the transaction (they name things chosen up front), records inside it.
        assert.deepEqual(seen, ['certs', 'certs', 'channels', 'things', 'records', 'config', 'whitelist']);
        for (const step of ['certs', 'channels', 'things', 'records', 'config', 'whitelist'] as const) {
          const failing = await userToken(req);
          other.app.services.provision.beforeStep = (s) => {
            if (s === step) throw new Error('injected');
          };
          let failed: Reply;
          try {
            failed = await mapping(req, failing.token, { external_id: `x509-${uid()}`, external_key: 'k' });
          } finally {
            other.app.services.provision.beforeStep = undefined;
          }
          assert.ok(failed.status >= 400, failed.text);
          assertError(failed, failed.status);
          await assertNothingFor(other, req, failing);
        }
      } finally {
        work.remove();
        await other.close();
      }
    });

    it('with Vault: certificates issued by a request that then fails are revoked at Vault', async (t) => {
      const vault = await startVault({ token: 's.provision', pkiPath: 'pki_int', role: 'mainflux' });
      const other = await startServer({
        MF_PROVISION_CONFIG_FILE: layoutFile('x509-vault.toml', TWO_THINGS_LAYOUT),
        MF_PROVISION_X509_PROVISIONING: 'true',
        MF_CERTS_VAULT_HOST: vault.url,
        MF_VAULT_PKI_INT_PATH: vault.pkiPath,
        MF_VAULT_CA_ROLE_NAME: vault.role,
        MF_VAULT_TOKEN: vault.token,
      });
      try {
        if (!x509Wired(other)) {
          t.skip('x509 provisioning not wired');
          return;
        }
        const req = client(other.url);
        const user = await userToken(req);
        const issuedSerials = () => vault.calls.filter((c) => c.path.endsWith('/issue/mainflux')).length;
        other.app.services.provision.beforeStep = (s) => {
          if (s === 'config') throw new Error('injected');
        };
        let failed: Reply;
        try {
          failed = await mapping(req, user.token, { external_id: `vault-${uid()}`, external_key: 'k' });
        } finally {
          other.app.services.provision.beforeStep = undefined;
        }
        assert.ok(failed.status >= 400, failed.text);
        assert.equal(issuedSerials(), 2, 'both things got a certificate before the failure');
        assert.equal(vault.revoked.size, 2, 'and both were revoked');
        await assertNothingFor(other, req, user);

        const ok = await mapping(req, user.token, { external_id: `vault-${uid()}`, external_key: 'k' });
        assert.equal(ok.status, 201, ok.text);
        assert.equal(ok.json.ca_cert, vault.caPem);
        assert.equal(Object.keys(ok.json.client_cert).length, 2);
        assert.equal(vault.revoked.size, 2, 'nothing revoked on success');

        // Vault down when the compensation runs: the certificates are kept where the sweep
        // finds them (valid, for things that do not exist), and the sweep revokes them later.
        const revokedBefore = vault.revoked.size;
        const issuedBefore = issuedSerials();
        const valid = async () =>
          Number(
            (
              await sql<{
                n: number | string;
              }>`SELECT count(*) AS n FROM certs WHERE revoked_at IS NULL`.execute(
                other.app.services.db.kysely,
              )
            ).rows[0]!.n,
          );
        assert.equal(await valid(), 2, "the successful provisioning's two");
        const totalsBefore = await totals(req, user.token);
        other.app.services.provision.beforeStep = (s) => {
          if (s === 'config') {
            vault.sealed = true;
            throw new Error('injected');
          }
        };
        try {
          failed = await mapping(req, user.token, { external_id: `vault-${uid()}`, external_key: 'k' });
        } finally {
          other.app.services.provision.beforeStep = undefined;
          vault.sealed = false;
        }
        assert.ok(failed.status >= 400, failed.text);
        assert.equal(issuedSerials(), issuedBefore + 2);
        assert.equal(vault.revoked.size, revokedBefore, 'Vault refused the revocations');
        assert.equal(await valid(), 4, 'the two are recorded where the sweep finds them');
        await other.app.services.certs.sweepOrphans();
        assert.equal(vault.revoked.size, revokedBefore + 2, 'the sweep revoked both at Vault');
        assert.equal(await valid(), 2);
        assert.deepEqual(await totals(req, user.token), totalsBefore, 'the failed request left nothing');
      } finally {
        await other.close();
        await vault.close();
      }
    });
  });
});
