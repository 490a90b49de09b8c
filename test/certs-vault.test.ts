import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import promClient from 'prom-client';
import { vaultBaseUrl } from '../src/certs/vault.js';
import { assertError, createThing } from './helpers/entities.js';
import {
  certPublicKey,
  commonName,
  ecRequest,
  keyPublicKey,
  openssl,
  opensslSerial,
  type Workdir,
  workdir,
} from './helpers/openssl.js';
import {
  client,
  dialect,
  type Request,
  recordingFetch,
  startServer as startTestServer,
  type TestServer,
  userToken,
} from './helpers/server.js';
import { type FakeVault, startVault } from './helpers/vault.js';

/** See certs.test.ts: several servers in one process need the histogram unregistered. */
function startServer(env: Record<string, string> = {}): Promise<TestServer> {
  promClient.register.removeSingleMetric('tethys_http_request_duration_seconds');
  return startTestServer(env);
}

const vaultEnv = (vault: FakeVault, token = vault.token) => ({
  MF_CERTS_VAULT_HOST: vault.url,
  MF_VAULT_PKI_INT_PATH: vault.pkiPath,
  MF_VAULT_CA_ROLE_NAME: vault.role,
  MF_VAULT_TOKEN: token,
});

describe(`certs, Vault mode (${dialect})`, () => {
  let vault: FakeVault;
  let server: TestServer;
  let request: Request;
  let token: string;
  let work: Workdir;

  before(async () => {
    vault = await startVault({ token: 's.test-token', pkiPath: 'pki_int', role: 'mainflux' });
    server = await startServer(vaultEnv(vault));
    request = client(server.url);
    token = (await userToken(request)).token;
    work = workdir();
  });
  after(async () => {
    await server.close();
    await vault.close();
    work.remove();
  });

  const lastCall = () => vault.calls[vault.calls.length - 1]!;
  const issue = (body: unknown, t = token) => request('POST', '/certs', { token: t, body });

  it('is external: provisioning signs at Vault before its transaction and abandons by revoking there', async () => {
    const { certs, things } = server.app.services;
    assert.equal(certs.external, true);
    assert.equal(certs.caPem, null);
    assert.equal(fs.existsSync(`${server.dataDir}/ca.crt`), false, 'no local CA in Vault mode');
    const { email } = await things.identify(token);
    const thing = await createThing(request, token);
    const key = await certs.prepareKey({ keyType: 'ec' });
    assert.equal(key.keys, undefined, 'Vault makes the keys');
    const signed = await certs.sign(thing, { key, valid: '1h' });
    assert.match(signed.key, /EC PRIVATE KEY/);
    vault.calls.length = 0;
    await certs.abandon(email, [signed]);
    assert.deepEqual(
      vault.calls.map((c) => [c.path, c.body]),
      [['/v1/pki_int/revoke', { serial_number: signed.serial }]],
    );
    assert.equal((await certs.list(token, thing.id, 0, 10)).certs[0]?.revokedAt instanceof Date, true);
  });

  it('issues through POST /v1/<pki>/issue/<role> with the token and the request, and returns what Vault issued', async () => {
    const thing = await createThing(request, token);
    vault.calls.length = 0;
    const reply = await issue({ thing_id: thing.id, key_type: 'rsa', key_bits: 2048, valid: '24h' });
    assert.equal(reply.status, 201, reply.text);
    assert.equal(vault.calls.length, 1);
    assert.deepEqual(vault.calls[0], {
      method: 'POST',
      path: '/v1/pki_int/issue/mainflux',
      token: 's.test-token',
      body: { common_name: thing.id, ttl: '24h', key_bits: 2048, key_type: 'rsa' },
    });
    const j = reply.json;
    assert.equal(j.ca_cert, vault.caPem);
    assert.equal(j.issuing_ca, vault.caPem);
    assert.deepEqual(j.CAChain, [vault.caPem]);
    assert.equal(j.PrivateKeyType, 'rsa');
    assert.match(j.cert_key, /BEGIN RSA PRIVATE KEY/, 'the key as Vault returned it');
    assert.ok(vault.calls.length === 1);
    const cert = work.file('vault.crt', j.cert);
    assert.match(openssl('verify', '-CAfile', work.file('vault-ca.crt', vault.caPem), cert), /: OK/);
    assert.equal(certPublicKey(cert), keyPublicKey(work.file('vault.key', j.cert_key)));
    assert.equal(commonName(cert), thing.id);
    assert.equal(
      opensslSerial(j.cert_serial),
      openssl('x509', '-in', cert, '-noout', '-serial').trim().replace('serial=', ''),
    );

    const list = await request('GET', `/certs/${thing.id}`, { token });
    assert.equal(list.status, 201);
    assert.deepEqual(
      list.json.certs.map((c: any) => c.cert_serial),
      [j.cert_serial],
    );
  });

  it('fills in the defaults: rsa, MF_CERTS_SIGN_RSA_BITS, MF_CERTS_SIGN_HOURS_VALID; EC 256', async () => {
    const thing = await createThing(request, token);
    vault.calls.length = 0;
    assert.equal((await issue({ thing_id: thing.id, key_type: 'ec' })).status, 201);
    assert.deepEqual(lastCall().body, { common_name: thing.id, ttl: '2048h', key_bits: 256, key_type: 'ec' });
  });

  it('signs a CSR through POST /v1/<pki>/sign/<role>; no key in the answer', async () => {
    const thing = await createThing(request, token);
    const key = work.path('csr.key');
    const csrFile = work.path('csr.pem');
    ecRequest(key, csrFile, '/CN=device');
    const csr = fs.readFileSync(csrFile, 'utf8');
    vault.calls.length = 0;
    const reply = await issue({ thing_id: thing.id, csr, valid: '1h' });
    assert.equal(reply.status, 201, reply.text);
    assert.deepEqual(vault.calls, [
      {
        method: 'POST',
        path: '/v1/pki_int/sign/mainflux',
        token: 's.test-token',
        body: { csr, common_name: thing.id, ttl: '1h' },
      },
    ]);
    for (const k of ['cert_key', 'client_key', 'ClientKey', 'PrivateKeyType']) assert.ok(!(k in reply.json));
    const cert = work.file('vault-csr.crt', reply.json.cert);
    assert.equal(certPublicKey(cert), keyPublicKey(key));

    // A role that keeps the CSR's own CN would certify someone else: refused, and revoked at Vault.
    vault.useCsrCommonName = true;
    try {
      vault.calls.length = 0;
      assertError(await issue({ thing_id: thing.id, csr }), 502);
      assert.deepEqual(
        vault.calls.map((c) => c.path),
        ['/v1/pki_int/sign/mainflux', '/v1/pki_int/revoke'],
      );
    } finally {
      vault.useCsrCommonName = false;
    }
    // A bad CSR never reaches Vault.
    vault.calls.length = 0;
    assertError(await issue({ thing_id: thing.id, csr: 'nope' }), 400);
    assert.equal(vault.calls.length, 0);
  });

  it('revokes through POST /v1/<pki>/revoke, returns Vault’s revocation time, and proxies the CRL', async () => {
    const thing = await createThing(request, token);
    const a = (await issue({ thing_id: thing.id, key_type: 'ec' })).json;
    const b = (await issue({ thing_id: thing.id, key_type: 'ec' })).json;
    vault.calls.length = 0;
    const reply = await request('DELETE', `/certs/${thing.id}`, { token });
    assert.equal(reply.status, 200, `${reply.text} ${JSON.stringify(vault.calls)}`);
    assert.deepEqual(
      vault.calls.map((c) => [c.method, c.path, c.token, c.body]).sort(),
      [
        ['POST', '/v1/pki_int/revoke', 's.test-token', { serial_number: a.cert_serial }],
        ['POST', '/v1/pki_int/revoke', 's.test-token', { serial_number: b.cert_serial }],
      ].sort(),
    );
    const seconds = Math.max(vault.revoked.get(a.cert_serial)!, vault.revoked.get(b.cert_serial)!);
    assert.equal(reply.json.RevocationTime, new Date(seconds * 1000).toISOString());
    const list = await request('GET', `/certs/${thing.id}`, { token });
    assert.deepEqual(
      list.json.certs.map((c: any) => c.revoked),
      [true, true],
    );

    vault.calls.length = 0;
    const crl = await request('GET', '/certs/crl');
    assert.equal(crl.status, 200);
    assert.deepEqual(
      vault.calls.map((c) => [c.method, c.path]),
      [['GET', '/v1/pki_int/crl/pem']],
    );
    const file = work.file('vault-crl.pem', crl.text);
    const text = openssl('crl', '-in', file, '-noout', '-text');
    assert.match(text, new RegExp(opensslSerial(a.cert_serial)));
    assert.match(text, new RegExp(opensslSerial(b.cert_serial)));
    const der = await recordingFetch(`${server.url}/certs/crl`, {
      headers: { accept: 'application/pkix-crl' },
    });
    assert.equal(der.headers.get('content-type'), 'application/pkix-crl');
    assert.match(
      openssl(
        'crl',
        '-inform',
        'DER',
        '-in',
        work.file('vault-crl.der', Buffer.from(await der.arrayBuffer())),
        '-noout',
        '-text',
      ),
      /Revoked Certificates/,
    );
  });

  it('revokes at Vault when the thing is deleted, and retries later when Vault is down then', async () => {
    const thing = await createThing(request, token);
    const cert = (await issue({ thing_id: thing.id, key_type: 'ec' })).json;
    vault.calls.length = 0;
    assert.equal((await request('DELETE', `/things/${thing.id}`, { token })).status, 204);
    assert.deepEqual(
      vault.calls.map((c) => [c.path, c.body]),
      [['/v1/pki_int/revoke', { serial_number: cert.cert_serial }]],
    );
    assert.ok(vault.revoked.has(cert.cert_serial));

    const other = await createThing(request, token);
    const orphan = (await issue({ thing_id: other.id, key_type: 'ec' })).json;
    vault.sealed = true;
    try {
      // The deletion is not held up by Vault being unavailable.
      assert.equal((await request('DELETE', `/things/${other.id}`, { token })).status, 204);
    } finally {
      vault.sealed = false;
    }
    assert.ok(!vault.revoked.has(orphan.cert_serial));
    await server.app.services.certs.sweepOrphans();
    assert.ok(vault.revoked.has(orphan.cert_serial), 'the sweep revoked the orphan');
  });

  it('answers 502 with a JSON error when Vault refuses or fails, and records nothing', async () => {
    const thing = await createThing(request, token);
    vault.sealed = true;
    try {
      assertError(await issue({ thing_id: thing.id, key_type: 'ec' }), 502);
      assertError(await request('GET', '/certs/crl'), 502);
    } finally {
      vault.sealed = false;
    }
    const list = await request('GET', `/certs/${thing.id}`, { token });
    assert.equal(list.json.total, 0);
    // Ownership and input are checked before Vault is called.
    vault.calls.length = 0;
    assertError(await issue({ thing_id: thing.id, key_type: 'dsa' }), 400);
    assertError(await issue({ thing_id: thing.id, key_type: 'ec' }, 'bad-token'), 403);
    const stranger = (await userToken(request)).token;
    assertError(await issue({ thing_id: thing.id, key_type: 'ec' }, stranger), 404);
    assert.equal(vault.calls.length, 0);
  });
});

