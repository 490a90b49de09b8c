import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, readSettings, unknownVariables, VARIABLES } from '../src/config.js';
import { LayoutError, loadLayout } from '../src/provision/layout.js';

/** The settings table: every entry parses its default, refuses what it cannot use, and shares the request rules. */
describe('configuration', () => {
  it('every default parses, and the defaults make a configuration', () => {
    const settings = readSettings({});
    assert.deepEqual(Object.keys(settings).sort(), VARIABLES.map((v) => v.name).sort());
    const config = loadConfig({});
    assert.equal(config.http.port, 9000);
    assert.equal(config.messaging.mqttWsPort, null);
    assert.equal(config.messaging.jetstream, 'auto');
    assert.equal(config.certs.defaultValidityMs, 2048 * 3600_000);
    assert.equal(config.db.queueMax, 64 * config.db.poolSize);
    assert.ok(path.isAbsolute(config.dataDir));
  });

  it('an empty variable counts as unset, as in Mainflux', () => {
    assert.equal(loadConfig({ TETHYS_HTTP_PORT: '' }).http.port, 9000);
    assert.equal(loadConfig({ TETHYS_HTTP_PORT: '8080' }).http.port, 8080);
    assert.equal(loadConfig({ TETHYS_MQTT_WS_PORT: '0' }).messaging.mqttWsPort, 0);
    assert.equal(loadConfig({}).certs.publicUrl, null);
    assert.equal(
      loadConfig({ TETHYS_PUBLIC_URL: 'https://iot.example.com/' }).certs.publicUrl,
      'https://iot.example.com',
    );
    assert.equal(loadConfig({ TETHYS_OCSP_VALIDITY: '10m' }).certs.ocspValidityMs, 600_000);
  });

  it('refuses each kind of bad value with the name and the problem', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ TETHYS_HTTP_PORT: '70000' }, /^TETHYS_HTTP_PORT: 70000 is outside 0\.\.65535$/],
      [{ TETHYS_CACHE_SIZE: 'lots' }, /^TETHYS_CACHE_SIZE: "lots" is not a whole number$/],
      [{ TETHYS_SHUTDOWN_TIMEOUT: 'soon' }, /^TETHYS_SHUTDOWN_TIMEOUT: "soon" is not a positive duration/],
      [{ MF_CERTS_CN_FROM_KEY: 'maybe' }, /^MF_CERTS_CN_FROM_KEY: "maybe" is not a boolean/],
      [{ TETHYS_NATS_JETSTREAM: 'yes' }, /^TETHYS_NATS_JETSTREAM: "yes" is not one of auto, on, off$/],
      [{ TETHYS_LOG_LEVEL: 'loud' }, /^TETHYS_LOG_LEVEL: "loud" is not one of trace/],
      [{ TETHYS_TRUST_PROXY: 'proxy.local' }, /^TETHYS_TRUST_PROXY: "proxy.local" is not an address or CIDR/],
      [{ TETHYS_DB_URL: 'mysql://x' }, /^TETHYS_DB_URL: only postgres:\/\/ URLs/],
      [{ MF_USERS_PASS_REGEX: '(' }, /^MF_USERS_PASS_REGEX: invalid regular expression/],
      [{ MF_BOOTSTRAP_ENCRYPT_KEY: 'abc' }, /^MF_BOOTSTRAP_ENCRYPT_KEY: must be 32, 48 or 64 hex digits/],
      [{ MF_PROVISION_BS_CONTENT: '[1]' }, /^MF_PROVISION_BS_CONTENT: must be a JSON object$/],
      [{ TETHYS_TLS_CERT: '/tmp/cert.pem' }, /^TETHYS_TLS_CERT and TETHYS_TLS_KEY go together$/],
      [
        { TETHYS_PUBLIC_URL: 'iot.example.com' },
        /^TETHYS_PUBLIC_URL: "iot\.example\.com" is not an absolute URL/,
      ],
      [
        { TETHYS_PUBLIC_URL: 'ftp://iot.example.com' },
        /^TETHYS_PUBLIC_URL: "ftp:\/\/iot\.example\.com" is not an http/,
      ],
      [{ TETHYS_PUBLIC_URL: 'https://x.example/?a=1' }, /^TETHYS_PUBLIC_URL: .* must not carry a query/],
      [{ TETHYS_OCSP_VALIDITY: '0s' }, /^TETHYS_OCSP_VALIDITY: "0s" is not a positive duration/],
    ];
    for (const [env, message] of cases) {
      assert.throws(
        () => loadConfig(env),
        (err: unknown) => err instanceof ConfigError && message.test(err.message),
        JSON.stringify(env),
      );
    }
  });

  it('reports every bad variable at once', () => {
    assert.throws(
      () => loadConfig({ TETHYS_HTTP_PORT: 'x', TETHYS_MQTT_PORT: 'y' }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.message.includes('TETHYS_HTTP_PORT: "x"') &&
        err.message.includes('TETHYS_MQTT_PORT: "y"'),
    );
  });

  it('key sizes and validity periods follow the rules a certificate request follows', () => {
    for (const name of ['MF_CERTS_SIGN_RSA_BITS', 'MF_PROVISION_CERTS_RSA_BITS']) {
      assert.throws(
        () => loadConfig({ [name]: '1024' }),
        new RegExp(`${name}: 1024 is not a rsa key size \\(2048, 3072, 4096\\)$`),
      );
      assert.doesNotThrow(() => loadConfig({ [name]: '3072' }));
    }
    for (const name of ['MF_CERTS_SIGN_HOURS_VALID', 'MF_PROVISION_CERTS_HOURS_VALID']) {
      assert.throws(() => loadConfig({ [name]: '500ms' }), new RegExp(`${name}: "500ms" is not a duration`));
      assert.throws(() => loadConfig({ [name]: '0s' }), ConfigError);
    }
    assert.equal(loadConfig({ MF_PROVISION_CERTS_HOURS_VALID: '720h' }).provision.certsHoursValid, '720h');
  });

  it('a layout whose key size no certificate can have stops the start', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tethys-config-'));
    try {
      const file = path.join(dir, 'config.toml');
      const layout = (bits: number) =>
        `[certs]\nkeytype = "rsa"\nkey_bits = ${bits}\n\n[[things]]\nname = "t"\n\n[[channels]]\nname = "c"\n`;
      fs.writeFileSync(file, layout(1024));
      const provision = loadConfig({ MF_PROVISION_CONFIG_FILE: file }).provision;
      assert.throws(
        () => loadLayout(provision),
        (err: unknown) =>
          err instanceof LayoutError && /key_bits: 1024 is not a rsa key size/.test(err.message),
      );
      fs.writeFileSync(file, layout(2048));
      assert.equal(loadLayout(provision).certs.keyBits, 2048);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the seed document's names for the Vault settings work, and the table's name wins", () => {
    assert.equal(loadConfig({ MF_CERTS_VAULT_PKI_PATH: 'pki_x' }).certs.vaultPkiPath, 'pki_x');
    assert.equal(
      loadConfig({ MF_CERTS_VAULT_PKI_PATH: 'pki_x', MF_VAULT_PKI_INT_PATH: 'pki_y' }).certs.vaultPkiPath,
      'pki_y',
    );
    assert.equal(loadConfig({ MF_CERTS_VAULT_TOKEN: 't' }).certs.vaultToken, 't');
    assert.equal(loadConfig({ MF_CERTS_VAULT_ROLE: 'r' }).certs.vaultRole, 'r');
  });

  it('names a TETHYS_ variable that is no setting, with the one it most likely meant', () => {
    assert.deepEqual(
      unknownVariables({
        TETHYS_HTTP_PROT: '1',
        TETHYS_COMPLETELY_DIFFERENT_THING: '1',
        TETHYS_HTTP_PORT: '1',
        MF_THINGS_HTTP_PORT: '1',
      }),
      [
        { name: 'TETHYS_HTTP_PROT', meant: 'TETHYS_HTTP_PORT' },
        { name: 'TETHYS_COMPLETELY_DIFFERENT_THING', meant: '' },
      ],
    );
  });
});
