import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import promClient from 'prom-client';
import { assertError, createThing } from './helpers/entities.js';
import {
  ecCsr,
  openssl,
  opensslResult,
  opensslSerial,
  selfSigned,
  type Workdir,
  workdir,
} from './helpers/openssl.js';
import { runCli } from './helpers/process.js';
import {
  client,
  dialect,
  recordingFetch,
  startServer as startTestServer,
  type TestServer,
  userToken,
  withServer,
} from './helpers/server.js';
import { curlRenew, tlsFetch } from './helpers/tls.js';
import { type FakeVault, startVault } from './helpers/vault.js';
import { clockPast } from './helpers/wait.js';

/** Several servers in one process: the request histogram is registered once per process (see certs.test.ts). */
function startServer(env: Record<string, string> = {}): Promise<TestServer> {
  promClient.register.removeSingleMetric('tethys_http_request_duration_seconds');
  return startTestServer(env);
}

const execFileAsync = promisify(execFile);
const ADMIN = { email: 'renewal-admin@example.com', password: 'admin-password-1' };
const HOUR = 3_600_000;

/** openssl verify of a certificate against its CA (both PEM text): must succeed. */
function verifies(work: Workdir, name: string, cert: string, ca: string): void {
  const certFile = work.file(`${name}.crt`, cert);
  const caFile = work.file(`${name}-ca.crt`, ca);
  const r = opensslResult('verify', '-CAfile', caFile, '-purpose', 'sslclient', certFile);
  assert.ok(r.ok, r.output);
  assert.match(r.output, /: OK/);
}

