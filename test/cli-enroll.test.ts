import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import { connectThing, TestClient } from './helpers/mqtt.js';
import {
  certPublicKey,
  commonName,
  ecRequest,
  keyPublicKey,
  openssl,
  opensslResult,
  signCsr,
  type Workdir,
  workdir,
} from './helpers/openssl.js';
import { type CliRun, runCli } from './helpers/process.js';
import { closedPort, dialect, userToken, withServer } from './helpers/server.js';

/**
 * The enrollment commands of the CLI, run as child processes against a real server: the
 * operator's `enrollments …`, and the device's `enroll`, whose files openssl judges and
 * whose certificate then logs the device in over MQTT TLS.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const uid = () => crypto.randomBytes(5).toString('hex');
const mode = (file: string) => fs.statSync(file).mode & 0o777;
const FILES = ['ca.crt', 'config.json', 'thing.crt', 'thing.key'];

/** A layout with a required operator parameter, a typed one and one a device may set. */
const LAYOUT = `[parameters.site]
type = "string"
required = true
pattern = "^[a-z0-9-]{1,32}$"

[parameters.floor]
type = "integer"
default = 0

[parameters.label]
type = "string"
default = "none"
device = true

[bootstrap.content]
site = "{{site}}"
label = "{{label}}"

[[things]]
name = "{{site}}-{{registration_id}}"
metadata = { external_id = "x", floor = "{{floor}}" }

[[channels]]
name = "{{site}}-control"
metadata = { type = "control" }

[[channels]]
name = "{{site}}-data"
metadata = { type = "data" }
`;

/** Exit 2, one `error:` line on stderr (plus commander's hint), nothing on stdout. */
function assertUsage(r: CliRun, pattern?: RegExp) {
  assert.equal(r.code, 2, `${r.stdout}${r.stderr}`);
  assert.match(r.stderr, /^error: /);
  assert.equal(r.stdout, '');
  if (pattern) assert.match(r.stderr, pattern);
}

/** Exit 1 with the server's refusal as one line. */
function assertRefused(r: CliRun, pattern: RegExp) {
  assert.equal(r.code, 1, `${r.stdout}${r.stderr}`);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^error: /);
  assert.match(r.stderr, pattern);
}

/** A CA made by openssl (EC P-256), and certificates it signs (CN = a registration id). */
function makeCa(work: Workdir, name: string): { cert: string; key: string } {
  const ca = { cert: work.path(`${name}.crt`), key: work.path(`${name}.key`) };
  ecRequest(ca.key, ca.cert, `/CN=${name}`, { x509: true, days: 2 });
  return ca;
}

function signedBy(
  work: Workdir,
  ca: { cert: string; key: string },
  cn: string,
): { cert: string; key: string } {
  const device = { cert: work.path(`${cn}.crt`), key: work.path(`${cn}.key`) };
  ecRequest(device.key, work.path(`${cn}.csr`), `/CN=${cn}`);
  signCsr(work.path(`${cn}.csr`), ca, device.cert);
  return device;
}

