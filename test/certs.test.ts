import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import promClient from 'prom-client';
import { EventsRepository } from '../src/audit/repo.js';
import { CertsRepository } from '../src/certs/repo.js';
import { openPki } from '../src/certs/service.js';
import { loadConfig } from '../src/config.js';
import { inTransaction } from '../src/db/transactions.js';
import { ThingsRepository } from '../src/things/repo.js';
import { assertError, createThing } from './helpers/entities.js';
import {
  certPublicKey,
  certSerial,
  certText,
  commonName,
  csrPublicKey,
  ecRequest,
  keyPublicKey,
  openssl,
  opensslResult,
  opensslSerial,
  validity,
  type Workdir,
  workdir,
} from './helpers/openssl.js';
import {
  client,
  dialect,
  recordingFetch,
  startServer as startTestServer,
  type TestServer,
  userToken,
  withServer,
} from './helpers/server.js';

/**
 * Several servers in one process: src/http/server.ts registers its request histogram in
 * prom-client's global registry on every start (the same workaround as users.test.ts).
 */
function startServer(env: Record<string, string> = {}): Promise<TestServer> {
  promClient.register.removeSingleMetric('tethys_http_request_duration_seconds');
  return startTestServer(env);
}

const HOUR = 3_600_000;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const SERIAL = /^[0-9a-f]{2}(:[0-9a-f]{2}){7,}$/;

/** Dates within a tolerance (certificate times have one-second precision; requests take time). */
function near(actual: Date, expected: number, toleranceMs: number, what: string) {
  assert.ok(
    Math.abs(actual.getTime() - expected) <= toleranceMs,
    `${what}: ${actual.toISOString()} vs ${new Date(expected).toISOString()}`,
  );
}

