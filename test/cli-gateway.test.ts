import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { createChannels, createThing, ids, listAll, sorted } from './helpers/entities.js';
import {
  certPublicKey,
  ecRequest,
  keyPublicKey,
  openssl,
  opensslResult,
  opensslSerial,
} from './helpers/openssl.js';
import { type CliRun, runCli as runTethys } from './helpers/process.js';
import { dialect, userToken, withServer } from './helpers/server.js';

/**
 * The gateway commands of the CLI (`provision`, `bootstrap`, `certs`) run as child
 * processes against a real server, with openssl as the judge of the files they write.
 */

/** MF_BOOTSTRAP_ENCRYPT_KEY of the server: 64 hex digits, AES-256. */
const ENCRYPT_KEY = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const uid = () => crypto.randomBytes(5).toString('hex');

type Run = CliRun;

/** No key of the caller's environment leaks into the commands: each test gives its own. */
const runCli = (args: string[], env: Record<string, string | undefined>) =>
  runTethys(args, { TETHYS_BOOTSTRAP_ENCRYPT_KEY: '', ...env });

const mode = (file: string) => fs.statSync(file).mode & 0o777;

/** Exit 2, one `error:` line on stderr (plus commander's hint), nothing on stdout. */
function assertUsage(r: Run, pattern?: RegExp) {
  assert.equal(r.code, 2, `${r.stdout}${r.stderr}`);
  assert.match(r.stderr, /^error: /);
  assert.equal(r.stdout, '');
  if (pattern) assert.match(r.stderr, pattern);
}

