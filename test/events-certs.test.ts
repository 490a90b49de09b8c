import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import promClient from 'prom-client';
import type { AuditEvent } from '../src/audit/types.js';
import { whileEventsRefused } from './helpers/audit.js';
import { assertEmpty, assertError, createThing } from './helpers/entities.js';
import { ecCsr, selfSigned, type Workdir, workdir } from './helpers/openssl.js';
import { client, dialect, type Request, startServer, type TestServer, userToken } from './helpers/server.js';
import { curlRenew, tlsFetch } from './helpers/tls.js';
import { type FakeVault, startVault } from './helpers/vault.js';

/**
 * The audit trail (issue 21) of certificates and enrollments: issue, renew (by the
 * operator, by the device), revoke (by the operator, by a renewal, by a thing's
 * removal), enrollment groups, and devices registering themselves (`enrollment:<group>`).
 * One HTTPS server (the dev CA), so a device can renew over mTLS.
 */

const ADMIN = { email: 'certs-events-admin@example.com', password: 'admin-password-1' };

/** The device key of a registration id, as a device computes it. */
const deviceKey = (groupKey: string, registrationId: string) =>
  crypto.createHmac('sha256', Buffer.from(groupKey, 'base64')).update(registrationId).digest('base64');

/** A PEM's base64 body lines, each long enough to be recognised anywhere. */
const pemLines = (pem: string) =>
  pem
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length >= 40 && !l.startsWith('-----'));

