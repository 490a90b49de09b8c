import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AuditEvent } from '../src/audit/types.js';
import type { ProvisionStep } from '../src/provision/service.js';
import { assertError, createChannels, createThing } from './helpers/entities.js';
import { client, dialect, type Request, startServer, withServer } from './helpers/server.js';

/**
 * The audit trail (issue 21) of bootstrap configs and provisioning: each config change
 * records one event in its transaction (bootstrap.create/update/certs/connections/
 * remove/state), /mapping records one event an entity it makes, all in its transaction,
 * a refused request or a failed provisioning records nothing, and no secret (external
 * keys, client keys, certificates, thing keys, the provisioning API key) is in any event.
 */

const ADMIN = { email: 'admin@example.com', password: 'admin-password-1' };
const SECRET = 'events-provisioning-secret';
const uid = () => crypto.randomBytes(6).toString('hex');

/** A gateway and another thing, two channels, auto-whitelisted, with certificates (EC: quick). */
const LAYOUT = `
bootstrap = { autowhite_list = true, x509_provision = true }
certs = { days_valid = "24h", keytype = "ec", key_bits = 256 }
things = [
  { name = "gateway", metadata = { external_id = "placeholder", model = "rpi4" } },
  { name = "exporter", metadata = { role = "export" } },
]
channels = [
  { name = "control", metadata = { type = "control" } },
  { name = "data", metadata = { type = "data" } },
]
`;

const ALL_CERTS = ['client certificate', 'CA certificate', 'client private key'];

/** Every event the token may read, oldest first (all pages). */
async function allEvents(request: Request, token: string, query = ''): Promise<AuditEvent[]> {
  const out: AuditEvent[] = [];
  for (let offset = 0; ; offset += 100) {
    const reply = await request(
      'GET',
      `/events?dir=asc&limit=100&offset=${offset}${query ? `&${query}` : ''}`,
      {
        token,
      },
    );
    assert.equal(reply.status, 200, reply.text);
    out.push(...reply.json.events);
    if (offset + 100 >= reply.json.total) return out;
  }
}

/** The events' actions with their counts, sorted: a multiset to compare. */
const multiset = (events: AuditEvent[]) =>
  Object.entries(
    events.reduce<Record<string, number>>((m, e) => {
      m[e.action] = (m[e.action] ?? 0) + 1;
      return m;
    }, {}),
  ).sort();

/**
 * [action, entity, related] of each event, a run of one action sorted by entity: the
 * order of a unit's events of one kind (a whitelist's connections) is not the test's.
 */
function actionRuns(events: AuditEvent[]): [string, string, string | null][] {
  const out: [string, string, string | null][] = [];
  let run: [string, string, string | null][] = [];
  const flush = () => {
    out.push(...run.sort((x, y) => x[1].localeCompare(y[1])));
    run = [];
  };
  for (const e of events) {
    if (run.length > 0 && run[0]![0] !== e.action) flush();
    run.push([e.action, e.entity_id, e.related_id]);
  }
  flush();
  return out;
}

/** Certificates are the certs domain's (cert.issue, cert.revoke): checked where that domain records them. */
const notCerts = (events: AuditEvent[]) => events.filter((e) => !e.action.startsWith('cert.'));