describe(`certs, development mode (${dialect})`, () => {
  const fixture = withServer({}, { start: startServer });
  const { request } = fixture;
  let alice: string;
  let bob: string;
  let work: Workdir;

  before(async () => {
    [alice, bob] = await Promise.all([
      userToken(request).then((u) => u.token),
      userToken(request).then((u) => u.token),
    ]);
    work = workdir();
  });
  after(async () => {
    work.remove();
  });

  const issue = (token: string, body: unknown) => request('POST', '/certs', { token, body });

  /** Writes the reply's certificate, key and CA; returns their paths. */
  function save(prefix: string, json: any) {
    return {
      cert: work.file(`${prefix}.crt`, json.cert),
      key: json.cert_key ? work.file(`${prefix}.key`, json.cert_key) : '',
      ca: work.file(`${prefix}-ca.crt`, json.ca_cert),
    };
  }

  async function crlFile(name: string): Promise<string> {
    const reply = await request('GET', '/certs/crl');
    assert.equal(reply.status, 200, reply.text);
    assert.match(reply.headers.get('content-type') ?? '', /application\/x-pem-file/);
    assert.match(reply.text, /^-----BEGIN X509 CRL-----\n/);
    return work.file(name, reply.text);
  }

  it('issues an RSA 2048 certificate that openssl verifies, with its key, CN = thing id, clientAuth, the validity asked', async () => {
    const thing = await createThing(request, alice);
    const before = Date.now();
    const reply = await issue(alice, { thing_id: thing.id, key_type: 'rsa', key_bits: 2048, valid: '24h' });
    assert.equal(reply.status, 201, reply.text);
    const j = reply.json;
    assert.deepEqual(
      Object.keys(j).sort(),
      [
        'CAChain',
        'ClientCert',
        'ClientKey',
        'Expire',
        'IssuingCA',
        'PrivateKeyType',
        'Serial',
        'ThingID',
        'ca_cert',
        'cert',
        'cert_key',
        'cert_serial',
        'client_cert',
        'client_key',
        'expire',
        'issuing_ca',
        'thing_id',
      ].sort(),
    );
    assert.equal(j.thing_id, thing.id);
    assert.equal(j.ThingID, thing.id);
    assert.match(j.cert, /^-----BEGIN CERTIFICATE-----\n/);
    assert.match(j.cert_key, /^-----BEGIN PRIVATE KEY-----\n/, 'PKCS#8');
    assert.equal(j.client_cert, j.cert);
    assert.equal(j.ClientCert, j.cert);
    assert.equal(j.client_key, j.cert_key);
    assert.equal(j.ClientKey, j.cert_key);
    assert.equal(j.issuing_ca, j.ca_cert);
    assert.equal(j.IssuingCA, j.ca_cert);
    assert.deepEqual(j.CAChain, [j.ca_cert]);
    assert.equal(j.PrivateKeyType, 'rsa');
    assert.match(j.cert_serial, SERIAL);
    assert.equal(j.Serial, j.cert_serial);
    assert.match(j.expire, RFC3339);
    assert.equal(j.Expire, j.expire);

    const f = save('rsa', j);
    assert.match(openssl('verify', '-CAfile', f.ca, f.cert), /: OK/);
    assert.equal(certPublicKey(f.cert), keyPublicKey(f.key), 'the key belongs to the certificate');
    assert.equal(commonName(f.cert), thing.id);
    assert.equal(certSerial(f.cert), opensslSerial(j.cert_serial));
    const text = certText(f.cert);
    assert.match(text, /Public-Key: \(2048 bit\)/);
    assert.match(text, /Subject: O ?= ?Mainflux, OU ?= ?mainflux, CN ?= ?/);
    assert.match(text, /X509v3 Extended Key Usage: *\n\s*TLS Web Client Authentication\s*\n/);
    assert.match(text, /X509v3 Key Usage: critical\s*\n\s*Digital Signature, Key Encipherment\s*\n/);
    assert.match(text, /X509v3 Authority Key Identifier/);
    assert.match(openssl('verify', '-purpose', 'sslclient', '-CAfile', f.ca, f.cert), /: OK/);

    const { notBefore, notAfter } = validity(f.cert);
    near(notBefore, before - 60_000, 5_000, 'notBefore is a minute back');
    near(notAfter, before + 24 * HOUR, 5_000, 'notAfter is 24h on');
    assert.equal(new Date(j.expire).getTime(), notAfter.getTime());
  });

  it('issues EC P-256 (the default size) and P-384 certificates', async () => {
    const thing = await createThing(request, alice);
    for (const [bits, curve] of [
      [undefined, 'P-256'],
      [384, 'P-384'],
    ] as const) {
      const reply = await issue(alice, {
        thing_id: thing.id,
        key_type: 'ec',
        ...(bits ? { key_bits: bits } : {}),
      });
      assert.equal(reply.status, 201, reply.text);
      assert.equal(reply.json.PrivateKeyType, 'ec');
      const f = save(`ec${bits ?? ''}`, reply.json);
      assert.match(openssl('verify', '-CAfile', f.ca, f.cert), /: OK/);
      assert.equal(certPublicKey(f.cert), keyPublicKey(f.key));
      const text = certText(f.cert);
      assert.match(text, new RegExp(`NIST CURVE: ${curve}`));
      assert.match(
        text,
        /X509v3 Key Usage: critical\s*\n\s*Digital Signature\s*\n/,
        'no key encipherment for EC',
      );
      assert.match(text, /TLS Web Client Authentication/);
      assert.equal(commonName(f.cert), thing.id);
    }
  });

  it('takes the seed document request as written (rsa_bits) and the configured default validity', async () => {
    const thing = await createThing(request, alice);
    const now = Date.now();
    const reply = await issue(alice, { thing_id: thing.id, rsa_bits: 2048, key_type: 'rsa' });
    assert.equal(reply.status, 201, reply.text);
    const f = save('seed', reply.json);
    assert.match(certText(f.cert), /Public-Key: \(2048 bit\)/);
    // MF_CERTS_SIGN_HOURS_VALID defaults to 2048h.
    near(validity(f.cert).notAfter, now + 2048 * HOUR, 10_000, 'default validity');
  });

  it('issues an RSA 4096 certificate', async () => {
    const thing = await createThing(request, alice);
    const reply = await issue(alice, { thing_id: thing.id, key_type: 'rsa', key_bits: 4096, valid: '1h' });
    assert.equal(reply.status, 201, reply.text);
    const f = save('rsa4096', reply.json);
    assert.match(certText(f.cert), /Public-Key: \(4096 bit\)/);
    assert.equal(certPublicKey(f.cert), keyPublicKey(f.key));
  });

  it('signs a CSR: the CSR key is certified, the subject is Tethys’s, no private key is returned', async () => {
    const thing = await createThing(request, alice);
    const key = work.path('csr.key');
    const csr = work.path('csr.pem');
    ecRequest(key, csr, '/CN=someone-else/O=Elsewhere');
    const reply = await issue(alice, { thing_id: thing.id, csr: fs.readFileSync(csr, 'utf8'), valid: '2h' });
    assert.equal(reply.status, 201, reply.text);
    for (const k of ['cert_key', 'client_key', 'ClientKey', 'PrivateKeyType'])
      assert.ok(!(k in reply.json), `${k} absent`);
    const f = save('csr', reply.json);
    assert.match(openssl('verify', '-CAfile', f.ca, f.cert), /: OK/);
    assert.equal(certPublicKey(f.cert), csrPublicKey(csr));
    assert.equal(certPublicKey(f.cert), keyPublicKey(key));
    assert.equal(commonName(f.cert), thing.id);
    assert.doesNotMatch(certText(f.cert), /someone-else|Elsewhere/);

    // A CSR whose signature does not verify, and text that is no CSR, are 400s.
    const pem = fs.readFileSync(csr, 'utf8');
    const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
    der[der.length - 5]! ^= 0xff;
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der
      .toString('base64')
      .match(/.{1,64}/g)!
      .join('\n')}\n-----END CERTIFICATE REQUEST-----\n`;
    assertError(await issue(alice, { thing_id: thing.id, csr: tampered }), 400);
    assertError(await issue(alice, { thing_id: thing.id, csr: 'hello' }), 400);
    assertError(
      await issue(alice, {
        thing_id: thing.id,
        csr: '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n',
      }),
      400,
    );
  });

  it('answers 404 for another user’s or an unknown thing, 403 for bad credentials, 400 for bad input, 415 for the wrong content type', async () => {
    const mine = await createThing(request, alice);
    const bobs = await createThing(request, bob);
    assertError(await issue(alice, { thing_id: bobs.id, key_type: 'ec' }), 404);
    assertError(await issue(alice, { thing_id: crypto.randomUUID(), key_type: 'ec' }), 404);
    assertError(await issue(alice, { thing_id: 'not-a-uuid', key_type: 'ec' }), 404);
    assertError(await issue('not-a-token', { thing_id: mine.id, key_type: 'ec' }), 403);
    assertError(await request('POST', '/certs', { body: { thing_id: mine.id, key_type: 'ec' } }), 403);

    for (const body of [
      {},
      { thing_id: '' },
      { key_type: 'ec' },
      { thing_id: mine.id, key_type: 'dsa' },
      { thing_id: mine.id, key_type: 'rsa', key_bits: 1024 },
      { thing_id: mine.id, key_type: 'rsa', key_bits: 2049 },
      { thing_id: mine.id, key_type: 'ec', key_bits: 2048 },
      { thing_id: mine.id, key_type: 'ec', key_bits: -1 },
      { thing_id: mine.id, key_type: 'ec', key_bits: '256' },
      { thing_id: mine.id, key_type: 'ec', valid: 'forever' },
      { thing_id: mine.id, key_type: 'ec', valid: '-1h' },
      { thing_id: mine.id, key_type: 'ec', valid: '0' },
      { thing_id: mine.id, key_type: 'ec', valid: 24 },
      { thing_id: 42 },
      [],
      'text',
    ]) {
      assertError(await issue(alice, body), 400);
    }
    assertError(await request('POST', '/certs', { token: alice, raw: '' }), 400);
    assertError(await request('POST', '/certs', { token: alice, raw: '{"thing_id":' }), 400);
    assertError(await request('POST', '/certs', { token: alice, raw: '{]' }), 400);
    for (const contentType of ['text/plain', 'application/json; charset=utf-8', 'application/senml+json']) {
      assertError(
        await request('POST', '/certs', { token: alice, body: { thing_id: mine.id }, contentType }),
        415,
      );
    }
    assertError(await request('POST', '/certs', { token: alice, raw: '{}', contentType: null }), 415);

    assertError(await request('GET', `/certs/${bobs.id}`, { token: alice }), 404);
    assertError(await request('GET', `/certs/${mine.id}`, { token: 'nope' }), 403);
    for (const query of ['limit=0', 'limit=101', 'limit=abc', 'offset=-1', 'limit=1&limit=2']) {
      assertError(await request('GET', `/certs/${mine.id}?${query}`, { token: alice }), 400);
    }
    assertError(await request('DELETE', `/certs/${bobs.id}`, { token: alice }), 404);
    assertError(await request('DELETE', `/certs/${mine.id}`, { token: 'nope' }), 403);
    assertError(await request('DELETE', '/certs/revoke', { token: alice, body: {} }), 400);
    assertError(await request('DELETE', '/certs/revoke', { token: alice, body: { thing_id: bobs.id } }), 404);
    assertError(await request('GET', '/certs/crl?format=xml'), 400, 'format must be pem or der');
  });

  it('lists the certificates of the thing in the path only, 201, paged', async () => {
    const [one, two] = [await createThing(request, alice), await createThing(request, alice)];
    const serials: string[] = [];
    for (const valid of ['3h', '1h'])
      serials.push((await issue(alice, { thing_id: one.id, key_type: 'ec', valid })).json.cert_serial);
    await issue(alice, { thing_id: two.id, key_type: 'ec' });

    const reply = await request('GET', `/certs/${one.id}`, { token: alice });
    assert.equal(reply.status, 201, reply.text);
    assert.equal(reply.json.total, 2);
    assert.equal(reply.json.offset, 0);
    assert.equal(reply.json.limit, 10);
    // Soonest expiry first.
    assert.deepEqual(
      reply.json.certs.map((c: any) => c.cert_serial),
      [serials[1], serials[0]],
    );
    for (const c of reply.json.certs) {
      assert.equal(c.thing_id, one.id);
      assert.match(c.expire, RFC3339);
      assert.equal(c.key_type, 'ec');
      assert.equal(c.revoked, undefined);
    }
    const paged = await request('GET', `/certs/${one.id}?offset=1&limit=1`, { token: alice });
    assert.equal(paged.status, 201);
    assert.deepEqual([paged.json.total, paged.json.offset, paged.json.limit], [2, 1, 1]);
    assert.deepEqual(
      paged.json.certs.map((c: any) => c.cert_serial),
      [serials[0]],
    );
  });

  it('revokes a thing’s certificates: 200 RevocationTime, the serials in the signed CRL, openssl refuses them', async () => {
    const revokedThing = await createThing(request, alice);
    const keptThing = await createThing(request, alice);
    const a = (await issue(alice, { thing_id: revokedThing.id, key_type: 'ec' })).json;
    const b = (await issue(alice, { thing_id: revokedThing.id, key_type: 'ec', key_bits: 384 })).json;
    const kept = (await issue(alice, { thing_id: keptThing.id, key_type: 'ec' })).json;

    const before = Date.now();
    const reply = await request('DELETE', `/certs/${revokedThing.id}`, { token: alice });
    assert.equal(reply.status, 200, reply.text);
    assert.deepEqual(Object.keys(reply.json), ['RevocationTime']);
    assert.match(reply.json.RevocationTime, RFC3339);
    near(new Date(reply.json.RevocationTime), before, 10_000, 'revocation time');

    const crl = await crlFile('crl.pem');
    const ca = work.file('revoke-ca.crt', a.ca_cert);
    assert.match(opensslResult('crl', '-in', crl, '-noout', '-CAfile', ca).output, /verify OK/);
    const text = openssl('crl', '-in', crl, '-noout', '-text');
    assert.match(text, new RegExp(opensslSerial(a.cert_serial)));
    assert.match(text, new RegExp(opensslSerial(b.cert_serial)));
    assert.doesNotMatch(text, new RegExp(opensslSerial(kept.cert_serial)));

    const revokedCert = work.file('revoked.crt', a.cert);
    const verdict = opensslResult('verify', '-crl_check', '-CRLfile', crl, '-CAfile', ca, revokedCert);
    assert.equal(verdict.ok, false);
    assert.match(verdict.output, /certificate revoked/);
    assert.match(
      openssl('verify', '-crl_check', '-CRLfile', crl, '-CAfile', ca, work.file('kept.crt', kept.cert)),
      /: OK/,
    );

    const list = await request('GET', `/certs/${revokedThing.id}`, { token: alice });
    assert.equal(list.json.total, 2, 'records are kept');
    for (const c of list.json.certs) {
      assert.equal(c.revoked, true);
      assert.match(c.revocation_time, RFC3339);
    }
    // Nothing valid left to revoke.
    assertError(await request('DELETE', `/certs/${revokedThing.id}`, { token: alice }), 404);

    // The seed document's form: DELETE /certs/revoke {"thing_id"}.
    const seed = await request('DELETE', '/certs/revoke', { token: alice, body: { thing_id: keptThing.id } });
    assert.equal(seed.status, 200, seed.text);
    assert.match(seed.json.RevocationTime, RFC3339);
    assert.match(
      openssl('crl', '-in', await crlFile('crl2.pem'), '-noout', '-text'),
      new RegExp(opensslSerial(kept.cert_serial)),
    );
  });

  it('serves the CRL as DER on Accept: application/pkix-crl and ?format=der', async () => {
    const thing = await createThing(request, alice);
    const ca = work.file(
      'der-ca.crt',
      (await issue(alice, { thing_id: thing.id, key_type: 'ec' })).json.ca_cert,
    );
    for (const init of [{ headers: { accept: 'application/pkix-crl' } }, {}]) {
      const url = `${fixture.server.url}/certs/crl${'headers' in init ? '' : '?format=der'}`;
      const res = await recordingFetch(url, init);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/pkix-crl');
      const file = work.file('crl.der', Buffer.from(await res.arrayBuffer()));
      assert.match(
        opensslResult('crl', '-inform', 'DER', '-in', file, '-noout', '-CAfile', ca).output,
        /verify OK/,
      );
    }
  });

  it('revokes the certificates of a deleted thing', async () => {
    const thing = await createThing(request, alice);
    const cert = (await issue(alice, { thing_id: thing.id, key_type: 'ec' })).json;
    const removed = await request('DELETE', `/things/${thing.id}`, { token: alice });
    assert.equal(removed.status, 204);
    const crl = await crlFile('crl-deleted.pem');
    assert.match(openssl('crl', '-in', crl, '-noout', '-text'), new RegExp(opensslSerial(cert.cert_serial)));
    const verdict = opensslResult(
      'verify',
      '-crl_check',
      '-CRLfile',
      crl,
      '-CAfile',
      work.file('del-ca.crt', cert.ca_cert),
      work.file('del.crt', cert.cert),
    );
    assert.match(verdict.output, /certificate revoked/);
    assertError(await request('GET', `/certs/${thing.id}`, { token: alice }), 404);
  });

  it('in-process: signs before the transaction, records in it (a rollback leaves no record), abandon revokes', async () => {
    const { certs, db, things } = fixture.server.app.services;
    const { email } = await things.identify(alice);
    const thing = await createThing(request, alice);
    const key = await certs.prepareKey({ keyType: 'ec', keyBits: 384 });
    const signed = await certs.sign(thing, { key, valid: '1h' });
    assert.equal(signed.keyType, 'ec');
    const f = work.file('prepared.crt', signed.cert);
    assert.equal(
      certPublicKey(f),
      key.keys!.publicKey.export({ type: 'spki', format: 'pem' }).toString().trim(),
    );
    assert.match(certText(f), /NIST CURVE: P-384/);
    assert.equal((await certs.list(alice, thing.id, 0, 10)).total, 0, 'signing records nothing');
    await assert.rejects(
      inTransaction(db, async () => {
        await certs.record(email, [signed]);
        assert.equal((await certs.list(alice, thing.id, 0, 10)).total, 1, 'visible inside the transaction');
        throw new Error('a later provisioning step failed');
      }),
      /a later provisioning step failed/,
    );
    assert.equal((await certs.list(alice, thing.id, 0, 10)).total, 0, 'rolled back with the transaction');
    await assert.rejects(
      certs.prepareKey({ keyType: 'rsa', keyBits: 1024 }),
      (err: any) => err.kind === 'malformed',
    );
    await assert.rejects(
      certs.issue('bad-token', { thingId: thing.id }),
      (err: any) => err.kind === 'unauthenticated',
    );

    // abandon (provisioning's compensation, after the rollback) records it revoked and publishes it.
    await certs.abandon(email, [signed]);
    const [record] = (await certs.list(alice, thing.id, 0, 10)).certs;
    assert.equal(record?.serial, signed.serial);
    assert.ok(record?.revokedAt instanceof Date);
    assert.match(
      openssl('crl', '-in', await crlFile('crl-serial.pem'), '-noout', '-text'),
      new RegExp(opensslSerial(signed.serial)),
    );
  });

  it('keeps the generated CA in the data folder (key 0600)', () => {
    const key = path.join(fixture.server.dataDir, 'ca.key');
    assert.ok(fs.existsSync(path.join(fixture.server.dataDir, 'ca.crt')));
    assert.equal(fs.statSync(key).mode & 0o777, 0o600);
    assert.match(fs.readFileSync(key, 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
  });
});

describe(`certs CA across restarts and from files (${dialect})`, () => {
  const work = workdir();
  after(() => work.remove());

  async function issueOnce(env: Record<string, string>, body: Record<string, unknown> = { key_type: 'ec' }) {
    const server = await startServer(env);
    try {
      const request = client(server.url);
      const { token } = await userToken(request);
      const thing = await createThing(request, token, { key: `key-${crypto.randomUUID()}` });
      const reply = await request('POST', '/certs', { token, body: { thing_id: thing.id, ...body } });
      assert.equal(reply.status, 201, reply.text);
      return { json: reply.json, thing };
    } finally {
      await server.close();
    }
  }

  it('reuses the CA generated at first start when the data folder is the same', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tethys-ca-'));
    try {
      const first = await issueOnce({ TETHYS_DATA_DIR: dataDir });
      const second = await issueOnce({ TETHYS_DATA_DIR: dataDir });
      assert.equal(second.json.ca_cert, first.json.ca_cert);
      assert.equal(fs.readFileSync(path.join(dataDir, 'ca.crt'), 'utf8'), first.json.ca_cert);
      const ca = work.file('persist-ca.crt', second.json.ca_cert);
      assert.match(openssl('verify', '-CAfile', ca, work.file('first.crt', first.json.cert)), /: OK/);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('signs with the CA given by MF_CERTS_SIGN_CA_PATH / MF_CERTS_SIGN_CA_KEY_PATH', async () => {
    const caKey = work.path('file-ca.key');
    const caCert = work.path('file-ca.crt');
    openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      caKey,
      '-out',
      caCert,
      '-days',
      '30',
      '-subj',
      '/C=RS/O=Mainflux/OU=IoT/CN=localhost/emailAddress=info@mainflux.com',
    );
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tethys-ca-'));
    try {
      const { json } = await issueOnce({
        TETHYS_DATA_DIR: dataDir,
        MF_CERTS_SIGN_CA_PATH: caCert,
        MF_CERTS_SIGN_CA_KEY_PATH: caKey,
      });
      assert.equal(
        openssl(
          'x509',
          '-in',
          work.file('returned-ca.crt', json.ca_cert),
          '-noout',
          '-fingerprint',
          '-sha256',
        ),
        openssl('x509', '-in', caCert, '-noout', '-fingerprint', '-sha256'),
      );
      assert.match(openssl('verify', '-CAfile', caCert, work.file('file-leaf.crt', json.cert)), /: OK/);
      assert.match(certText(work.path('file-leaf.crt')), /Signature Algorithm: sha256WithRSAEncryption/);
      assert.ok(!fs.existsSync(path.join(dataDir, 'ca.crt')), 'no CA generated when one is configured');
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('puts the thing key in the CN with MF_CERTS_CN_FROM_KEY=true', async () => {
    const { json, thing } = await issueOnce({ MF_CERTS_CN_FROM_KEY: 'true' });
    assert.equal(commonName(work.file('cn-key.crt', json.cert)), thing.key);
  });

  it('refuses to start with half a CA configuration, a key that does not match, or a file that is no certificate', async () => {
    const server = await startServer();
    try {
      const other = work.path('other.key');
      const caKey = work.path('refuse-ca.key');
      const caCert = work.path('refuse-ca.crt');
      ecRequest(caKey, caCert, '/CN=refuse', { x509: true, days: 3 });
      openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', other);
      const start = (env: Record<string, string>) =>
        openPki(
          loadConfig({ TETHYS_DATA_DIR: server.dataDir, ...env }).certs,
          server.dataDir,
          new CertsRepository(
            server.app.services.db,
            new ThingsRepository(server.app.services.db, new EventsRepository(server.app.services.db)),
          ),
          pino({ level: 'silent' }),
        );
      await assert.rejects(
        start({ MF_CERTS_SIGN_CA_PATH: caCert }),
        /MF_CERTS_SIGN_CA_PATH and MF_CERTS_SIGN_CA_KEY_PATH must be set together/,
      );
      await assert.rejects(start({ MF_CERTS_SIGN_CA_KEY_PATH: caKey }), /must be set together/);
      await assert.rejects(
        start({ MF_CERTS_SIGN_CA_PATH: caCert, MF_CERTS_SIGN_CA_KEY_PATH: other }),
        /does not belong to the certificate/,
      );
      await assert.rejects(
        start({ MF_CERTS_SIGN_CA_PATH: caKey, MF_CERTS_SIGN_CA_KEY_PATH: caKey }),
        /not a PEM X.509 certificate/,
      );
      await assert.rejects(
        start({ MF_CERTS_SIGN_CA_PATH: caCert, MF_CERTS_SIGN_CA_KEY_PATH: caCert }),
        /private key cannot be read/,
      );
      await assert.rejects(
        start({ MF_CERTS_SIGN_CA_PATH: work.path('missing.crt'), MF_CERTS_SIGN_CA_KEY_PATH: caKey }),
        /MF_CERTS_SIGN_CA_PATH: cannot read/,
      );
      // An openssl SEC1 EC key ("EC PRIVATE KEY") is accepted.
      const sec1 = work.file('sec1.key', openssl('ec', '-in', caKey));
      assert.match(fs.readFileSync(sec1, 'utf8'), /BEGIN EC PRIVATE KEY/);
      const pki = await start({ MF_CERTS_SIGN_CA_PATH: caCert, MF_CERTS_SIGN_CA_KEY_PATH: sec1 });
      assert.equal(pki.external, false);
    } finally {
      await server.close();
    }
  });
});