/** What `tethys enroll` wrote in `dir`, checked: the files, their modes, the certificate against the CA and the key. */
function assertEnrolledFiles(dir: string, thingId: string): any {
  assert.deepEqual(fs.readdirSync(dir).sort(), FILES);
  const file = (name: string) => path.join(dir, name);
  assert.equal(mode(file('thing.key')), 0o600);
  assert.equal(mode(file('config.json')), 0o600, 'the config holds the thing key');
  const verified = opensslResult('verify', '-CAfile', file('ca.crt'), file('thing.crt'));
  assert.ok(verified.ok, verified.output);
  assert.equal(
    certPublicKey(file('thing.crt')),
    keyPublicKey(file('thing.key')),
    'the key is the certificate’s',
  );
  assert.equal(commonName(file('thing.crt')), thingId, 'CN = the thing id, as for /certs');
  assert.match(fs.readFileSync(file('thing.key'), 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/);
  return JSON.parse(fs.readFileSync(file('config.json'), 'utf8'));
}

describe(`cli enrollment commands (${dialect})`, () => {
  const work = workdir();
  const fixture = withServer({}, { beforeClose: () => work.remove() });
  const { request } = fixture;
  let token: string;
  let layout: string;

  const tethys = (args: string[], env: Record<string, string | undefined> = {}) =>
    runCli(args, { TETHYS_URL: fixture.server.url, TETHYS_TOKEN: token, TETHYS_GROUP_KEY: '', ...env });
  /** A symmetric_key group named `name`, with more of `enrollments create`'s options. */
  const symmetricGroup = (name: string, ...options: string[]) =>
    tethys(['enrollments', 'create', name, '--attestation', 'symmetric_key', ...options]);
  /** A device has no user token. */
  const device = (args: string[]) => tethys(['enroll', ...args], { TETHYS_TOKEN: '' });

  before(async () => {
    ({ token } = await userToken(request));
    layout = `sensor-${uid()}`;
    await request.sdk(token).layouts.create(layout, LAYOUT);
  });

  it('create, get, list, update, rotate-key, registrations and delete a group', async () => {
    const created = await symmetricGroup(
      'line-3',
      '--layout',
      layout,
      '--param',
      'site=plant-a',
      '--param',
      'floor=3',
      '--pattern',
      '^SN[0-9]{8}$',
      '--max-devices',
      '2',
      '--cert-key-type',
      'ec',
      '--cert-key-bits',
      '256',
      '--cert-valid',
      '720h',
      '--disabled',
    );
    assert.equal(created.code, 0, created.stderr);
    const g = created.json;
    assert.match(g.id, UUID);
    assert.equal(Buffer.from(g.group_key, 'base64').length, 32);
    assert.deepEqual(
      {
        name: g.name,
        attestation: g.attestation,
        layout: g.layout,
        parameters: g.parameters,
        registration_id_pattern: g.registration_id_pattern,
        max_devices: g.max_devices,
        certificate: g.certificate,
        enabled: g.enabled,
        registered: g.registered,
      },
      {
        name: 'line-3',
        attestation: 'symmetric_key',
        layout,
        parameters: { site: 'plant-a', floor: 3 },
        registration_id_pattern: '^SN[0-9]{8}$',
        max_devices: 2,
        certificate: { key_type: 'ec', key_bits: 256, valid: '720h' },
        enabled: false,
        registered: 0,
      },
      'floor typed as the layout declares it',
    );

    const out = path.join(work.dir, 'line-3');
    const [got, page, all, disabled] = await Promise.all([
      tethys(['enrollments', 'get', g.id]),
      tethys(['enrollments', 'list', '--limit', '5']),
      tethys(['enrollments', 'list', '--all']),
      device([g.id, 'SN00000001', '--group-key', g.group_key, '--out', out]),
    ]);
    assert.deepEqual(got.json, g);
    assert.equal(page.code, 0, page.stderr);
    assert.equal(page.json.limit, 5);
    assert.deepEqual(
      page.json.enrollments.map((e: any) => e.id),
      [g.id],
    );
    assert.deepEqual(all.json, { total: 1, enrollments: [g] });
    assertRefused(
      disabled,
      /^error: 403 the enrollment group is disabled \(POST \/enrollments\/.+\/register\)\n$/,
    );
    assert.equal(fs.existsSync(path.join(out, 'thing.key')), false, 'nothing written when refused');

    const enabled = await tethys(['enrollments', 'update', g.id, '--enable', '--max-devices', 'none']);
    assert.equal(enabled.code, 0, enabled.stderr);
    assert.equal(enabled.json.enabled, true);
    assert.equal(enabled.json.max_devices, null);
    assert.equal(enabled.json.registration_id_pattern, '^SN[0-9]{8}$', 'what is not given stays');

    const [first, off] = await Promise.all([
      device([g.id, 'SN00000001', '--group-key', g.group_key, '--out', out]),
      device([g.id, 'XX1', '--group-key', g.group_key, '--out', path.join(work.dir, 'xx')]),
    ]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.json.created, true);
    assertRefused(off, /403 the registration id does not match the registration_id_pattern/);

    const param = await tethys(['enrollments', 'update', g.id, '--param', 'floor=4', '--pattern', '']);
    assert.equal(param.code, 0, param.stderr);
    assert.deepEqual(param.json.parameters, { site: 'plant-a', floor: 4 }, 'the other values stay');
    assert.equal(param.json.registration_id_pattern, '');
    const replaced = await tethys([
      'enrollments',
      'update',
      g.id,
      '--replace-params',
      '--param',
      'site=plant-b',
    ]);
    assert.deepEqual(replaced.json.parameters, { site: 'plant-b' });
    const [capped, nothing, badType, notAList, both] = await Promise.all([
      tethys(['enrollments', 'update', g.id, '--disable', '--max-devices', '7']),
      tethys(['enrollments', 'update', g.id]),
      tethys(['enrollments', 'update', g.id, '--param', 'floor=high']),
      tethys(['enrollments', 'update', g.id, '--max-devices', 'many']),
      tethys(['enrollments', 'update', g.id, '--enable', '--disable']),
    ]);
    assert.equal(capped.json.enabled, false);
    assert.equal(capped.json.max_devices, 7);
    assertUsage(nothing, /nothing to change/);
    assertUsage(badType, /--param floor: the layout declares an integer/);
    assertUsage(notAList, /none/);
    assertUsage(both, /--enable.*cannot be used with.*--disable/);
    await tethys(['enrollments', 'update', g.id, '--enable']);

    // The same device again, another device, then the group's devices.
    const [again, second] = await Promise.all([
      device([g.id, 'SN00000001', '--group-key', g.group_key, '--out', out]),
      device([g.id, 'SN00000002', '--group-key', g.group_key, '--out', path.join(work.dir, 'two')]),
    ]);
    assert.equal(again.json.created, false);
    assert.equal(again.json.thing_id, first.json.thing_id);
    assert.equal(second.json.created, true);
    const [regs, regsPage, regsAll, regsBoth] = await Promise.all([
      tethys(['enrollments', 'registrations', g.id, '--limit', '100']),
      tethys(['enrollments', 'registrations', g.id, '--limit', '1', '--offset', '1']),
      tethys(['enrollments', 'registrations', g.id, '--all']),
      tethys(['enrollments', 'registrations', g.id, '--all', '--limit', '1']),
    ]);
    assert.equal(regs.code, 0, regs.stderr);
    assert.equal(regs.json.total, 2);
    const one = regs.json.registrations.find((r: any) => r.registration_id === 'SN00000001');
    assert.equal(one.thing_id, first.json.thing_id);
    assert.equal(one.count, 2);
    assert.ok(one.last_enrolled >= one.first_enrolled);
    assert.deepEqual(
      { total: regsPage.json.total, offset: regsPage.json.offset, limit: regsPage.json.limit },
      { total: 2, offset: 1, limit: 1 },
    );
    assert.equal(regsPage.json.registrations.length, 1);
    assert.deepEqual(regsAll.json, { total: 2, registrations: regs.json.registrations });
    assertUsage(regsBoth, /--all takes every page/);

    // A new key: the old one is refused at once, the new one works.
    const rotated = await tethys(['enrollments', 'rotate-key', g.id]);
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.notEqual(rotated.json.group_key, g.group_key);
    const [old, fresh] = await Promise.all([
      device([g.id, 'SN00000003', '--group-key', g.group_key, '--out', path.join(work.dir, 'three')]),
      device([
        g.id,
        'SN00000004',
        '--group-key',
        rotated.json.group_key,
        '--out',
        path.join(work.dir, 'four'),
      ]),
    ]);
    assertRefused(old, /^error: 401 the device credential does not match the enrollment group /);
    assert.equal(fresh.code, 0, fresh.stderr);
    assert.equal((await tethys(['enrollments', 'get', g.id])).json.group_key, rotated.json.group_key);

    const removed = await tethys(['enrollments', 'delete', g.id]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(removed.stdout, '');
    const [gone, regsGone] = await Promise.all([
      tethys(['enrollments', 'get', g.id]),
      tethys(['enrollments', 'registrations', g.id]),
    ]);
    assert.equal(gone.stderr, `error: 404 enrollment group not found (GET /enrollments/${g.id})\n`);
    assert.equal(gone.code, 1);
    assertRefused(regsGone, /404 enrollment group not found/);
    const thing = await request('GET', `/things/${first.json.thing_id}`, { token });
    assert.equal(thing.status, 200, 'the enrolled devices stay');
  });

  it('x509 groups take a CA file; bad command lines exit 2 and send nothing; refusals exit 1', async () => {
    const fleet = makeCa(work, `fleet-${uid()}`);
    const notPem = work.file('not.pem', 'hello');
    const groups = async () => (await request('GET', '/enrollments?limit=1', { token })).json.total;
    const existing = await groups();
    const [x509, noCa, caForKey, noAttestation, badAttestation, noToken, missingFile, notACert, badBits] =
      await Promise.all([
        tethys(['enrollments', 'create', 'fleet', '--attestation', 'x509', '--ca-cert', fleet.cert]),
        tethys(['enrollments', 'create', 'x', '--attestation', 'x509']),
        symmetricGroup('x', '--ca-cert', fleet.cert),
        tethys(['enrollments', 'create', 'x']),
        tethys(['enrollments', 'create', 'x', '--attestation', 'tpm']),
        tethys(['enrollments', 'create', 'x', '--attestation', 'symmetric_key'], { TETHYS_TOKEN: '' }),
        tethys(['enrollments', 'create', 'x', '--attestation', 'x509', '--ca-cert', work.path('nope.crt')]),
        tethys(['enrollments', 'create', 'x', '--attestation', 'x509', '--ca-cert', notPem]),
        symmetricGroup('x', '--cert-key-bits', 'x'),
      ]);
    assert.equal(x509.code, 0, x509.stderr);
    assert.equal(x509.json.attestation, 'x509');
    assert.equal(x509.json.group_key, undefined);
    assert.equal(x509.json.ca_cert.trim(), fs.readFileSync(fleet.cert, 'utf8').trim());
    assertUsage(noCa, /--attestation x509 needs --ca-cert/);
    assertUsage(caForKey, /--ca-cert is for --attestation x509 only/);
    assertUsage(noAttestation, /--attestation/);
    assertUsage(badAttestation, /symmetric_key/);
    assertUsage(noToken, /needs a token/);
    assert.equal(missingFile.code, 1);
    assert.match(missingFile.stderr, /nope\.crt: no such file/);
    assert.equal(notACert.code, 1);
    assert.match(notACert.stderr, /not\.pem: not a PEM certificate/);
    assertUsage(badBits);
    assert.equal(await groups(), existing + 1, 'only the good one was created');

    const missing = crypto.randomUUID();
    const [rotateX509, getMissing, deleteMissing, unknownLayout, unknownParam, badPattern] =
      await Promise.all([
        tethys(['enrollments', 'rotate-key', x509.json.id]),
        tethys(['enrollments', 'get', missing]),
        tethys(['enrollments', 'delete', missing]),
        symmetricGroup('x', '--layout', 'no-such-layout'),
        symmetricGroup('x', '--layout', layout, '--param', 'x=1'),
        symmetricGroup('x', '--pattern', '('),
      ]);
    assertRefused(rotateX509, /^error: 400 only a symmetric_key group has a key \(POST .*rotate-key\)\n$/);
    assert.equal(getMissing.stderr, `error: 404 enrollment group not found (GET /enrollments/${missing})\n`);
    assertRefused(deleteMissing, /404/);
    assertRefused(unknownLayout, /^error: 400 unknown layout "no-such-layout"/);
    assertRefused(unknownParam, /^error: 400 unknown parameter "x"/);
    assertRefused(badPattern, /^error: 400 registration_id_pattern: not a regular expression/);
    assert.equal(await groups(), existing + 1);
  });

  it('enroll with a group key: a key made here, the files, the same thing again with a new certificate', async () => {
    const created = await symmetricGroup(`fleet-${uid()}`, '--layout', layout, '--param', 'site=plant-c');
    assert.equal(created.code, 0, created.stderr);
    const g = created.json;
    const dir = path.join(work.dir, 'dev-42');
    const first = await tethys(['enroll', g.id, 'SN00000042', '--out', dir, '--param', 'label=lobby'], {
      TETHYS_TOKEN: '',
      TETHYS_GROUP_KEY: g.group_key,
    });
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stderr, '');
    const thingId = first.json.thing_id;
    assert.match(thingId, UUID);
    assert.deepEqual(first.json, {
      registration_id: 'SN00000042',
      thing_id: thingId,
      created: true,
      files: ['thing.key', 'thing.crt', 'ca.crt', 'config.json'].map((f) => path.join(dir, f)),
    });
    assert.equal(mode(dir), 0o700, 'a folder the CLI makes is private');
    const config = assertEnrolledFiles(dir, thingId);
    assert.equal(config.mainflux_id, thingId);
    assert.deepEqual(
      JSON.parse(config.content),
      { site: 'plant-c', label: 'lobby' },
      'the device set its label',
    );
    assert.deepEqual(
      config.mainflux_channels.map((c: any) => c.name),
      ['plant-c-control', 'plant-c-data'],
    );
    const firstCert = fs.readFileSync(path.join(dir, 'thing.crt'), 'utf8');

    // config.json is what the gateway's bootstrap answers (its external key is the owner's to see).
    const owned = await request('GET', `/things/configs/${thingId}`, { token });
    assert.equal(owned.status, 200, owned.text);
    assert.equal(owned.json.external_id, 'SN00000042');
    const fetched = await request('GET', `/things/bootstrap/SN00000042`, { token: owned.json.external_key });
    assert.equal(fetched.status, 200, fetched.text);
    assert.deepEqual(config, fetched.json);
    const thing = await request('GET', `/things/${thingId}`, { token });
    assert.equal(thing.json.name, 'plant-c-SN00000042');
    assert.equal(thing.json.metadata.registration_id, 'SN00000042');
    assert.equal(thing.json.metadata.enrollment, g.id);
    assert.equal(thing.json.key, config.mainflux_key);

    // Again (RSA this time): 200, the same thing, a new key and certificate that belong together.
    const again = await device([
      g.id,
      'SN00000042',
      '--group-key',
      g.group_key,
      '--out',
      dir,
      '--key-type',
      'rsa',
    ]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.json.created, false);
    assert.equal(again.json.thing_id, thingId);
    const reconfig = assertEnrolledFiles(dir, thingId);
    assert.notEqual(fs.readFileSync(path.join(dir, 'thing.crt'), 'utf8'), firstCert, 'a new certificate');
    assert.match(
      openssl('pkey', '-in', path.join(dir, 'thing.key'), '-noout', '-text'),
      /Private-Key: \(2048 bit/,
    );
    assert.equal(reconfig.mainflux_key, config.mainflux_key);
    const regs = await tethys(['enrollments', 'registrations', g.id]);
    assert.equal(regs.json.registrations[0].count, 2);
  });

  it('enroll: bad command lines exit 2 and send nothing; refusals exit 1 and write nothing', async () => {
    const g = (await symmetricGroup(`e-${uid()}`, '--layout', layout, '--param', 'site=s')).json;
    const fleet = makeCa(work, `ca-${uid()}`);
    const dev = signedBy(work, fleet, `unit-${uid()}`);
    const plainFile = work.file('plain-file', 'x');
    const dir = path.join(work.dir, `refused-${uid()}`);
    const key = ['--group-key', g.group_key];
    const runs = await Promise.all([
      device([g.id, 'SN1', '--out', dir]),
      device([g.id, 'SN1', ...key, '--cert', dev.cert, '--key', dev.key, '--out', dir]),
      device([g.id, 'SN1', '--cert', dev.cert, '--out', dir]),
      device([g.id, 'SN1', '--cert', dev.cert, '--key', dev.key, '--out', dir]),
      device([g.id, 'SN1', ...key, '--ca', fleet.cert, '--out', dir]),
      device([g.id, 'SN1', ...key, '--key-bits', '300', '--out', dir]),
      device([g.id, 'SN1', ...key, '--key-type', 'dsa', '--out', dir]),
      device([g.id, 'SN1', '--group-key', 'not base64!', '--out', dir]),
      device([g.id, 'SN1', ...key, '--out', plainFile]),
      device([g.id, 'SN1', ...key, '--param', '=x', '--out', dir]),
    ]);
    const patterns = [
      /give the group credential/,
      /give the group credential/,
      /--cert and --key go together/,
      /--cert needs an https URL/,
      /--ca needs an https URL/,
      /--key-bits 300: ec takes 256, 384/,
      /choices/,
      /base64 group_key/,
      /plain-file: not a folder/,
      /name=value/,
    ];
    for (const [i, r] of runs.entries()) assertUsage(r, patterns[i]);

    const otherGroup = (await symmetricGroup(`o-${uid()}`)).json;
    const closed = await closedPort();
    const refused = await Promise.all([
      device([g.id, 'SN1', '--group-key', otherGroup.group_key, '--out', dir]),
      device([crypto.randomUUID(), 'SN1', ...key, '--out', dir]),
      device([g.id, 'bad id!', ...key, '--out', dir]),
      device([g.id, 'SN1', ...key, '--param', 'site=elsewhere', '--out', dir]),
      tethys(['enroll', g.id, 'SN1', ...key, '--out', dir], {
        TETHYS_TOKEN: '',
        TETHYS_URL: `http://127.0.0.1:${closed}`,
      }),
    ]);
    assertRefused(refused[0]!, /^error: 401 /);
    assertRefused(refused[1]!, /^error: 404 enrollment group not found/);
    assertRefused(refused[2]!, /^error: 400 registration_id/);
    assertRefused(refused[3]!, /^error: 400 parameter "site" is not one a device may set/);
    assertRefused(
      refused[4]!,
      new RegExp(`^error: cannot reach http://127\\.0\\.0\\.1:${closed}: .*ECONNREFUSED`),
    );
    assert.deepEqual(fs.existsSync(dir) ? fs.readdirSync(dir) : [], [], 'nothing written');
  });
});

describe(`enrolled devices over TLS: HTTPS registration, MQTT TLS with the new certificate (${dialect})`, () => {
  const work = workdir();
  const serverCert = work.path('server.crt');
  const serverKey = work.path('server.key');
  // Before the server's hook (hooks run in the order registered): its certificate.
  before(() => {
    ecRequest(serverKey, serverCert, '/CN=127.0.0.1', { x509: true, ip: '127.0.0.1' });
  });
  const clients: TestClient[] = [];
  const fixture = withServer(
    { TETHYS_TLS_CERT: serverCert, TETHYS_TLS_KEY: serverKey },
    {
      beforeClose: async () => {
        await Promise.all(clients.map((c) => c.end()));
        work.remove();
      },
    },
  );
  let token: string;
  let url: string;

  /** The operator's commands trust the server's certificate through Node's NODE_EXTRA_CA_CERTS. */
  const tethys = (args: string[], env: Record<string, string | undefined> = {}) =>
    runCli(args, {
      TETHYS_URL: url,
      TETHYS_TOKEN: token,
      TETHYS_GROUP_KEY: '',
      NODE_EXTRA_CA_CERTS: serverCert,
      ...env,
    });
  /** A device trusts it with --ca only. */
  const device = (args: string[]) =>
    runCli(['enroll', ...args], {
      TETHYS_URL: url,
      TETHYS_TOKEN: '',
      TETHYS_GROUP_KEY: '',
      NODE_EXTRA_CA_CERTS: undefined,
    });

  before(async () => {
    // The HTTP listener speaks HTTPS once TETHYS_TLS_CERT is set (its address still says http).
    url = fixture.server.url.replace(/^http:/, 'https:');
    const email = `tls-${uid()}@example.com`;
    const made = await tethys(['users', 'create', email, 'secret-password']);
    assert.equal(made.code, 0, made.stderr);
    const login = await tethys(['users', 'token', email, 'secret-password']);
    assert.equal(login.code, 0, login.stderr);
    token = login.stdout.trim();
  });

  it('a device enrolled with a group key logs in over MQTT TLS with thing.crt and publishes on its data channel', async () => {
    const g = (await tethys(['enrollments', 'create', 'tls-fleet', '--attestation', 'symmetric_key'])).json;
    assert.ok(g?.group_key, 'the group was created');
    const dir = path.join(work.dir, 'SN7');
    const [untrusted, enrolled] = await Promise.all([
      device([g.id, 'SN7', '--group-key', g.group_key, '--out', path.join(work.dir, 'untrusted')]),
      device([g.id, 'SN7', '--group-key', g.group_key, '--out', dir, '--ca', serverCert]),
    ]);
    assertRefused(untrusted, /^error: cannot reach https:.*self[- ]signed/i);
    assert.equal(enrolled.code, 0, enrolled.stderr);
    const thingId = enrolled.json.thing_id;
    const config = assertEnrolledFiles(dir, thingId);
    const data = config.mainflux_channels.find((c: any) => c.metadata.type === 'data');
    assert.ok(data, 'the default layout has a data channel');

    const at = `mqtts://127.0.0.1:${fixture.server.app.mqtt.ports.mqttTls}`;
    const ca = fs.readFileSync(serverCert, 'utf8');
    // A subscriber with the thing key from config.json; the device itself with its certificate, no password.
    const watcher = await connectThing(at, { id: config.mainflux_id, key: config.mainflux_key }, { ca });
    clients.push(watcher);
    assert.equal(await watcher.subscribe(`channels/${data.id}/messages/#`), 0);
    const unit = new TestClient(
      await mqtt.connectAsync(
        at,
        {
          ca,
          cert: fs.readFileSync(path.join(dir, 'thing.crt'), 'utf8'),
          key: fs.readFileSync(path.join(dir, 'thing.key'), 'utf8'),
          username: thingId,
          reconnectPeriod: 0,
          protocolVersion: 4,
        },
        false,
      ),
    );
    clients.push(unit);
    await unit.publish(`channels/${data.id}/messages/temperature`, '[{"n":"temp","v":21.5}]', 1);
    const got = await watcher.waitFor((m) => m.payload.toString() === '[{"n":"temp","v":21.5}]');
    assert.equal(got.topic, `channels/${data.id}/messages/temperature`);
  });

  it('x509: enroll --cert/--key from the group CA over HTTPS; another CN or CA is refused', async () => {
    const fleet = makeCa(work, 'fleet');
    const stranger = makeCa(work, 'stranger');
    const created = await tethys([
      'enrollments',
      'create',
      'x509-fleet',
      '--attestation',
      'x509',
      '--ca-cert',
      fleet.cert,
    ]);
    assert.equal(created.code, 0, created.stderr);
    const g = created.json;
    const unit = signedBy(work, fleet, 'unit-7');
    const other = signedBy(work, stranger, 'unit-8');
    const dir = path.join(work.dir, 'unit-7');
    const tls = (cert: { cert: string; key: string }) => [
      '--cert',
      cert.cert,
      '--key',
      cert.key,
      '--ca',
      serverCert,
    ];
    const first = await device([g.id, 'unit-7', ...tls(unit), '--out', dir]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.json.created, true);
    const config = assertEnrolledFiles(dir, first.json.thing_id);
    assert.equal(config.mainflux_id, first.json.thing_id);
    assert.notEqual(
      certPublicKey(path.join(dir, 'thing.crt')),
      certPublicKey(unit.cert),
      'the thing’s key is made by the CLI, not the factory’s',
    );

    const [again, wrongCn, wrongCa] = await Promise.all([
      device([g.id, 'unit-7', ...tls(unit), '--out', dir]),
      device([g.id, 'unit-9', ...tls(unit), '--out', path.join(work.dir, 'unit-9')]),
      device([g.id, 'unit-8', ...tls(other), '--out', path.join(work.dir, 'unit-8')]),
    ]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.json.created, false);
    assert.equal(again.json.thing_id, first.json.thing_id);
    assertRefused(wrongCn, /^error: 401 the device credential does not match the enrollment group/);
    assertRefused(wrongCa, /^error: 401 /);
    const regs = await tethys(['enrollments', 'registrations', g.id, '--all']);
    assert.deepEqual(
      regs.json.registrations.map((r: any) => [r.registration_id, r.count]),
      [['unit-7', 2]],
    );
  });
});