/** The operator's renewal, both PKIs: what each describe block runs against its server. */
function renewalSuite(
  name: string,
  env: () => Record<string, string>,
  options: { vault?: () => FakeVault } = {},
) {
  describe(name, () => {
    const fixture = withServer(env, { start: startServer });
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
    after(() => work.remove());

    const issue = async (token: string, body: Record<string, unknown>) => {
      const reply = await request('POST', '/certs', { token, body });
      assert.equal(reply.status, 201, reply.text);
      return reply.json;
    };
    const renew = (token: string, serial: string, body?: unknown) =>
      request(
        'POST',
        `/certs/${serial}/renew`,
        body === undefined ? { token, contentType: null } : { token, body },
      );

    it('renews with a new key by default (the old key type), 201 in the shape of POST /certs; openssl verifies it', async () => {
      const thing = await createThing(request, alice);
      const old = await issue(alice, { thing_id: thing.id, key_type: 'ec', valid: '24h' });
      const reply = await renew(alice, old.cert_serial);
      assert.equal(reply.status, 201, reply.text);
      const j = reply.json;
      assert.deepEqual(Object.keys(j).sort(), Object.keys(old).sort());
      assert.equal(j.thing_id, thing.id);
      assert.notEqual(j.cert_serial, old.cert_serial);
      assert.match(j.cert_key, /PRIVATE KEY/);
      assert.match(
        openssl('x509', '-in', work.file('r1.crt', j.cert), '-noout', '-text'),
        /Public Key Algorithm: id-ecPublicKey/,
      );
      verifies(work, 'r1', j.cert, j.ca_cert);
      // The old one stays valid: both listed, neither revoked.
      const list = await request('GET', `/certs/${thing.id}`, { token: alice });
      assert.equal(list.status, 201, list.text);
      assert.equal(list.json.total, 2);
      assert.ok(list.json.certs.every((c: any) => c.revoked === undefined));
    });

    it('renews with key parameters, a validity, and a CSR (no key returned); the serial in any hex form', async () => {
      const thing = await createThing(request, alice);
      const old = await issue(alice, { thing_id: thing.id });
      const rsa = await renew(alice, old.cert_serial, { key_type: 'rsa', key_bits: 3072, valid: '48h' });
      assert.equal(rsa.status, 201, rsa.text);
      const text = openssl('x509', '-in', work.file('r2.crt', rsa.json.cert), '-noout', '-text');
      assert.match(text, /Public-Key: \(3072 bit\)/);
      const expire = Date.parse(rsa.json.expire);
      assert.ok(Math.abs(expire - (Date.now() + 48 * HOUR)) < 5 * 60_000, rsa.json.expire);
      verifies(work, 'r2', rsa.json.cert, rsa.json.ca_cert);

      const csr = ecCsr(work, 'renew-csr');
      const upper = opensslSerial(rsa.json.cert_serial);
      const signed = await renew(alice, upper, { csr: csr.pem });
      assert.equal(signed.status, 201, signed.text);
      assert.equal(signed.json.cert_key, undefined);
      assert.equal(signed.json.client_key, undefined);
      const certFile = work.file('r3.crt', signed.json.cert);
      assert.equal(
        openssl('x509', '-in', certFile, '-noout', '-pubkey').trim(),
        openssl('req', '-in', csr.csr, '-noout', '-pubkey').trim(),
      );
      verifies(work, 'r3', signed.json.cert, signed.json.ca_cert);
      assertError(await renew(alice, old.cert_serial, { csr: 'not a csr' }), 400);
      assertError(await renew(alice, old.cert_serial, { key_type: 'dsa' }), 400);
    });

    it('revoke_old revokes the old certificate at once: GET /certs/{thingId} and the CRL show it; renewing it again is 409', async () => {
      const thing = await createThing(request, alice);
      const old = await issue(alice, { thing_id: thing.id, key_type: 'ec' });
      const reply = await renew(alice, old.cert_serial, { revoke_old: true });
      assert.equal(reply.status, 201, reply.text);
      const list = await request('GET', `/certs/${thing.id}`, { token: alice });
      const byserial = new Map(list.json.certs.map((c: any) => [c.cert_serial, c]));
      assert.equal((byserial.get(old.cert_serial) as any).revoked, true);
      assert.equal((byserial.get(reply.json.cert_serial) as any).revoked, undefined);
      const crl = await request('GET', '/certs/crl');
      assert.equal(crl.status, 200, crl.text);
      const crlText = openssl('crl', '-in', work.file('r4.crl', crl.text), '-noout', '-text');
      assert.ok(crlText.includes(opensslSerial(old.cert_serial)), crlText);
      assert.ok(!crlText.includes(opensslSerial(reply.json.cert_serial)));
      if (options.vault) assert.ok(options.vault().revoked.has(old.cert_serial));
      assertError(await renew(alice, old.cert_serial), 409);
    });

    it('an unknown serial, or another owner’s, is 404; no token is 403; errors are JSON', async () => {
      const thing = await createThing(request, alice);
      const old = await issue(alice, { thing_id: thing.id, key_type: 'ec' });
      assertError(await renew(bob, old.cert_serial), 404);
      assertError(await renew(alice, '01:02:03:04:05:06:07:08'), 404);
      assertError(await request('POST', `/certs/${old.cert_serial}/renew`, { contentType: null }), 403);
      assertError(await renew(alice, old.cert_serial, { csr: 7 }), 400);
    });

    it('GET and DELETE /certs/{thingId} keep their meaning beside /certs/{serial}/renew', async () => {
      const thing = await createThing(request, alice);
      const old = await issue(alice, { thing_id: thing.id, key_type: 'ec' });
      const renewed = await renew(alice, old.cert_serial);
      assert.equal(renewed.status, 201, renewed.text);
      const list = await request('GET', `/certs/${thing.id}`, { token: alice });
      assert.equal(list.status, 201);
      assert.equal(list.json.total, 2);
      const revoked = await request('DELETE', `/certs/${thing.id}`, { token: alice });
      assert.equal(revoked.status, 200, revoked.text);
      const after = await request('GET', `/certs/${thing.id}`, { token: alice });
      assert.ok(after.json.certs.every((c: any) => c.revoked === true));
      // A thing id where a serial is expected is simply not a certificate.
      assertError(await renew(alice, thing.id), 404);
      assertError(await renew(alice, renewed.json.cert_serial), 409);
    });

    it("updates the thing's bootstrap config when it carries certificates, so the next fetch returns the new one", async () => {
      const thing = await createThing(request, alice);
      const old = await issue(alice, { thing_id: thing.id, key_type: 'ec' });
      const externalId = `ext-${thing.id}`;
      const add = await request('POST', '/things/configs', {
        token: alice,
        body: {
          thing_id: thing.id,
          external_id: externalId,
          external_key: 'ext-key',
          channels: [],
          client_cert: old.cert,
          client_key: old.cert_key,
          ca_cert: old.ca_cert,
        },
      });
      assert.equal(add.status, 201, add.text);
      const fetchConfig = async () => {
        const res = await recordingFetch(`${fixture.server.url}/things/bootstrap/${externalId}`, {
          headers: { authorization: 'ext-key' },
        });
        assert.equal(res.status, 200);
        return (await res.json()) as any;
      };
      assert.equal((await fetchConfig()).client_cert, old.cert);
      const renewed = await renew(alice, old.cert_serial);
      assert.equal(renewed.status, 201, renewed.text);
      const fetched = await fetchConfig();
      assert.equal(fetched.client_cert, renewed.json.cert);
      assert.equal(fetched.client_key, renewed.json.cert_key);

      // A config without certificates is left without them.
      const bare = await createThing(request, alice);
      const bareCert = await issue(alice, { thing_id: bare.id, key_type: 'ec' });
      const addBare = await request('POST', '/things/configs', {
        token: alice,
        body: { thing_id: bare.id, external_id: `ext-${bare.id}`, external_key: 'k2', channels: [] },
      });
      assert.equal(addBare.status, 201, addBare.text);
      assert.equal((await renew(alice, bareCert.cert_serial)).status, 201);
      const view = await request('GET', `/things/configs/${bare.id}`, { token: alice });
      assert.equal(view.json.client_cert ?? '', '');
    });
  });
}