describe(`certs, Vault misconfigured or down (${dialect})`, () => {
  it('answers 502 (never 500) with a wrong Vault token', async () => {
    const vault = await startVault({ token: 'right' });
    const server = await startServer(vaultEnv(vault, 'wrong'));
    try {
      const request = client(server.url);
      const { token } = await userToken(request);
      const thing = await createThing(request, token);
      const reply = await request('POST', '/certs', { token, body: { thing_id: thing.id, key_type: 'ec' } });
      assertError(reply, 502);
      assert.match(reply.json.error, /403/);
      assert.equal(vault.calls[0]!.token, 'wrong');
      assert.equal((await request('GET', `/certs/${thing.id}`, { token })).json.total, 0);
    } finally {
      await server.close();
      await vault.close();
    }
  });

  it('answers 502 when Vault is unreachable', async () => {
    const vault = await startVault();
    const env = vaultEnv(vault);
    await vault.close();
    const server = await startServer(env);
    try {
      const request = client(server.url);
      const { token } = await userToken(request);
      const thing = await createThing(request, token);
      const reply = await request('POST', '/certs', { token, body: { thing_id: thing.id, key_type: 'ec' } });
      assertError(reply, 502);
      assert.match(reply.json.error, /unreachable/);
      assertError(await request('GET', '/certs/crl'), 502);
    } finally {
      await server.close();
    }
  });

  it('reads a host without a scheme as HTTPS, as Vault’s own client does', () => {
    assert.equal(vaultBaseUrl('vault-domain.com'), 'https://vault-domain.com');
    assert.equal(vaultBaseUrl('http://127.0.0.1:8200/'), 'http://127.0.0.1:8200');
  });
});