describe(`cli gateway commands (${dialect})`, () => {
  const fixture = withServer(
    {
      MF_PROVISION_X509_PROVISIONING: 'true',
      MF_PROVISION_CERTS_RSA_BITS: '2048',
      MF_BOOTSTRAP_ENCRYPT_KEY: ENCRYPT_KEY,
    },
    {
      beforeClose: async () => {
        fs.rmSync(dir, { recursive: true, force: true });
      },
    },
  );
  const { request } = fixture;
  let token: string;
  let dir: string;

  const tethys = (args: string[], env: Record<string, string | undefined> = {}) =>
    runCli(args, { TETHYS_URL: fixture.server.url, TETHYS_TOKEN: token, ...env });

  const thingChannels = async (thingId: string) =>
    sorted(ids(await listAll(request, token, `/things/${thingId}/channels`, 'channels')));

  before(async () => {
    ({ token } = await userToken(request));
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tethys-cli-gw-'));
  });

  it('provision --out writes each thing’s certificate and key and the CA; the gateway can fetch its config', async () => {
    const out = path.join(dir, 'provisioned', 'certs');
    const externalId = `gw-${uid()}`;
    const notAFolder = path.join(dir, 'plain-file');
    fs.writeFileSync(notAFolder, 'x');
    const [r, plain, noCredentials, badOut] = await Promise.all([
      tethys(['provision', externalId, 'gw-secret', '--name', 'edge', '--out', out]),
      tethys(['provision', `gw-${uid()}`, 'k2']),
      tethys(['provision', `gw-${uid()}`, 'k3'], { TETHYS_TOKEN: '' }),
      tethys(['provision', `gw-${uid()}`, 'k4', '--out', notAFolder]),
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const { things, channels, client_cert, ca_cert, whitelisted } = r.json;
    assert.equal(things.length, 1);
    const [thing] = things;
    assert.match(thing.id, UUID);
    assert.equal(thing.name, 'edge');
    assert.equal(channels.length, 2);
    assert.deepEqual(whitelisted, { [thing.id]: true });
    assert.deepEqual(Object.keys(client_cert), [thing.id]);
    assert.equal(r.json.client_key, undefined, 'the private keys went to files, not to stdout');

    const crt = path.join(out, `${thing.id}.crt`);
    const key = path.join(out, `${thing.id}.key`);
    const ca = path.join(out, 'ca.crt');
    assert.deepEqual(fs.readdirSync(out).sort(), ['ca.crt', `${thing.id}.crt`, `${thing.id}.key`].sort());
    assert.equal(mode(key), 0o600);
    assert.equal(mode(out), 0o700, 'a folder the CLI makes is private');
    assert.equal(fs.readFileSync(crt, 'utf8').trim(), client_cert[thing.id].trim());
    assert.equal(fs.readFileSync(ca, 'utf8').trim(), ca_cert.trim());
    assert.match(openssl('x509', '-in', crt, '-noout', '-subject'), new RegExp(`CN ?= ?${thing.id}`));
    const verified = opensslResult('verify', '-CAfile', ca, crt);
    assert.ok(verified.ok, verified.output);
    assert.equal(certPublicKey(crt), keyPublicKey(key), 'the key belongs to the certificate');

    const fetched = await tethys(['bootstrap', 'fetch', externalId, 'gw-secret']);
    assert.equal(fetched.code, 0, fetched.stderr);
    assert.equal(fetched.json.mainflux_id, thing.id);
    assert.equal(fetched.json.mainflux_key, thing.key);
    assert.deepEqual(ids(fetched.json.mainflux_channels), ids(channels));
    assert.equal(fetched.json.client_cert, client_cert[thing.id]);

    assert.equal(plain.code, 0, plain.stderr);
    const plainId = plain.json.things[0].id;
    assert.match(
      plain.json.client_key[plainId],
      /^-----BEGIN (RSA |EC )?PRIVATE KEY-----/,
      'without --out: all printed',
    );

    // No Authorization and no credentials configured on the fixture.server.
    assert.equal(noCredentials.code, 1);
    assert.match(noCredentials.stderr, /^error: 401 .* \(POST \/mapping\)\n$/);
    assertUsage(badOut, /plain-file: not a folder/);
  });

  it('bootstrap create, get, list, update, whitelist, connections, fetch (plain and secure), remove', async () => {
    const [c1, c2, c3] = ids(
      await createChannels(request, token, [{ name: 'ctl' }, { name: 'data' }, { name: 'x' }]),
    );
    const externalId = `aa:bb:${uid()}`;
    const created = await tethys([
      'bootstrap',
      'create',
      JSON.stringify({
        external_id: externalId,
        external_key: 'ext-key',
        name: 'gateway one',
        channels: [c1, c2],
        content: { agent: { log: { level: 'info' } } },
      }),
    ]);
    assert.equal(created.code, 0, created.stderr);
    const config = created.json;
    const id = config.mainflux_id;
    assert.match(id, UUID);
    assert.match(config.mainflux_key, UUID);
    assert.equal(config.external_id, externalId);
    assert.equal(config.external_key, 'ext-key');
    assert.equal(config.name, 'gateway one');
    assert.equal(
      config.content,
      '{"agent":{"log":{"level":"info"}}}',
      'an object content is sent as its JSON text',
    );
    assert.equal(config.state, 0);
    assert.deepEqual(ids(config.mainflux_channels), [c1, c2]);

    const [got, byExternal, byStateName, none] = await Promise.all([
      tethys(['bootstrap', 'get', id]),
      tethys(['bootstrap', 'list', '--external-id', externalId]),
      tethys(['bootstrap', 'list', '--state', '0', '--name', 'GATEWAY O', '--limit', '5', '--offset', '0']),
      tethys(['bootstrap', 'list', '--state', '1', '--external-id', externalId]),
    ]);
    assert.deepEqual(got.json, config);
    assert.equal(byExternal.json.total, 1);
    assert.equal(byExternal.json.configs[0].mainflux_id, id);
    assert.deepEqual(ids(byStateName.json.configs.map((c: any) => ({ id: c.mainflux_id }))), [id]);
    assert.equal(byStateName.json.limit, 5);
    assert.equal(none.json.total, 0);

    const updated = await tethys(['bootstrap', 'update', id, '{"name":"gw 1","content":"{}"}']);
    assert.equal(updated.code, 0, updated.stderr);
    assert.equal(updated.json.name, 'gw 1');
    assert.equal(updated.json.content, '{}');

    const on = await tethys(['bootstrap', 'whitelist', id]);
    assert.equal(on.code, 0, on.stderr);
    assert.equal(on.json.state, 1);
    assert.deepEqual(
      await thingChannels(id),
      sorted([c1, c2]),
      'whitelisted: connected to the config channels',
    );

    const moved = await tethys(['bootstrap', 'connections', id, `${c2}, ${c3}`]);
    assert.equal(moved.code, 0, moved.stderr);
    assert.deepEqual(sorted(ids(moved.json.mainflux_channels)), sorted([c2, c3]));
    assert.deepEqual(await thingChannels(id), sorted([c2, c3]), 'an active config: connections follow');

    const [plain, secure, secureByEnv, sealed] = await Promise.all([
      tethys(['bootstrap', 'fetch', externalId, 'ext-key'], { TETHYS_TOKEN: 'not-used' }),
      tethys(['bootstrap', 'fetch', externalId, 'ext-key', '--secure', '--encrypt-key', ENCRYPT_KEY]),
      tethys(['bootstrap', 'fetch', externalId, 'ext-key', '--secure'], {
        TETHYS_BOOTSTRAP_ENCRYPT_KEY: ENCRYPT_KEY.toUpperCase(),
      }),
      tethys(['bootstrap', 'fetch', externalId, 'ext-key', '--sealed']),
    ]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(plain.json.mainflux_id, id);
    assert.equal(plain.json.mainflux_key, config.mainflux_key);
    assert.equal(plain.json.content, '{}');
    assert.deepEqual(sorted(ids(plain.json.mainflux_channels)), sorted([c2, c3]));
    assert.equal(secure.code, 0, secure.stderr);
    assert.deepEqual(secure.json, plain.json, 'the secure fetch decrypts to the same config');
    assert.deepEqual(secureByEnv.json, plain.json);
    assert.equal(sealed.code, 0, sealed.stderr);
    assert.equal(sealed.stdout, plain.stdout, 'the sealed fetch opens to the same config, printed the same');

    const off = await tethys(['bootstrap', 'whitelist', id, '--off']);
    assert.equal(off.code, 0, off.stderr);
    assert.equal(off.json.state, 0);
    assert.deepEqual(await thingChannels(id), [], 'deactivated: disconnected');

    const [wrongKey, otherAesKey, noAesKey, badAesKey, sealedWrongKey, sealedAndSecure] = await Promise.all([
      tethys(['bootstrap', 'fetch', externalId, 'wrong']),
      tethys(['bootstrap', 'fetch', externalId, 'ext-key', '--secure', '--encrypt-key', '0'.repeat(64)]),
      tethys(['bootstrap', 'fetch', externalId, 'ext-key', '--secure']),
      tethys(['bootstrap', 'fetch', externalId, 'ext-key', '--secure', '--encrypt-key', 'abc']),
      tethys(['bootstrap', 'fetch', externalId, 'wrong', '--sealed']),
      tethys(['bootstrap', 'fetch', externalId, 'ext-key', '--sealed', '--secure']),
    ]);
    assert.equal(wrongKey.code, 1);
    assert.equal(
      wrongKey.stderr,
      `error: 404 failed to get bootstrap configuration for given external key (GET /things/bootstrap/${encodeURIComponent(externalId)})\n`,
    );
    assert.equal(otherAesKey.code, 1, 'the server cannot decrypt the key');
    assert.match(otherAesKey.stderr, /^error: 404 .*\(GET \/things\/bootstrap\/secure\/.+\)\n$/);
    assert.equal(otherAesKey.stdout, '');
    assertUsage(noAesKey, /--secure needs the server's key/);
    assertUsage(badAesKey, /hex digits/);
    assert.equal(sealedWrongKey.code, 1);
    assert.equal(
      sealedWrongKey.stderr,
      `error: 404 failed to get bootstrap configuration for given external key (GET /things/bootstrap/sealed/${encodeURIComponent(externalId)})\n`,
    );
    assertUsage(sealedAndSecure, /--sealed.*cannot be used with.*--secure/);

    const removed = await tethys(['bootstrap', 'remove', id]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(removed.stdout, '');
    const gone = await tethys(['bootstrap', 'get', id]);
    assert.equal(gone.code, 1);
    assert.equal(gone.stderr, `error: 404 non-existent entity (GET /things/configs/${id})\n`);
    assert.equal(gone.stdout, '');
    const thing = await request('GET', `/things/${id}`, { token });
    assert.equal(thing.status, 200, 'the thing stays');
  });

  it('bootstrap: bad JSON or arguments exit 2 and send nothing; failed requests exit 1', async () => {
    const own = (await userToken(request)).token;
    const tethys = (args: string[], env: Record<string, string | undefined> = {}) =>
      runCli(args, { TETHYS_URL: fixture.server.url, TETHYS_TOKEN: own, ...env });
    const configs = async () => (await request('GET', '/things/configs?limit=1', { token: own })).json.total;
    const missing = crypto.randomUUID();
    const runs = await Promise.all([
      tethys(['bootstrap', 'create', '{"external_id":"x",']),
      tethys(['bootstrap', 'create', '{"external_id":"x"}']),
      tethys(['bootstrap', 'create', '{"external_id":"x","external_key":"k","key":"y"}']),
      tethys(['bootstrap', 'create', '{"external_id":"x","external_key":"k","channels":"c1"}']),
      tethys(['bootstrap', 'connections', missing, `${missing},`]),
      tethys(['bootstrap', 'list', '--state', '2']),
      tethys(['bootstrap', 'get', missing], { TETHYS_TOKEN: '' }),
    ]);
    for (const r of runs) assertUsage(r);
    assert.match(runs[0]!.stderr, /not valid JSON/i);
    assert.match(runs[1]!.stderr, /"external_key" is required/);
    assert.match(runs[2]!.stderr, /unknown field "key"/i);
    assert.match(runs[3]!.stderr, /"channels" must be an array/);
    assert.match(runs[6]!.stderr, /needs a token/);
    assert.equal(await configs(), 0, 'nothing created');

    const [notFound, notFoundState, badChannel] = await Promise.all([
      tethys(['bootstrap', 'update', missing, '{"name":"x"}']),
      tethys(['bootstrap', 'whitelist', missing]),
      tethys([
        'bootstrap',
        'create',
        JSON.stringify({ external_id: uid(), external_key: 'k', channels: [missing] }),
      ]),
    ]);
    assert.equal(notFound.code, 1);
    assert.equal(notFound.stderr, `error: 404 non-existent entity (PUT /things/configs/${missing})\n`);
    assert.equal(notFoundState.code, 1);
    assert.equal(
      notFoundState.stderr,
      `error: 404 failed to change state of bootstrap configuration (PUT /things/state/${missing})\n`,
    );
    assert.equal(badChannel.code, 1);
    assert.match(badChannel.stderr, /^error: 400 .*\(POST \/things\/configs\)\n$/);
  });

  it('certs issue (EC, --out; CSR), list, revoke, crl', async () => {
    const thing = await createThing(request, token, { name: 'cam' });
    const out = path.join(dir, 'certs');
    const issued = await tethys([
      'certs',
      'issue',
      thing.id,
      '--key-type',
      'ec',
      '--valid',
      '720h',
      '--out',
      out,
    ]);
    assert.equal(issued.code, 0, issued.stderr);
    const j = issued.json;
    assert.equal(j.thing_id, thing.id);
    for (const field of ['cert_key', 'client_key', 'ClientKey'])
      assert.equal(j[field], undefined, `${field} left out`);
    assert.match(j.cert, /^-----BEGIN CERTIFICATE-----/);
    const crt = path.join(out, `${thing.id}.crt`);
    const key = path.join(out, `${thing.id}.key`);
    const ca = path.join(out, 'ca.crt');
    assert.equal(mode(key), 0o600);
    assert.match(fs.readFileSync(key, 'utf8'), /-----BEGIN (EC )?PRIVATE KEY-----/);
    const verified = opensslResult('verify', '-CAfile', ca, crt);
    assert.ok(verified.ok, verified.output);
    assert.match(verified.output, /: OK/);
    assert.equal(certPublicKey(crt), keyPublicKey(key));
    assert.match(openssl('x509', '-in', crt, '-noout', '-text'), /id-ecPublicKey/);

    // A request made by the device: only its public key travels, no key file is written.
    const csrKey = path.join(dir, 'device.key');
    const csr = path.join(dir, 'device.csr');
    ecRequest(csrKey, csr, '/CN=device');
    const csrOut = path.join(dir, 'csr-out');
    const [fromCsr, rsa] = await Promise.all([
      tethys(['certs', 'issue', thing.id, '--csr', csr, '--out', csrOut]),
      tethys(['certs', 'issue', thing.id, '--key-type', 'rsa', '--key-bits', '2048', '--valid', '24h']),
    ]);
    assert.equal(fromCsr.code, 0, fromCsr.stderr);
    assert.deepEqual(fs.readdirSync(csrOut).sort(), ['ca.crt', `${thing.id}.crt`].sort());
    assert.equal(certPublicKey(path.join(csrOut, `${thing.id}.crt`)), keyPublicKey(csrKey));
    assert.equal(rsa.code, 0, rsa.stderr);
    assert.match(rsa.json.cert_key, /-----BEGIN (RSA )?PRIVATE KEY-----/, 'without --out the key is printed');

    const list = await tethys(['certs', 'list', thing.id, '--limit', '100']);
    assert.equal(list.code, 0, list.stderr);
    assert.equal(list.json.total, 3);
    assert.ok(list.json.certs.some((c: any) => c.cert_serial === j.cert_serial));

    const revoked = await tethys(['certs', 'revoke', thing.id]);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.ok(!Number.isNaN(Date.parse(revoked.json.RevocationTime)));

    const pemFile = path.join(dir, 'crl.pem');
    const derFile = path.join(dir, 'crl.der');
    const [toFile, toStdout, der] = await Promise.all([
      tethys(['certs', 'crl', '--out', pemFile]),
      tethys(['certs', 'crl'], { TETHYS_TOKEN: '' }),
      tethys(['certs', 'crl', '--der', '--out', derFile]),
    ]);
    for (const r of [toFile, toStdout, der]) assert.equal(r.code, 0, r.stderr);
    assert.equal(toFile.stdout, '');
    assert.match(toStdout.stdout, /^-----BEGIN X509 CRL-----\n/);
    const text = openssl('crl', '-in', pemFile, '-noout', '-text');
    assert.match(text, new RegExp(opensslSerial(j.cert_serial)), 'the revoked serial is listed');
    assert.match(opensslResult('crl', '-in', pemFile, '-noout', '-CAfile', ca).output, /verify OK/);
    assert.match(
      openssl('crl', '-inform', 'DER', '-in', derFile, '-noout', '-text'),
      new RegExp(opensslSerial(j.cert_serial)),
    );
    const refused = opensslResult('verify', '-crl_check', '-CRLfile', pemFile, '-CAfile', ca, crt);
    assert.ok(!refused.ok);
    assert.match(refused.output, /certificate revoked/);
  });

  it('certs: bad arguments exit 2 and send nothing; failed requests exit 1', async () => {
    const thing = await createThing(request, token);
    const missing = crypto.randomUUID();
    const runs = await Promise.all([
      tethys(['certs', 'issue', thing.id, '--key-type', 'dsa']),
      tethys(['certs', 'issue', thing.id, '--valid', 'a year']),
      tethys(['certs', 'issue', thing.id, '--csr', 'x.csr', '--key-type', 'ec']),
      tethys(['certs', 'list', thing.id, '--limit', '101']),
      tethys(['certs', 'revoke', thing.id], { TETHYS_TOKEN: '' }),
    ]);
    for (const r of runs) assertUsage(r);
    assert.match(runs[2]!.stderr, /cannot be used with/);
    const none = await request('GET', `/certs/${thing.id}`, { token });
    assert.equal(none.json.total, 0, 'nothing issued');

    const [notMine, noCsr, nothingToRevoke] = await Promise.all([
      tethys(['certs', 'issue', missing, '--key-type', 'ec']),
      tethys(['certs', 'issue', thing.id, '--csr', path.join(dir, 'nope.csr')]),
      tethys(['certs', 'revoke', thing.id]),
    ]);
    assert.equal(notMine.code, 1);
    assert.match(notMine.stderr, /^error: 404 .*\(POST \/certs\)\n$/);
    assert.equal(notMine.stdout, '');
    assert.equal(noCsr.code, 1);
    assert.match(noCsr.stderr, /nope\.csr: no such file/);
    assert.equal(nothingToRevoke.code, 1);
    assert.match(nothingToRevoke.stderr, new RegExp(`^error: 404 .*\\(DELETE /certs/${thing.id}\\)\\n$`));
  });
});