describe(`certificate renewal (${dialect})`, () => {
  renewalSuite('development CA', () => ({}));

  let vault: FakeVault;
  before(async () => {
    vault = await startVault();
  });
  after(async () => vault?.close());
  renewalSuite(
    'Vault',
    () => ({
      MF_CERTS_VAULT_HOST: vault.url,
      MF_VAULT_PKI_INT_PATH: vault.pkiPath,
      MF_VAULT_CA_ROLE_NAME: vault.role,
      MF_VAULT_TOKEN: vault.token,
    }),
    { vault: () => vault },
  );
});

describe(`certificates about to expire (${dialect})`, () => {
  const fixture = withServer(
    { MF_USERS_ADMIN_EMAIL: ADMIN.email, MF_USERS_ADMIN_PASSWORD: ADMIN.password },
    {
      start: startServer,
    },
  );
  const { request } = fixture;

  it('lists the owner’s valid certificates expiring within the window, soonest first, paged; the admin sees all; metrics count them', async () => {
    const alice = (await userToken(request)).token;
    const bob = (await userToken(request)).token;
    const login = await request('POST', '/tokens', { body: ADMIN });
    assert.equal(login.status, 201, login.text);
    const admin = login.json.token as string;
    const thing = await createThing(request, alice);
    const bobThing = await createThing(request, bob);
    const issue = async (token: string, thingId: string, valid: string) => {
      const r = await request('POST', '/certs', {
        token,
        body: { thing_id: thingId, key_type: 'ec', valid },
      });
      assert.equal(r.status, 201, r.text);
      return r.json;
    };
    const in100 = await issue(alice, thing.id, '100h');
    const in24 = await issue(alice, thing.id, '24h');
    const in500 = await issue(alice, thing.id, '500h');
    const in2000 = await issue(alice, thing.id, '2000h');
    const bob48 = await issue(bob, bobThing.id, '48h');
    // A revoked one is not listed.
    const gone = await issue(alice, thing.id, '10h');
    assert.equal(
      (
        await request('POST', `/certs/${gone.cert_serial}/renew`, {
          token: alice,
          body: { revoke_old: true, valid: '600h' },
        })
      ).status,
      201,
    );
    const renewedOfGone = (await request('GET', `/certs?expiring_within=2h`, { token: alice })).json;
    assert.equal(renewedOfGone.total, 0);

    const list = await request('GET', '/certs?expiring_within=720h', { token: alice });
    assert.equal(list.status, 200, list.text);
    assert.equal(list.json.total, 4); // 24h, 100h, 500h and the renewal of `gone` (600h)
    const serials = list.json.certs.map((c: any) => c.cert_serial);
    assert.deepEqual(
      serials.slice(0, 3),
      [in24.cert_serial, in100.cert_serial, in500.cert_serial].slice(0, 3),
    );
    assert.ok(!serials.includes(gone.cert_serial));
    assert.ok(!serials.includes(in2000.cert_serial));
    assert.ok(!serials.includes(bob48.cert_serial));
    assert.deepEqual(Object.keys(list.json.certs[0]).sort(), [
      'cert_serial',
      'expire',
      'key_type',
      'thing_id',
    ]);
    const page2 = await request('GET', '/certs?expiring_within=720h&offset=1&limit=1', { token: alice });
    assert.deepEqual(
      { total: page2.json.total, offset: page2.json.offset, limit: page2.json.limit },
      { total: 4, offset: 1, limit: 1 },
    );
    assert.equal(page2.json.certs[0].cert_serial, in100.cert_serial);

    const all = await request('GET', '/certs?expiring_within=168h&limit=100', { token: admin });
    assert.equal(all.status, 200, all.text);
    assert.deepEqual(
      all.json.certs.map((c: any) => c.cert_serial),
      [in24.cert_serial, bob48.cert_serial, in100.cert_serial],
    );
    const month = await request('GET', '/certs?expiring_within=720h&limit=100', { token: admin });

    assertError(await request('GET', '/certs?expiring_within=soon', { token: alice }), 400);
    assertError(await request('GET', '/certs?expiring_within=720h&limit=101', { token: alice }), 400);
    assertError(await request('GET', '/certs?expiring_within=720h'), 403);

    const metrics = await request('GET', '/metrics');
    assert.equal(metrics.status, 200);
    const gauge = (within: string) =>
      Number(
        new RegExp(`^tethys_certs_expiring\\{within="${within}"\\} (\\d+)$`, 'm').exec(metrics.text)?.[1],
      );
    assert.equal(gauge('7d'), all.json.total);
    assert.equal(gauge('30d'), month.json.total);
    assert.equal(gauge('7d'), 3);
  });
});

