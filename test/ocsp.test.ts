import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import promClient from 'prom-client';
import { createThing } from './helpers/entities.js';
import { certText, type Workdir, workdir } from './helpers/openssl.js';
import {
  client,
  dialect,
  recordingFetch,
  startServer as startTestServer,
  type TestServer,
  userToken,
  withServer,
} from './helpers/server.js';
import { type FakeVault, startVault } from './helpers/vault.js';
import { eventually } from './helpers/wait.js';

function startServer(env: Record<string, string> = {}): Promise<TestServer> {
  promClient.register.removeSingleMetric('tethys_http_request_duration_seconds');
  return startTestServer(env);
}

/**
 * openssl as the OCSP client, asynchronously: the server runs in this process, so a
 * synchronous child would wait for an answer the blocked event loop never gives.
 */
function ocspTool(...args: string[]): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) =>
    execFile('openssl', ['ocsp', ...args], { encoding: 'utf8' }, (err, stdout, stderr) =>
      resolve({ ok: !err, output: `${stdout}${stderr}` }),
    ),
  );
}

const PUBLIC_URL = 'https://iot.example.com:8443/tethys';

describe(`OCSP responder, development CA (${dialect})`, () => {
  const fixture = withServer({ TETHYS_PUBLIC_URL: `${PUBLIC_URL}/` }, { start: startServer });
  const { request } = fixture;
  let token: string;
  let work: Workdir;
  let ocspUrl: string;

  before(async () => {
    token = (await userToken(request)).token;
    work = workdir();
    ocspUrl = `${fixture.server.url}/certs/ocsp`;
  });
  after(() => work.remove());

  /** A thing with a certificate: the paths of the certificate and the CA. */
  async function thingWithCert(prefix: string) {
    const thing = await createThing(request, token);
    const reply = await request('POST', '/certs', { token, body: { thing_id: thing.id, key_type: 'ec' } });
    assert.equal(reply.status, 201, reply.text);
    return {
      thing,
      serial: reply.json.cert_serial as string,
      cert: work.file(`${prefix}.crt`, reply.json.cert),
      ca: work.file(`${prefix}-ca.crt`, reply.json.ca_cert),
    };
  }

  it('answers good, signed by the CA (Response verify OK), with thisUpdate, nextUpdate and the nonce echoed', async () => {
    const { cert, ca } = await thingWithCert('good');
    const r = await ocspTool('-issuer', ca, '-cert', cert, '-url', ocspUrl, '-CAfile', ca, '-resp_text');
    assert.ok(r.ok, r.output);
    assert.match(r.output, /Response verify OK/);
    assert.match(r.output, new RegExp(`${cert.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: good`));
    assert.match(r.output, /This Update: /);
    assert.match(r.output, /Next Update: /);
    assert.match(r.output, /Response Extensions:\s+OCSP Nonce:/);
    assert.doesNotMatch(r.output, /WARNING: no nonce/);
    // nextUpdate is thisUpdate + TETHYS_OCSP_VALIDITY (1h by default).
    const thisUpdate = Date.parse(/This Update: (.+)/.exec(r.output)![1]!);
    const nextUpdate = Date.parse(/Next Update: (.+)/.exec(r.output)![1]!);
    assert.equal(nextUpdate - thisUpdate, 3_600_000);
  });

  it('answers revoked with its time after DELETE /certs/{thingId}: the kept response is dropped at once', async () => {
    const { thing, cert, ca } = await thingWithCert('revoke');
    const ask = (name: string) =>
      ocspTool(
        '-issuer',
        ca,
        '-cert',
        cert,
        '-url',
        ocspUrl,
        '-CAfile',
        ca,
        '-no_nonce',
        '-resp_text',
        '-respout',
        work.path(name),
      );
    const first = await ask('first.der');
    assert.match(first.output, /: good/);
    // Another certificate's response signed in between does not displace it.
    const other = await thingWithCert('revoke-other');
    const between = await ocspTool(
      '-issuer',
      other.ca,
      '-cert',
      other.cert,
      '-url',
      ocspUrl,
      '-no_nonce',
      '-noverify',
    );
    assert.match(between.output, /: good/);
    const second = await ask('second.der');
    assert.match(second.output, /: good/);
    // Without a nonce, the signed response is kept and served again (same bytes).
    assert.deepEqual(fs.readFileSync(work.path('first.der')), fs.readFileSync(work.path('second.der')));

    const revoked = await request('DELETE', `/certs/${thing.id}`, { token });
    assert.equal(revoked.status, 200, revoked.text);
    const after = await ask('after.der');
    assert.ok(after.ok, after.output);
    assert.match(after.output, /Response verify OK/);
    assert.match(after.output, /: revoked/);
    const time = Date.parse(/Revocation Time: (.+)/.exec(after.output)![1]!);
    assert.equal(Math.floor(time / 1000), Math.floor(Date.parse(revoked.json.RevocationTime) / 1000));
  });

  it('answers unknown for a serial the CA never issued and for a certificate of another issuer', async () => {
    const { ca } = await thingWithCert('issuer');
    // Signed with the server's own CA key, but never recorded: unknown.
    const caKey = path.join(fixture.server.dataDir, 'ca.key');
    /** A P-256 certificate made by openssl: self-signed, or signed by `issuer` (certificate and key). */
    const make = async (name: string, issuer?: [string, string]) => {
      const out = work.path(`${name}.crt`);
      const signer = issuer ? ['-CA', issuer[0], '-CAkey', issuer[1]] : [];
      await run(
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        work.path(`${name}.key`),
        '-subj',
        `/CN=${name}`,
        ...signer,
        '-days',
        '1',
        '-out',
        out,
      );
      return out;
    };
    const stray = await make('stray', [ca, caKey]);
    const never = await ocspTool('-issuer', ca, '-cert', stray, '-url', ocspUrl, '-CAfile', ca, '-resp_text');
    assert.ok(never.ok, never.output);
    assert.match(never.output, /stray\.crt: unknown/);

    // Another CA altogether: its name and key hash are not this responder's.
    const otherCa = await make('other-ca');
    const foreign = await make('foreign', [otherCa, work.path('other-ca.key')]);
    const other = await ocspTool(
      '-issuer',
      otherCa,
      '-cert',
      foreign,
      '-url',
      ocspUrl,
      '-noverify',
      '-resp_text',
    );
    // Signed by this CA, no authority on the other CA's certificates: a relying party
    // that checks the responder's authority rejects it, as it should (not verified here).
    assert.match(other.output, /OCSP Response Status: successful/);
    assert.match(other.output, /foreign\.crt: unknown/);
  });

  it('answers GET /certs/ocsp/{url-encoded base64 request} (RFC 6960 A.1)', async () => {
    const { cert, ca } = await thingWithCert('get');
    const made = await ocspTool(
      '-issuer',
      ca,
      '-cert',
      cert,
      '-no_nonce',
      '-reqout',
      work.path('get-req.der'),
    );
    assert.ok(made.ok, made.output);
    const b64 = fs.readFileSync(work.path('get-req.der')).toString('base64');
    const res = await recordingFetch(`${fixture.server.url}/certs/ocsp/${encodeURIComponent(b64)}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/ocsp-response');
    work.file('get-resp.der', Buffer.from(await res.arrayBuffer()));
    const r = await ocspTool(
      '-respin',
      work.path('get-resp.der'),
      '-issuer',
      ca,
      '-cert',
      cert,
      '-CAfile',
      ca,
      '-resp_text',
    );
    assert.ok(r.ok, r.output);
    assert.match(r.output, /Response verify OK/);
    assert.match(r.output, /: good/);
  });

  it('answers malformedRequest (HTTP 200) to a request that is not one, 415 to another content type', async () => {
    const post = (body: Buffer, type: string) =>
      recordingFetch(`${fixture.server.url}/certs/ocsp`, {
        method: 'POST',
        headers: { 'content-type': type },
        body: new Uint8Array(body),
      });
    const bad = await post(Buffer.from('not an OCSP request'), 'application/ocsp-request');
    assert.equal(bad.status, 200);
    assert.equal(bad.headers.get('content-type'), 'application/ocsp-response');
    // OCSPResponse { responseStatus malformedRequest (1) }, no responseBytes.
    assert.deepEqual(Buffer.from(await bad.arrayBuffer()), Buffer.from([0x30, 0x03, 0x0a, 0x01, 0x01]));
    const get = await recordingFetch(`${fixture.server.url}/certs/ocsp/${encodeURIComponent('!!!')}`);
    assert.deepEqual(Buffer.from(await get.arrayBuffer()), Buffer.from([0x30, 0x03, 0x0a, 0x01, 0x01]));
    const wrongType = await post(Buffer.from([0x30, 0x00]), 'application/json');
    assert.equal(wrongType.status, 415);
    assert.ok((await wrongType.json()).error);
  });

  it('puts the OCSP URL (AIA) and the DER CRL URL (CDP) in issued certificates when TETHYS_PUBLIC_URL is set', async () => {
    const { cert, ca } = await thingWithCert('aia');
    const text = certText(cert);
    assert.match(
      text,
      /Authority Information Access:\s+OCSP - URI:https:\/\/iot\.example\.com:8443\/tethys\/certs\/ocsp\n/,
    );
    assert.match(
      text,
      /X509v3 CRL Distribution Points:\s+Full Name:\s+URI:https:\/\/iot\.example\.com:8443\/tethys\/certs\/crl\?format=der\n/,
    );
    const verified = await run('verify', '-CAfile', ca, cert);
    assert.match(verified, /OK/);
  });
});

describe(`OCSP, no TETHYS_PUBLIC_URL (${dialect})`, () => {
  const fixture = withServer({}, { start: startServer });
  const { request } = fixture;

  it('issues certificates without AIA or CDP', async () => {
    const work = workdir();
    try {
      const { token } = await userToken(request);
      const thing = await createThing(request, token);
      const reply = await request('POST', '/certs', { token, body: { thing_id: thing.id, key_type: 'ec' } });
      assert.equal(reply.status, 201, reply.text);
      const text = certText(work.file('plain.crt', reply.json.cert));
      assert.doesNotMatch(text, /Authority Information Access/);
      assert.doesNotMatch(text, /CRL Distribution Points/);
    } finally {
      work.remove();
    }
  });
});

describe(`OCSP with Vault (${dialect})`, () => {
  let vault: FakeVault;
  let server: TestServer;

  before(async () => {
    vault = await startVault();
    server = await startServer({
      MF_CERTS_VAULT_HOST: vault.url,
      MF_VAULT_TOKEN: vault.token,
      MF_VAULT_PKI_INT_PATH: vault.pkiPath,
      MF_VAULT_CA_ROLE_NAME: vault.role,
    });
  });
  after(async () => {
    await server?.close();
    await vault?.close();
  });

  it('signs with a delegated OCSP signing certificate Vault issued (sign-verbatim): good, then revoked; tryLater while Vault is sealed', async () => {
    const work = workdir();
    try {
      const request = client(server.url);
      const { token } = await userToken(request);
      const thing = await createThing(request, token);
      const reply = await request('POST', '/certs', { token, body: { thing_id: thing.id, key_type: 'ec' } });
      assert.equal(reply.status, 201, reply.text);
      const cert = work.file('vault.crt', reply.json.cert);
      const ca = work.file('vault-ca.crt', reply.json.ca_cert);
      const ask = () =>
        ocspTool(
          '-issuer',
          ca,
          '-cert',
          cert,
          '-url',
          `${server.url}/certs/ocsp`,
          '-CAfile',
          ca,
          '-resp_text',
        );

      // No responder certificate yet, and Vault cannot issue one: try later.
      vault.sealed = true;
      const sealed = await ask();
      assert.match(sealed.output, /Responder Error: trylater \(3\)/);
      vault.sealed = false;
      const unsealedAt = vault.calls.length;

      // Vault is asked again after a pause (2 s), not at every request.
      const good = await eventually(
        'a response once Vault is unsealed',
        async () => {
          const r = await ask();
          return r.ok ? r : null;
        },
        { timeoutMs: 10_000, intervalMs: 250 },
      );
      assert.match(good.output, /Response verify OK/);
      assert.match(good.output, /vault\.crt: good/);
      // The response carries the delegated certificate: OCSP signing, issued by Vault's CA.
      assert.match(good.output, /Subject: CN ?= ?Tethys OCSP responder/);
      assert.match(good.output, /OCSP Signing/);
      const verbatim = vault.calls
        .slice(unsealedAt)
        .filter((c) => c.path === `/v1/${vault.pkiPath}/sign-verbatim/${vault.role}`);
      assert.equal(verbatim.length, 1);
      assert.deepEqual(verbatim[0]!.body.ext_key_usage_oids, ['1.3.6.1.5.5.7.3.9']);
      assert.equal(verbatim[0]!.token, vault.token);

      const revoked = await request('DELETE', `/certs/${thing.id}`, { token });
      assert.equal(revoked.status, 200, revoked.text);
      const after = await ask();
      assert.ok(after.ok, after.output);
      assert.match(after.output, /Response verify OK/);
      assert.match(after.output, /vault\.crt: revoked/);
      // The same responder certificate signs on.
      assert.equal(vault.calls.slice(unsealedAt).filter((c) => c.path.includes('/sign-verbatim/')).length, 1);
    } finally {
      work.remove();
    }
  });
});

function run(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('openssl', args, { encoding: 'utf8' }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(`${stdout}${stderr}`),
    ),
  );
}