describe(`audit trail: certificates and enrollments (${dialect})`, () => {
  let work: Workdir;
  let server: TestServer;
  let request: Request;
  let serverCa: string;
  let base: string;
  let admin: string;
  /** Every secret the tests handled: none may appear in any event. */
  const secrets: string[] = [];

  before(async () => {
    work = workdir();
    serverCa = work.path('https.crt');
    selfSigned(work, 'https', '/CN=127.0.0.1', ['-addext', 'subjectAltName=IP:127.0.0.1']);
    server = await startServer({
      TETHYS_TLS_CERT: serverCa,
      TETHYS_TLS_KEY: work.path('https.key'),
      MF_USERS_ADMIN_EMAIL: ADMIN.email,
      MF_USERS_ADMIN_PASSWORD: ADMIN.password,
    });
    base = server.url.replace(/^http:/, 'https:');
    request = client(base, tlsFetch(fs.readFileSync(serverCa)));
    admin = await request.sdk().users.login(ADMIN.email, ADMIN.password);
  });
  after(async () => {
    await server?.close();
    work?.remove();
  });

  /** Every event matching the query, oldest first (as the admin unless a token is given). */
  async function events(query: string, token = admin): Promise<AuditEvent[]> {
    const all: AuditEvent[] = [];
    for (let offset = 0; ; offset += 100) {
      const reply = await request('GET', `/events?dir=asc&limit=100&offset=${offset}&${query}`, { token });
      assert.equal(reply.status, 200, reply.text);
      all.push(...reply.json.events);
      if (offset + 100 >= reply.json.total) return all;
    }
  }

  /** The one event of this action about this entity; fails unless there is exactly one. */
  async function one(action: string, entityId: string): Promise<AuditEvent> {
    const found = (await events(`action=${action}&entity_id=${encodeURIComponent(entityId)}`)).filter(
      (e) => e.entity_id === entityId,
    );
    assert.equal(found.length, 1, `${action} ${entityId}: ${JSON.stringify(found)}`);
    return found[0]!;
  }

  const total = async (query: string) =>
    (await request('GET', `/events?limit=0&${query}`, { token: admin })).json.total as number;

  async function issue(token: string, body: Record<string, unknown>) {
    const reply = await request('POST', '/certs', { token, body });
    assert.equal(reply.status, 201, reply.text);
    secrets.push(reply.json.cert, ...(reply.json.cert_key ? [reply.json.cert_key] : []));
    return reply.json;
  }

  it('cert.issue, cert.renew, cert.revoke: one event a certificate, with its thing, owner, actor; none for a refusal', async () => {
    const user = await userToken(request);
    const thing = await createThing(request, user.token, { name: 'meter' });
    const before = await total('entity_type=cert');

    const issued = await issue(user.token, {
      thing_id: thing.id,
      key_type: 'ec',
      key_bits: 256,
      valid: '24h',
    });
    const event = await one('cert.issue', issued.cert_serial);
    assert.equal(event.entity_type, 'cert');
    assert.equal(event.related_id, thing.id);
    assert.equal(event.owner, user.email);
    assert.equal(event.actor, user.email);
    assert.equal(event.actor_user, user.email);
    assert.deepEqual(event.details, {
      key_type: 'ec',
      key_bits: 256,
      expires: new Date(issued.expire).toISOString(),
      key_origin: 'server',
    });
    // In the thing's history too.
    const history = await request('GET', `/things/${thing.id}/events?limit=100`, { token: user.token });
    assert.ok(history.json.events.some((e: AuditEvent) => e.entity_id === issued.cert_serial));

    const csr = ecCsr(work, 'events-csr');
    secrets.push(csr.pem);
    const signed = await issue(user.token, { thing_id: thing.id, csr: csr.pem });
    assert.equal((await one('cert.issue', signed.cert_serial)).details.key_origin, 'csr');

    // The operator renews by serial, revoking the old one: a renew and a revoke.
    const renewed = await request('POST', `/certs/${issued.cert_serial}/renew`, {
      token: user.token,
      body: { revoke_old: true },
    });
    assert.equal(renewed.status, 201, renewed.text);
    secrets.push(renewed.json.cert, renewed.json.cert_key);
    const renew = await one('cert.renew', renewed.json.cert_serial);
    assert.equal(renew.actor, user.email);
    assert.equal(renew.related_id, thing.id);
    assert.equal(renew.owner, user.email);
    assert.equal(renew.details.old_serial, issued.cert_serial);
    assert.equal(renew.details.serial, renewed.json.cert_serial);
    const revokedOld = await one('cert.revoke', issued.cert_serial);
    assert.equal(revokedOld.actor, user.email);
    assert.equal(revokedOld.related_id, thing.id);
    assert.deepEqual(revokedOld.details, { reason: 'renewed' });

    // DELETE /certs/{thingId}: each valid certificate once.
    assert.equal((await request('DELETE', `/certs/${thing.id}`, { token: user.token })).status, 200);
    for (const serial of [signed.cert_serial, renewed.json.cert_serial]) {
      const revoked = await one('cert.revoke', serial);
      assert.equal(revoked.actor, user.email);
      assert.equal(revoked.owner, user.email);
      assert.equal(revoked.related_id, thing.id);
    }
    assert.equal((await events(`action=cert.revoke&entity_id=${issued.cert_serial}`)).length, 1);

    // The seed document's form, DELETE /certs/revoke.
    const other = await createThing(request, user.token, { name: 'other' });
    const third = await issue(user.token, { thing_id: other.id, key_type: 'ec' });
    const byBody = await request('DELETE', '/certs/revoke', {
      token: user.token,
      body: { thing_id: other.id },
    });
    assert.equal(byBody.status, 200, byBody.text);
    assert.equal((await one('cert.revoke', third.cert_serial)).actor, user.email);
    const counted = await total('entity_type=cert');
    assert.equal(counted - before, 8, 'three issues, one renewal, four revocations');

    // Refused: nothing left to revoke (404), another's thing (404), a bad key size (400).
    const bob = await userToken(request);
    assertError(await request('DELETE', `/certs/${thing.id}`, { token: user.token }), 404);
    assertError(
      await request('POST', '/certs', { token: bob.token, body: { thing_id: thing.id, key_type: 'ec' } }),
      404,
    );
    assertError(
      await request('POST', '/certs', { token: user.token, body: { thing_id: thing.id, key_bits: 1 } }),
      400,
    );
    assertError(
      await request('POST', `/certs/${issued.cert_serial}/renew`, { token: user.token, body: {} }),
      409,
    );
    assert.equal(await total('entity_type=cert'), counted);
  });

  it("a thing's removal revokes its valid certificates: cert.revoke by the system, once each", async () => {
    const user = await userToken(request);
    const thing = await createThing(request, user.token, { name: 'doomed' });
    const a = await issue(user.token, { thing_id: thing.id, key_type: 'ec' });
    const b = await issue(user.token, { thing_id: thing.id, key_type: 'ec' });
    assertEmpty(await request('DELETE', `/things/${thing.id}`, { token: user.token }), 204);
    for (const serial of [a.cert_serial, b.cert_serial]) {
      const revoked = await one('cert.revoke', serial);
      assert.equal(revoked.actor, 'system');
      assert.equal(revoked.actor_user, null);
      assert.equal(revoked.owner, user.email, 'the owner still reads it');
      assert.equal(revoked.related_id, thing.id);
      assert.deepEqual(revoked.details, { reason: 'thing removed' });
    }
    const mine = await events('entity_type=cert', user.token);
    assert.equal(mine.filter((e) => e.action === 'cert.revoke').length, 2);
  });

  it('a device renewing over mTLS is the actor thing:<id>; revoke_old too', async () => {
    const user = await userToken(request);
    const thing = await createThing(request, user.token, { name: 'device' });
    const issued = await issue(user.token, { thing_id: thing.id, key_type: 'ec', valid: '24h' });
    const files = { cert: work.file('dev.crt', issued.cert), key: work.file('dev.key', issued.cert_key) };
    const csr = ecCsr(work, 'dev-next');
    secrets.push(csr.pem);
    const renewed = await curlRenew(base, serverCa, { csr: csr.pem, revoke_old: true }, files);
    assert.equal(renewed.status, 201, JSON.stringify(renewed.json));
    secrets.push(renewed.json.cert);
    const renew = await one('cert.renew', renewed.json.cert_serial);
    assert.equal(renew.actor, `thing:${thing.id}`);
    assert.equal(renew.actor_user, user.email);
    assert.equal(renew.owner, user.email);
    assert.equal(renew.related_id, thing.id);
    assert.equal(renew.details.old_serial, issued.cert_serial);
    assert.equal(renew.details.key_origin, 'csr');
    const revoked = await one('cert.revoke', issued.cert_serial);
    assert.equal(revoked.actor, `thing:${thing.id}`);
    // Refused (the old certificate is revoked now): nothing more.
    const count = await total(`entity_id=${thing.id}`);
    const refused = await curlRenew(base, serverCa, { csr: csr.pem }, files);
    assert.equal(refused.status, 401);
    assert.equal(await total(`entity_id=${thing.id}`), count);
  });

  // ---- enrollments -----------------------------------------------------------------

  async function group(token: string, body: Record<string, unknown> = {}) {
    const reply = await request('POST', '/enrollments', {
      token,
      body: { name: `g-${crypto.randomUUID()}`, attestation: 'symmetric_key', ...body },
    });
    assert.equal(reply.status, 201, reply.text);
    secrets.push(reply.json.group_key);
    return reply.json;
  }

  async function register(groupId: string, groupKey: string, registrationId: string, extra = {}) {
    const key = deviceKey(groupKey, registrationId);
    secrets.push(key);
    const reply = await request('POST', `/enrollments/${groupId}/register`, {
      token: `SharedKey ${key}`,
      body: { registration_id: registrationId, ...extra },
    });
    if (reply.status < 300) {
      for (const pem of [reply.json.certificate?.client_cert, reply.json.certificate?.client_key])
        if (pem) secrets.push(pem);
      if (reply.json.thing_key) secrets.push(reply.json.thing_key);
    }
    return reply;
  }

  it('enrollment.create, update, rotate_key, remove: one event each, by the operator, never the key', async () => {
    const user = await userToken(request);
    const g = await group(user.token, {
      name: 'line-7',
      parameters: {},
      registration_id_pattern: '^SN',
      max_devices: 5,
      certificate: { key_type: 'ec', key_bits: 256, valid: '24h' },
    });
    const created = await one('enrollment.create', g.id);
    assert.equal(created.owner, user.email);
    assert.equal(created.actor, user.email);
    assert.deepEqual(created.details, {
      name: 'line-7',
      attestation: 'symmetric_key',
      layout: 'default',
      parameter_names: [],
      registration_id_pattern: '^SN',
      max_devices: 5,
      certificate: { key_type: 'ec', key_bits: 256, valid: '24h' },
      enabled: true,
    });

    const changed = await request('PATCH', `/enrollments/${g.id}`, {
      token: user.token,
      body: { enabled: false, max_devices: 9 },
    });
    assert.equal(changed.status, 200, changed.text);
    assert.deepEqual((await one('enrollment.update', g.id)).details, { enabled: false, max_devices: 9 });

    const rotated = await request('POST', `/enrollments/${g.id}/rotate-key`, { token: user.token });
    assert.equal(rotated.status, 200, rotated.text);
    secrets.push(rotated.json.group_key);
    const rotation = await one('enrollment.rotate_key', g.id);
    assert.deepEqual(rotation.details, {});
    assert.equal(rotation.actor, user.email);

    // Refused: another user's group, a bad change; nothing recorded.
    const count = await total(`entity_id=${g.id}`);
    const bob = await userToken(request);
    assertError(await request('DELETE', `/enrollments/${g.id}`, { token: bob.token }), 404);
    assertError(
      await request('PATCH', `/enrollments/${g.id}`, { token: user.token, body: { max_devices: 0 } }),
      400,
    );
    assertError(await request('POST', `/enrollments/${g.id}/rotate-key`, { token: bob.token }), 404);
    assert.equal(await total(`entity_id=${g.id}`), count);

    assertEmpty(await request('DELETE', `/enrollments/${g.id}`, { token: user.token }), 204);
    assert.deepEqual((await one('enrollment.remove', g.id)).details, { name: 'line-7' });
    assertError(await request('DELETE', `/enrollments/${g.id}`, { token: user.token }), 404);
    assert.equal(await total(`entity_id=${g.id}`), count + 1);
  });

  it('a registration: registration.create and every event of its provisioning carry enrollment:<group>; a repeat records nothing', async () => {
    const user = await userToken(request);
    const g = await group(user.token);
    const actor = `enrollment:${g.id}`;
    const first = await register(g.id, g.group_key, 'SN-1');
    assert.equal(first.status, 201, first.text);
    const thingId = first.json.thing_id;

    const registered = await one('registration.create', 'SN-1');
    assert.equal(registered.actor, actor);
    assert.equal(registered.actor_user, user.email);
    assert.equal(registered.owner, user.email);
    assert.equal(registered.related_id, thingId);
    assert.deepEqual(registered.details, { enrollment: g.id });

    const made = await events(`actor=${actor}`);
    const actions = made.map((e) => e.action);
    assert.ok(actions.includes('registration.create'));
    assert.equal(actions.filter((a) => a === 'thing.create').length, 1, JSON.stringify(actions));
    assert.equal(actions.filter((a) => a === 'channel.create').length, 2, JSON.stringify(actions));
    assert.ok(actions.includes('connection.create'), JSON.stringify(actions));
    assert.ok(made.every((e) => e.owner === user.email && e.actor_user === user.email));

    // Again: the same thing, nothing new.
    const count = await total(`actor=${actor}`);
    const again = await register(g.id, g.group_key, 'SN-1');
    assert.equal(again.status, 200, again.text);
    assert.equal(again.json.thing_id, thingId);
    assert.equal(await total(`actor=${actor}`), count);

    // A refused device (wrong key): nothing.
    const all = await total('');
    const refused = await request('POST', `/enrollments/${g.id}/register`, {
      token: `SharedKey ${deviceKey(g.group_key, 'other')}`,
      body: { registration_id: 'SN-2' },
    });
    assertError(refused, 401);
    assert.equal(await total(''), all);

    // Its thing removed: the registration goes, by the system.
    assertEmpty(await request('DELETE', `/things/${thingId}`, { token: user.token }), 204);
    const forgotten = await one('registration.remove', 'SN-1');
    assert.equal(forgotten.actor, 'system');
    assert.equal(forgotten.related_id, thingId);
    assert.equal(forgotten.owner, user.email);
  });

  it("a repeat registration that gets a new certificate records that certificate's issue, by the group", async () => {
    const user = await userToken(request);
    const g = await group(user.token);
    const actor = `enrollment:${g.id}`;
    assert.equal((await register(g.id, g.group_key, 'renewing')).status, 201);
    const csr = ecCsr(work, 'renewing');
    secrets.push(csr.pem);
    const again = await register(g.id, g.group_key, 'renewing', { csr: csr.pem });
    assert.equal(again.status, 200, again.text);
    const issued = await one('cert.issue', again.json.certificate.serial);
    assert.equal(issued.actor, actor);
    assert.equal(issued.related_id, again.json.thing_id);
    assert.equal((await events('action=registration.create&entity_id=renewing')).length, 1);
  });

  it("a registration's certificate (made by provisioning) is issued by enrollment:<group>", async () => {
    const user = await userToken(request);
    const g = await group(user.token, { certificate: { key_type: 'ec', key_bits: 256, valid: '24h' } });
    const reply = await register(g.id, g.group_key, 'with-cert');
    assert.equal(reply.status, 201, reply.text);
    const issued = await one('cert.issue', reply.json.certificate.serial);
    assert.equal(issued.related_id, reply.json.thing_id);
    assert.equal(issued.actor, `enrollment:${g.id}`);
  });

  it('50 devices registering at once, each twice: exactly 50 registration.create', async () => {
    const user = await userToken(request);
    const g = await group(user.token);
    const ids = Array.from({ length: 50 }, (_, i) => `herd-${i}`);
    const replies = await Promise.all([...ids, ...ids].map((id) => register(g.id, g.group_key, id)));
    const failed = replies.filter((r) => r.status >= 300).map((r) => `${r.status} ${r.text}`);
    assert.equal(replies.filter((r) => r.status === 201).length, 50, failed.slice(0, 3).join('\n'));
    assert.equal(replies.filter((r) => r.status === 200).length, 50);
    const created = await events(`action=registration.create&actor=enrollment:${g.id}`);
    assert.equal(created.length, 50);
    assert.deepEqual(created.map((e) => e.entity_id).sort(), [...ids].sort());
    const things = new Set(replies.map((r) => r.json.thing_id));
    assert.deepEqual(new Set(created.map((e) => e.related_id)), things);
    assert.equal(await total(`action=thing.create&actor=enrollment:${g.id}`), 50);
  });

  it('a registration failing at any step leaves no event of it (only the revocation of its abandoned certificate, by the system)', async () => {
    const user = await userToken(request);
    const g = await group(user.token, { certificate: { key_type: 'ec', key_bits: 256, valid: '1h' } });
    const actor = `enrollment:${g.id}`;
    const provision = server.app.services.provision;
    for (const step of ['certs', 'channels', 'things', 'records', 'config', 'whitelist']) {
      const last = (await request('GET', '/events?limit=1', { token: admin })).json.events[0].id;
      const id = `fail-${step}`;
      provision.beforeStep = (s) => {
        if (s === step) throw new Error(`injected failure at ${step}`);
      };
      try {
        const reply = await register(g.id, g.group_key, id);
        assert.equal(reply.status, 500, `${step}: ${reply.text}`);
      } finally {
        provision.beforeStep = undefined;
      }
      const since = await events(`after=${last}`);
      for (const e of since) {
        assert.equal(e.action, 'cert.revoke', `${step}: ${JSON.stringify(e)}`);
        assert.equal(e.actor, 'system');
        assert.deepEqual(e.details, { reason: 'request failed' });
        assert.equal(e.owner, user.email);
      }
      assert.equal(since.length, step === 'certs' ? 0 : 1, `${step}: ${JSON.stringify(since)}`);
      // The device tries again: one set of events.
      const retry = await register(g.id, g.group_key, id);
      assert.equal(retry.status, 201, step);
      assert.equal((await events(`action=registration.create&entity_id=${id}`)).length, 1, step);
    }
    assert.equal(await total(`action=registration.create&actor=${actor}`), 6);
  });

  it('a failed event write undoes the change: issue, revoke, group create and change, registration', async () => {
    const user = await userToken(request);
    const thing = await createThing(request, user.token, { name: 'kept' });
    const issued = await issue(user.token, { thing_id: thing.id, key_type: 'ec' });
    const g = await group(user.token);
    const { db } = server.app.services;
    const count = await total('');
    // The events table refuses writes for a moment: every change must fail with it.
    await whileEventsRefused(db, async () => {
      const refused = [
        await request('POST', '/certs', { token: user.token, body: { thing_id: thing.id, key_type: 'ec' } }),
        await request('DELETE', `/certs/${thing.id}`, { token: user.token }),
        await request('POST', '/enrollments', {
          token: user.token,
          body: { name: 'never', attestation: 'symmetric_key' },
        }),
        await request('PATCH', `/enrollments/${g.id}`, { token: user.token, body: { enabled: false } }),
        await register(g.id, g.group_key, 'never'),
      ];
      assert.deepEqual(
        refused.map((r) => r.status),
        [500, 500, 500, 500, 500],
        refused.map((r) => r.text).join('\n'),
      );
    });
    assert.equal(await total(''), count);
    const certs = await request('GET', `/certs/${thing.id}?limit=100`, { token: user.token });
    assert.deepEqual(
      certs.json.certs.map((c: { cert_serial: string; revoked?: boolean }) => [c.cert_serial, c.revoked]),
      [[issued.cert_serial, undefined]],
      'no new certificate recorded, the old one not revoked',
    );
    const groups = await request('GET', '/enrollments?limit=100', { token: user.token });
    assert.deepEqual(
      groups.json.enrollments.map((e: { id: string; enabled: boolean }) => [e.id, e.enabled]),
      [[g.id, true]],
    );
    const registrations = await request('GET', `/enrollments/${g.id}/registrations`, { token: user.token });
    assert.equal(registrations.json.total, 0);
  });

  it('no private key, group key, device key, CSR or certificate appears in any event', async () => {
    // More of each, through every path not taken yet.
    const user = await userToken(request);
    const g = await group(user.token, { certificate: { key_type: 'rsa', key_bits: 2048, valid: '24h' } });
    assert.equal((await register(g.id, g.group_key, 'leak-1')).status, 201);
    const csr = ecCsr(work, 'leak-2');
    secrets.push(csr.pem);
    assert.equal((await register(g.id, g.group_key, 'leak-2', { csr: csr.pem })).status, 201);
    assert.ok(secrets.length > 40, `${secrets.length} secrets`);

    const text = JSON.stringify(await events(''));
    assert.ok(!text.includes('-----BEGIN'), 'no PEM of any kind');
    for (const secret of secrets) {
      for (const piece of secret.includes('-----BEGIN') ? pemLines(secret) : [secret]) {
        assert.ok(!text.includes(piece), `an event holds ${piece.slice(0, 24)}…`);
      }
    }
  });
});