/** curl over real mTLS (a child process: the server answers in this one): the device's certificate and key (or none), the server's CA. */
/** Device renewal over the HTTPS listener, authenticated by the device's current client certificate. */
function deviceSuite(name: string, env: () => Record<string, string>) {
  describe(name, () => {
    let work: Workdir;
    let server: TestServer;
    let request: ReturnType<typeof client>;
    let owner: string;
    let serverCa: string;
    let base: string;

    before(async () => {
      work = workdir();
      serverCa = work.path('https.crt');
      selfSigned(work, 'https', '/CN=127.0.0.1', ['-addext', 'subjectAltName=IP:127.0.0.1']);
      server = await startServer({
        ...env(),
        TETHYS_TLS_CERT: serverCa,
        TETHYS_TLS_KEY: work.path('https.key'),
      });
      const ca = fs.readFileSync(serverCa);
      base = server.url.replace(/^http:/, 'https:');
      request = client(base, tlsFetch(ca));
      owner = (await userToken(request)).token;
    });
    after(async () => {
      await server?.close();
      work?.remove();
    });

    /** A thing with a certificate (and key) issued by the operator, saved as files. */
    async function device(tag: string, valid = '24h') {
      const thing = await createThing(request, owner);
      const reply = await request('POST', '/certs', {
        token: owner,
        body: { thing_id: thing.id, key_type: 'ec', valid },
      });
      assert.equal(reply.status, 201, reply.text);
      return {
        thing,
        issued: reply.json,
        files: {
          cert: work.file(`${tag}.crt`, reply.json.cert),
          key: work.file(`${tag}.key`, reply.json.cert_key),
        },
      };
    }

    it('renews with a CSR over mTLS (curl); openssl verifies the new certificate; the old one keeps working', async () => {
      const d = await device('dev1');
      const csr = ecCsr(work, 'dev1-next');
      const first = await curlRenew(base, serverCa, { csr: csr.pem, valid: '48h' }, d.files);
      assert.equal(first.status, 201, JSON.stringify(first.json));
      assert.equal(first.json.thing_id, d.thing.id);
      assert.equal(first.json.cert_key, undefined);
      assert.notEqual(first.json.cert_serial, d.issued.cert_serial);
      verifies(work, 'dev1-new', first.json.cert, first.json.ca_cert);
      const certFile = work.file('dev1-new.crt', first.json.cert);
      assert.equal(
        openssl('x509', '-in', certFile, '-noout', '-pubkey').trim(),
        openssl('req', '-in', csr.csr, '-noout', '-pubkey').trim(),
      );
      // The old certificate still authenticates; so does the new one (with the CSR's key).
      const again = await curlRenew(base, serverCa, { csr: ecCsr(work, 'dev1-b').pem }, d.files);
      assert.equal(again.status, 201, JSON.stringify(again.json));
      const byNew = await curlRenew(
        base,
        serverCa,
        { csr: ecCsr(work, 'dev1-c').pem },
        { cert: certFile, key: csr.key },
      );
      assert.equal(byNew.status, 201, JSON.stringify(byNew.json));
      const list = await request('GET', `/certs/${d.thing.id}?limit=100`, { token: owner });
      assert.equal(list.json.total, 4);
      assert.ok(list.json.certs.every((c: any) => c.revoked === undefined));
    });

    it('revoke_old: the old certificate is revoked (GET /certs/{thingId}, the CRL) and no longer authenticates', async () => {
      const d = await device('dev2');
      const reply = await curlRenew(
        base,
        serverCa,
        { csr: ecCsr(work, 'dev2-next').pem, revoke_old: true },
        d.files,
      );
      assert.equal(reply.status, 201, JSON.stringify(reply.json));
      const list = await request('GET', `/certs/${d.thing.id}`, { token: owner });
      const old = list.json.certs.find((c: any) => c.cert_serial === d.issued.cert_serial);
      assert.equal(old.revoked, true);
      const crl = await request('GET', '/certs/crl');
      const crlText = openssl('crl', '-in', work.file('dev2.crl', crl.text), '-noout', '-text');
      assert.ok(crlText.includes(opensslSerial(d.issued.cert_serial)));
      const refused = await curlRenew(base, serverCa, { csr: ecCsr(work, 'dev2-again').pem }, d.files);
      assert.equal(refused.status, 401);
      assert.equal(typeof refused.json.error, 'string');
    });

    it('no client certificate, one from another CA, or an expired one: 401 JSON; a missing CSR: 400', async () => {
      const csr = ecCsr(work, 'nobody').pem;
      const none = await curlRenew(base, serverCa, { csr });
      assert.equal(none.status, 401);
      assert.equal(typeof none.json.error, 'string');
      // A self-made certificate with a real thing's id and an issued serial is still refused.
      const d = await device('dev3');
      const forged = selfSigned(work, 'forged', `/CN=${d.thing.id}`, [
        '-set_serial',
        `0x${d.issued.cert_serial.replace(/:/g, '')}`,
      ]);
      const other = await curlRenew(base, serverCa, { csr }, forged);
      assert.equal(other.status, 401);
      const noCsr = await curlRenew(base, serverCa, {}, d.files);
      assert.equal(noCsr.status, 400);
      const short = await device('dev4', '2s');
      await clockPast(Date.parse(short.issued.expire) + 1000);
      const expired = await curlRenew(base, serverCa, { csr }, short.files);
      assert.equal(expired.status, 401);
    });

    it('EST: cacerts is the CA as base64 PKCS#7; simplereenroll takes a base64 PKCS#10 over mTLS and answers the certificate (curl, openssl)', async () => {
      const curl = async (file: string, args: string[]) => {
        const { stdout } = await execFileAsync('curl', [
          '-sS',
          '--max-time',
          '20',
          '--cacert',
          serverCa,
          '-o',
          file,
          '-w',
          '%{http_code} %{content_type}',
          ...args,
        ]);
        return stdout;
      };
      /** base64 PKCS#7 certs-only → the PEM certificates openssl finds in it. */
      const certsOf = (b64File: string, name: string) => {
        const der = work.file(`${name}.p7b`, Buffer.from(fs.readFileSync(b64File, 'utf8'), 'base64'));
        return openssl('pkcs7', '-inform', 'DER', '-in', der, '-print_certs');
      };
      const cacerts = await curl(work.path('cacerts.b64'), [`${base}/.well-known/est/cacerts`]);
      assert.match(cacerts, /^200 application\/pkcs7-mime; smime-type=certs-only/);
      const d = await device('est1');
      const caPem = certsOf(work.path('cacerts.b64'), 'cacerts');
      assert.equal(
        openssl('x509', '-in', work.file('est-ca.crt', caPem), '-noout', '-fingerprint', '-sha256'),
        openssl(
          'x509',
          '-in',
          work.file('est-issued-ca.crt', d.issued.ca_cert),
          '-noout',
          '-fingerprint',
          '-sha256',
        ),
      );

      const csr = ecCsr(work, 'est1-next');
      openssl('req', '-in', csr.csr, '-outform', 'DER', '-out', work.path('est1.der'));
      const b64 = work.file('est1.b64', `${fs.readFileSync(work.path('est1.der')).toString('base64')}\n`);
      const enroll = (device?: { cert: string; key: string }) =>
        curl(work.path('enrolled.b64'), [
          ...(device ? ['--cert', device.cert, '--key', device.key] : []),
          '-H',
          'content-type: application/pkcs10',
          '--data-binary',
          `@${b64}`,
          `${base}/.well-known/est/simplereenroll`,
        ]);
      assert.match(await enroll(d.files), /^200 application\/pkcs7-mime/);
      const issued = certsOf(work.path('enrolled.b64'), 'enrolled');
      const certFile = work.file('est1-new.crt', issued);
      const verified = opensslResult(
        'verify',
        '-CAfile',
        work.path('est-ca.crt'),
        '-purpose',
        'sslclient',
        certFile,
      );
      assert.ok(verified.ok, verified.output);
      assert.equal(
        openssl('x509', '-in', certFile, '-noout', '-pubkey').trim(),
        openssl('req', '-in', csr.csr, '-noout', '-pubkey').trim(),
      );
      const list = await request('GET', `/certs/${d.thing.id}`, { token: owner });
      assert.equal(list.json.total, 2);
      // The device is the actor of its EST renewal (audit trail), as over POST /certs/renew.
      const renewals = async () =>
        (await request('GET', `/things/${d.thing.id}/events?action=cert.renew`, { token: owner })).json
          .events as {
          actor: string;
          entity_id: string;
          related_id: string;
          details: Record<string, unknown>;
        }[];
      const [renewal, ...more] = await renewals();
      assert.equal(more.length, 0);
      assert.equal(renewal?.actor, `thing:${d.thing.id}`);
      assert.equal(renewal.related_id, d.thing.id);
      assert.equal(renewal.details.old_serial, d.issued.cert_serial);
      // The certificate answered is the one recorded (serials as hex bytes with colons).
      const hex = (serial: string) => serial.replaceAll(':', '').toLowerCase().replace(/^0+/, '');
      assert.equal(
        hex(renewal.entity_id),
        hex(
          openssl('x509', '-in', certFile, '-noout', '-serial')
            .trim()
            .replace(/^serial=/, ''),
        ),
      );
      assert.match(await enroll(), /^401 application\/json/);
      assert.equal((await renewals()).length, 1, 'a refused renewal records nothing');
    });

    it("updates the bootstrap config that carries the thing's certificate", async () => {
      const d = await device('dev5');
      const externalId = `ext-${d.thing.id}`;
      const add = await request('POST', '/things/configs', {
        token: owner,
        body: {
          thing_id: d.thing.id,
          external_id: externalId,
          external_key: 'ext-key',
          channels: [],
          client_cert: d.issued.cert,
          client_key: d.issued.cert_key,
          ca_cert: d.issued.ca_cert,
        },
      });
      assert.equal(add.status, 201, add.text);
      const reply = await curlRenew(base, serverCa, { csr: ecCsr(work, 'dev5-next').pem }, d.files);
      assert.equal(reply.status, 201, JSON.stringify(reply.json));
      const fetched = await request('GET', `/things/bootstrap/${externalId}`, {
        headers: { authorization: 'ext-key' },
      });
      assert.equal(fetched.status, 200, fetched.text);
      assert.equal(fetched.json.client_cert, reply.json.cert);
      // The server never had the new key: the config carries none.
      assert.equal(fetched.json.client_key ?? '', '');
    });
  });
}