describe(`audit trail: bootstrap and provisioning (${dialect})`, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tethys-events-provisioning-'));
  const layoutFile = path.join(dir, 'layout.toml');
  fs.writeFileSync(layoutFile, LAYOUT);
  const fixture = withServer({
    MF_AUTH_SECRET: SECRET,
    MF_USERS_ADMIN_EMAIL: ADMIN.email,
    MF_USERS_ADMIN_PASSWORD: ADMIN.password,
    MF_PROVISION_CONFIG_FILE: layoutFile,
  });
  const { request } = fixture;
  let adminToken: string;

  before(async () => {
    adminToken = await request.sdk().users.login(ADMIN.email, ADMIN.password);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const x509 = () => Boolean((fixture.server.app.services.provision as unknown as { certs: unknown }).certs);

  const ok = async (method: string, url: string, token: string, body?: unknown) => {
    const reply = await request(method, url, { token, body });
    assert.ok(reply.status < 300, `${method} ${url}: ${reply.status} ${reply.text}`);
    return reply;
  };

  it('each config change records one event: create, update, certs, state, connections, remove', async () => {
    const user = await fixture.user();
    const [c1, c2, c3] = (
      await createChannels(request, user.token, [{ name: 'a' }, { name: 'b' }, { name: 'c' }])
    ).map((c) => c.id);
    const since = (await allEvents(request, user.token)).length;
    const created = await ok('POST', '/things/configs', user.token, {
      external_id: `ext-${uid()}`,
      external_key: 'ext-key',
      channels: [c1, c2],
      name: 'gw',
      content: 'content',
      client_cert: 'cert',
      client_key: 'key',
      ca_cert: 'ca',
    });
    const id = created.headers.get('location')!.split('/').pop()!;
    const externalId = (await ok('GET', `/things/configs/${id}`, user.token)).json.external_id as string;
    await ok('PUT', `/things/configs/${id}`, user.token, { name: 'gw-2', content: 'content' });
    // Nothing changed: no event.
    await ok('PUT', `/things/configs/${id}`, user.token, { name: 'gw-2', content: 'content' });
    await ok('PATCH', `/things/configs/certs/${id}`, user.token, { client_cert: 'cert-2', ca_cert: 'ca-2' });
    await ok('PUT', `/things/state/${id}`, user.token, { state: 1 });
    await ok('PUT', `/things/state/${id}`, user.token, { state: 1 }); // already active: no event
    await ok('PUT', `/things/configs/connections/${id}`, user.token, { channels: [c2, c3] });
    await ok('PUT', `/things/configs/connections/${id}`, user.token, { channels: [c2, c3] }); // the same list
    await ok('PUT', `/things/state/${id}`, user.token, { state: 0 });
    await ok('DELETE', `/things/configs/${id}`, user.token);
    await ok('DELETE', `/things/configs/${id}`, user.token); // none left: no event

    const events = (await allEvents(request, user.token)).slice(since);
    const [l1, l2] = [c1, c2].sort();
    const [l2b, l3] = [c2, c3].sort();
    assert.deepEqual(actionRuns(events), [
      ['thing.create', id, null],
      ['bootstrap.create', id, null],
      ['bootstrap.update', id, null],
      ['bootstrap.certs', id, null],
      ['connection.create', l1, id],
      ['connection.create', l2, id],
      ['bootstrap.state', id, null],
      ['bootstrap.connections', id, null],
      ['connection.remove', c1, id],
      ['connection.create', c3, id],
      ['connection.remove', l2b, id],
      ['connection.remove', l3, id],
      ['bootstrap.state', id, null],
      ['bootstrap.remove', id, null],
    ]);
    for (const e of events) {
      assert.equal(e.owner, user.email);
      assert.equal(e.actor, user.email);
      assert.equal(e.actor_user, user.email);
      assert.equal(e.source, '127.0.0.1');
    }
    const details = (action: string) => events.filter((e) => e.action === action).map((e) => e.details);
    assert.deepEqual(details('bootstrap.create'), [
      { external_id: externalId, name: 'gw', channels: [c1, c2], state: 0, certificates: ALL_CERTS },
    ]);
    assert.deepEqual(details('bootstrap.update'), [{ name: 'gw-2', changed: ['name'] }]);
    assert.deepEqual(details('bootstrap.certs'), [
      { changed: ['client certificate', 'CA certificate'], cleared: ['client private key'] },
    ]);
    assert.deepEqual(details('bootstrap.state'), [{ state: 1 }, { state: 0 }]);
    assert.deepEqual(details('bootstrap.connections'), [{ channels: [c2, c3], added: [c3], removed: [c1] }]);
    assert.deepEqual(details('bootstrap.remove'), [{ external_id: externalId, name: 'gw-2' }]);

    // A config's events are in its thing's history (its id is the thing's).
    const history = await ok('GET', `/things/${id}/events?action=bootstrap.&limit=100`, user.token);
    assert.equal(history.json.total, 7);
  });

  it('a config for an existing thing records no thing event; disconnecting its thing deactivates it (system)', async () => {
    const user = await fixture.user();
    const thing = await createThing(request, user.token, { name: 't' });
    const [c1] = (await createChannels(request, user.token, [{ name: 'a' }])).map((c) => c.id);
    const since = (await allEvents(request, user.token)).length;
    await ok('POST', '/things/configs', user.token, {
      thing_id: thing.id,
      external_id: `ext-${uid()}`,
      external_key: 'k',
      channels: [c1],
    });
    await ok('PUT', `/things/state/${thing.id}`, user.token, { state: 1 });
    await ok('DELETE', `/channels/${c1}/things/${thing.id}`, user.token);
    const events = (await allEvents(request, user.token)).slice(since);
    assert.deepEqual(
      events.map((e) => [e.action, e.actor, e.owner]),
      [
        ['bootstrap.create', user.email, user.email],
        ['connection.create', user.email, user.email],
        ['bootstrap.state', user.email, user.email],
        ['connection.remove', user.email, user.email],
        ['bootstrap.state', 'system', user.email],
      ],
    );
    assert.deepEqual(events.at(-1)!.details, { state: 0, disconnected_channel: c1 });
    assert.equal((await ok('GET', `/things/configs/${thing.id}`, user.token)).json.state, 0);
  });

  it('a refused config request (400, 404, 409) records nothing', async () => {
    const user = await fixture.user();
    const other = await fixture.user();
    const [mine] = (await createChannels(request, user.token, [{ name: 'a' }])).map((c) => c.id);
    const [theirs] = (await createChannels(request, other.token, [{ name: 'b' }])).map((c) => c.id);
    const theirThing = await createThing(request, other.token, {});
    const externalId = `ext-${uid()}`;
    const created = await ok('POST', '/things/configs', user.token, {
      external_id: externalId,
      external_key: 'k',
      channels: [mine],
    });
    const id = created.headers.get('location')!.split('/').pop()!;
    const before = await allEvents(request, adminToken);
    const missing = crypto.randomUUID();

    const refusals: [string, string, unknown, number][] = [
      // A taken external id: the thing made for it is rolled back with its event.
      ['POST', '/things/configs', { external_id: externalId, external_key: 'k', channels: [] }, 409],
      ['POST', '/things/configs', { external_id: `x-${uid()}`, external_key: 'k', channels: [theirs] }, 400],
      [
        'POST',
        '/things/configs',
        { thing_id: theirThing.id, external_id: `x-${uid()}`, external_key: 'k' },
        404,
      ],
      ['PUT', `/things/configs/${missing}`, { name: 'n', content: 'c' }, 404],
      ['PUT', `/things/configs/${theirThing.id}`, { name: 'n', content: 'c' }, 404],
      ['PATCH', `/things/configs/certs/${missing}`, { client_cert: 'c' }, 404],
      ['PUT', `/things/configs/connections/${missing}`, { channels: [mine] }, 404],
      ['PUT', `/things/configs/connections/${id}`, { channels: [theirs] }, 400],
      ['PUT', `/things/state/${missing}`, { state: 1 }, 404],
      ['PUT', `/things/state/${id}`, { state: 7 }, 400],
    ];
    for (const [method, url, body, status] of refusals) {
      const reply = await request(method, url, { token: user.token, body });
      assertError(reply, status);
    }
    // No config to remove: 204 as Mainflux answers, nothing recorded.
    await ok('DELETE', `/things/configs/${missing}`, user.token);
    assert.deepEqual(await allEvents(request, adminToken), before);
  });

  it('/mapping records one event an entity it makes, in one request', async () => {
    const user = await fixture.user();
    const since = (await allEvents(request, user.token)).length;
    const externalId = `map-${uid()}`;
    const reply = await request('POST', '/mapping', {
      token: user.token,
      body: { external_id: externalId, external_key: 'map-key' },
      headers: { 'x-request-id': `mapping-${externalId}` },
    });
    assert.equal(reply.status, 201, reply.text);
    const things = (reply.json.things as { id: string; name: string }[]).map((t) => t.id);
    const channels = (reply.json.channels as { id: string }[]).map((c) => c.id);
    const [gateway] = things;
    assert.equal(things.length, 2);
    assert.equal(channels.length, 2);

    const all = (await allEvents(request, user.token)).slice(since);
    const events = notCerts(all);
    assert.deepEqual(multiset(events), [
      ['bootstrap.create', 1],
      ['bootstrap.state', 1],
      ['channel.create', 2],
      ['connection.create', 2],
      ['thing.create', 2],
    ]);
    for (const e of all) {
      assert.equal(e.owner, user.email);
      assert.equal(e.actor, user.email);
      assert.equal(e.request_id, `mapping-${externalId}`);
    }
    const of = (action: string) => events.filter((e) => e.action === action);
    assert.deepEqual(
      of('channel.create')
        .map((e) => e.entity_id)
        .sort(),
      [...channels].sort(),
    );
    assert.deepEqual(
      of('thing.create')
        .map((e) => e.entity_id)
        .sort(),
      [...things].sort(),
    );
    assert.deepEqual(
      of('connection.create')
        .map((e) => [e.entity_id, e.related_id])
        .sort(),
      channels.map((c) => [c, gateway]).sort(),
    );
    const [config] = of('bootstrap.create');
    assert.equal(config!.entity_id, gateway);
    assert.deepEqual(config!.details, {
      external_id: externalId,
      name: '',
      channels,
      state: 1,
      certificates: x509() ? ALL_CERTS : [],
    });
    const [state] = of('bootstrap.state');
    assert.equal(state!.entity_id, gateway);
    assert.deepEqual(state!.details, { state: 1 });
    // Certificates: none but the certs domain's events, and at most one a thing.
    const certs = all.filter((e) => e.action.startsWith('cert.'));
    assert.ok(certs.every((e) => e.action === 'cert.issue'));
    assert.ok(certs.length === 0 || certs.length === things.length, JSON.stringify(certs));
  });

  it('a /mapping that fails at any step records nothing; the retry records exactly one set', async () => {
    const provision = fixture.server.app.services.provision;
    const seen: ProvisionStep[] = [];
    provision.beforeStep = (s) => {
      seen.push(s);
    };
    try {
      const probe = await fixture.user();
      const reply = await request('POST', '/mapping', {
        token: probe.token,
        body: { external_id: `probe-${uid()}`, external_key: 'k' },
      });
      assert.equal(reply.status, 201, reply.text);
    } finally {
      provision.beforeStep = undefined;
    }
    const steps = [...new Set(seen)];
    assert.ok(steps.includes('channels') && steps.includes('whitelist'), String(steps));
    if (x509()) assert.ok(steps.includes('certs') && steps.includes('records'), String(steps));

    for (const step of steps) {
      const user = await fixture.user();
      const body = { external_id: `fail-${step}-${uid()}`, external_key: 'k' };
      const since = (await allEvents(request, user.token)).length;
      provision.beforeStep = (s) => {
        if (s === step) throw new Error('injected');
      };
      try {
        const failed = await request('POST', '/mapping', { token: user.token, body });
        assert.ok(failed.status >= 400, `${step}: ${failed.status} ${failed.text}`);
      } finally {
        provision.beforeStep = undefined;
      }
      // The certs domain may record revoking the certificates a failure left unused.
      const left = (await allEvents(request, user.token)).slice(since);
      assert.deepEqual(
        left.filter((e) => e.action !== 'cert.revoke'),
        [],
        `a failure at ${step} left events`,
      );
      const retry = await request('POST', '/mapping', { token: user.token, body });
      assert.equal(retry.status, 201, retry.text);
      assert.deepEqual(
        multiset(notCerts((await allEvents(request, user.token)).slice(since))),
        [
          ['bootstrap.create', 1],
          ['bootstrap.state', 1],
          ['channel.create', 2],
          ['connection.create', 2],
          ['thing.create', 2],
        ],
        `the retry after a failure at ${step}`,
      );
    }
  });

  it("a device's provisioning records its identity's actor (enrollment:<group>) on every event", async () => {
    const user = await fixture.user();
    const { auth, provision } = fixture.server.app.services;
    const identity = await auth.identify(user.token);
    const registrationId = `reg-${uid()}`;
    const since = (await allEvents(request, user.token)).length;
    const { thingId } = await provision.provisionDevice({
      owner: { ...identity, actor: 'enrollment:group-1' },
      layout: 'default',
      parameters: {},
      registrationId,
      externalKey: 'device-key',
      metadata: {},
      certificate: null,
      first: async () => {},
      last: async () => {},
    });
    const events = (await allEvents(request, user.token)).slice(since);
    assert.deepEqual(multiset(notCerts(events)), [
      ['bootstrap.create', 1],
      ['bootstrap.state', 1],
      ['channel.create', 2],
      ['connection.create', 2],
      ['thing.create', 2],
    ]);
    for (const e of events) {
      assert.equal(e.actor, 'enrollment:group-1');
      assert.equal(e.actor_user, user.email);
      assert.equal(e.owner, user.email);
    }
    assert.equal(events.find((e) => e.action === 'bootstrap.create')!.entity_id, thingId);
  });

  it('no secret appears in any event: external keys, certificates, client keys, thing keys, the API key', async () => {
    const user = await fixture.user();
    const secrets: string[] = [];
    const secret = (name: string) => {
      const value = `leak-${name}-${uid()}`;
      secrets.push(value);
      return value;
    };
    const [c1] = (await createChannels(request, user.token, [{ name: 'a' }])).map((c) => c.id);
    const thing = await createThing(request, user.token, { name: 't', key: secret('thingkey') });
    await ok('POST', '/things/configs', user.token, {
      thing_id: thing.id,
      external_id: `ext-${uid()}`,
      external_key: secret('externalkey'),
      channels: [c1],
      content: secret('content'),
      client_cert: secret('clientcert'),
      client_key: secret('clientkey'),
      ca_cert: secret('cacert'),
    });
    await ok('PUT', `/things/configs/${thing.id}`, user.token, { name: 'n', content: secret('content2') });
    await ok('PATCH', `/things/configs/certs/${thing.id}`, user.token, {
      client_cert: secret('clientcert2'),
      client_key: secret('clientkey2'),
      ca_cert: secret('cacert2'),
    });
    await ok('PUT', `/things/state/${thing.id}`, user.token, { state: 1 });
    await ok('DELETE', `/things/configs/${thing.id}`, user.token);

    const mapped = await ok('POST', '/mapping', user.token, {
      external_id: `map-${uid()}`,
      external_key: secret('mappingkey'),
    });
    for (const t of mapped.json.things as { key: string }[]) secrets.push(t.key);
    for (const key of Object.values(mapped.json.client_key as Record<string, string>)) secrets.push(key);
    for (const cert of Object.values(mapped.json.client_cert as Record<string, string>)) secrets.push(cert);
    if (x509()) assert.ok(Object.keys(mapped.json.client_key).length > 0, 'the layout issues certificates');

    // Provisioning with MF_PROVISION_API_KEY (a request without Authorization): the key's id, never its value.
    const apiKey = await request('POST', '/keys', { token: user.token, body: { type: 2 } });
    assert.equal(apiKey.status, 201, apiKey.text);
    secrets.push(apiKey.json.value);
    const sibling = await startServer({
      TETHYS_DB_URL: fixture.server.dbUrl,
      TETHYS_DATA_DIR: fixture.server.dataDir,
      MF_AUTH_SECRET: SECRET,
      MF_PROVISION_API_KEY: apiKey.json.value,
    });
    try {
      const byKey = await client(sibling.url)('POST', '/mapping', {
        body: { external_id: `key-${uid()}`, external_key: secret('keymappingkey') },
      });
      assert.equal(byKey.status, 201, byKey.text);
      for (const t of byKey.json.things as { key: string }[]) secrets.push(t.key);
      const byKeyEvents = await allEvents(request, user.token, `entity_id=${byKey.json.things[0].id}`);
      assert.ok(byKeyEvents.length > 0);
      assert.ok(byKeyEvents.every((e) => e.actor === `key:${apiKey.json.id}` && e.actor_user === user.email));
    } finally {
      await sibling.close();
    }

    const everything = JSON.stringify(await allEvents(request, adminToken));
    assert.ok(everything.includes(thing.id), 'the admin reads these events');
    for (const value of secrets)
      assert.ok(!everything.includes(value), `${value.slice(0, 40)} is in an event`);
  });
});