/** With Vault (the double): the same events; a revocation Vault refused is recorded when the sweep makes it. */
describe(`audit trail: certificates with Vault (${dialect})`, () => {
  let vault: FakeVault;
  let server: TestServer;
  let request: Request;
  let admin: string;

  before(async () => {
    vault = await startVault({ token: 's.events-token' });
    promClient.register.removeSingleMetric('tethys_http_request_duration_seconds');
    server = await startServer({
      MF_CERTS_VAULT_HOST: vault.url,
      MF_VAULT_PKI_INT_PATH: vault.pkiPath,
      MF_VAULT_CA_ROLE_NAME: vault.role,
      MF_VAULT_TOKEN: vault.token,
      MF_USERS_ADMIN_EMAIL: ADMIN.email,
      MF_USERS_ADMIN_PASSWORD: ADMIN.password,
    });
    request = client(server.url);
    admin = await request.sdk().users.login(ADMIN.email, ADMIN.password);
  });
  after(async () => {
    await server?.close();
    await vault?.close();
  });

  const certEvents = async (serial: string) =>
    (await request('GET', `/events?dir=asc&limit=100&entity_id=${serial}`, { token: admin })).json
      .events as AuditEvent[];

  it('cert.issue with what Vault issued; a removed thing whose revocation Vault refused: cert.revoke once the sweep revokes it', async () => {
    const user = await userToken(request);
    const thing = await createThing(request, user.token, { name: 'vaulted' });
    const reply = await request('POST', '/certs', {
      token: user.token,
      body: { thing_id: thing.id, key_type: 'rsa', key_bits: 2048, valid: '24h' },
    });
    assert.equal(reply.status, 201, reply.text);
    const serial = reply.json.cert_serial;
    const [issued] = await certEvents(serial);
    assert.equal(issued!.action, 'cert.issue');
    assert.equal(issued!.actor, user.email);
    assert.equal(issued!.related_id, thing.id);
    assert.deepEqual(
      { type: issued!.details.key_type, bits: issued!.details.key_bits, origin: issued!.details.key_origin },
      { type: 'rsa', bits: 2048, origin: 'server' },
    );

    vault.sealed = true;
    try {
      assertEmpty(await request('DELETE', `/things/${thing.id}`, { token: user.token }), 204);
    } finally {
      vault.sealed = false;
    }
    assert.deepEqual(
      (await certEvents(serial)).map((e) => e.action),
      ['cert.issue'],
      'not revoked yet: no revoke',
    );
    await server.app.services.certs.sweepOrphans();
    const events = await certEvents(serial);
    assert.deepEqual(
      events.map((e) => [e.action, e.actor, e.owner, e.details.reason ?? null]),
      [
        ['cert.issue', user.email, user.email, null],
        ['cert.revoke', 'system', user.email, 'orphan'],
      ],
    );
    assert.ok(vault.revoked.has(serial));
    assert.ok(!JSON.stringify(events).includes('PRIVATE KEY'));
  });
});