describe(`device renewal over mTLS (${dialect})`, () => {
  deviceSuite('development CA', () => ({}));
  let vault: FakeVault;
  before(async () => {
    vault = await startVault();
  });
  after(async () => vault?.close());
  deviceSuite('Vault', () => ({
    MF_CERTS_VAULT_HOST: vault.url,
    MF_VAULT_PKI_INT_PATH: vault.pkiPath,
    MF_VAULT_CA_ROLE_NAME: vault.role,
    MF_VAULT_TOKEN: vault.token,
  }));
});

describe(`cli: certs renew (${dialect})`, () => {
  const fixture = withServer({}, { start: startServer });
  const { request } = fixture;
  let work: Workdir;
  before(() => {
    work = workdir();
  });
  after(() => work.remove());

  it('renews one certificate by serial (--key-type, --revoke-old, --out; --csr) and every one expiring soon (--expiring) with progress', async () => {
    const token = (await userToken(request)).token;
    const tethys = (args: string[]) => runCli(args, { TETHYS_URL: fixture.server.url, TETHYS_TOKEN: token });
    const issue = async (thingId: string, valid: string) => {
      const r = await request('POST', '/certs', {
        token,
        body: { thing_id: thingId, key_type: 'ec', valid },
      });
      assert.equal(r.status, 201, r.text);
      return r.json;
    };
    const thing = await createThing(request, token);
    const old = await issue(thing.id, '24h');
    const out = work.path('renewed');
    const one = await tethys([
      'certs',
      'renew',
      old.cert_serial,
      '--key-type',
      'rsa',
      '--revoke-old',
      '--out',
      out,
    ]);
    assert.equal(one.code, 0, one.stderr);
    assert.equal(one.json.thing_id, thing.id);
    assert.equal(one.json.cert_key, undefined);
    const verified = opensslResult('verify', '-CAfile', `${out}/ca.crt`, `${out}/${thing.id}.crt`);
    assert.ok(verified.ok, verified.output);
    assert.match(openssl('x509', '-in', `${out}/${thing.id}.crt`, '-noout', '-text'), /rsaEncryption/);
    const list = await request('GET', `/certs/${thing.id}`, { token });
    assert.equal(list.json.certs.find((c: any) => c.cert_serial === old.cert_serial).revoked, true);

    const csr = ecCsr(work, 'cli-device');
    const bycsr = await tethys(['certs', 'renew', one.json.cert_serial, '--csr', csr.csr]);
    assert.equal(bycsr.code, 0, bycsr.stderr);
    assert.equal(bycsr.json.cert_key, undefined);
    verifies(work, 'cli-csr', bycsr.json.cert, bycsr.json.ca_cert);

    // The bulk renewal: three within 720h (besides the renewals above, which are longer), one beyond.
    const others = await Promise.all([1, 2, 3].map(() => createThing(request, token)));
    const soon = await Promise.all(others.map((t, i) => issue(t.id, `${(i + 1) * 100}h`)));
    await issue(others[0]!.id, '2000h');
    const bulk = await tethys(['certs', 'renew', '--expiring', '720h', '--valid', '4000h']);
    assert.equal(bulk.code, 0, bulk.stderr);
    assert.deepEqual(
      bulk.json.renewed.map((r: any) => r.old_serial),
      soon.map((c) => c.cert_serial),
    );
    assert.deepEqual(bulk.json.failed, []);
    assert.match(bulk.stderr, /renewed 3\/3/);
    for (const [i, r] of bulk.json.renewed.entries()) {
      assert.equal(r.cert.thing_id, others[i]!.id);
      verifies(work, `bulk-${i}`, r.cert.cert, r.cert.ca_cert);
    }
    const left = await request('GET', '/certs?expiring_within=720h', { token });
    assert.equal(left.json.total, 3, 'the old ones stay valid without --revoke-old');

    const usage = await tethys(['certs', 'renew']);
    assert.equal(usage.code, 2, usage.stderr);
    const both = await tethys(['certs', 'renew', '--expiring', '720h', '--csr', csr.csr]);
    assert.equal(both.code, 2, both.stderr);
  });
});
