import os from 'node:os';
import path from 'node:path';
import { parseGoBool, parseGoDuration } from './durations.js';

/**
 * Every setting Tethys reads from the environment, in one table: the table is the
 * source of `tethys serve --help` and of the README's configuration section, so a
 * variable cannot exist without being documented.
 */
export interface VariableSpec {
  name: string;
  default: string;
  description: string;
  group: 'tethys' | 'auth' | 'users' | 'things' | 'bootstrap' | 'provision' | 'certs' | 'messaging';
}

export const VARIABLES: VariableSpec[] = [
  {
    group: 'tethys',
    name: 'TETHYS_HTTP_PORT',
    default: '9000',
    description: 'HTTP port of the API (every service on one port)',
  },
  {
    group: 'tethys',
    name: 'TETHYS_HTTP_HOST',
    default: '0.0.0.0',
    description: 'address the HTTP server binds to',
  },
  {
    group: 'tethys',
    name: 'TETHYS_DATA_DIR',
    default: './data',
    description: 'folder for the SQLite file, the generated auth secret and other state',
  },
  {
    group: 'tethys',
    name: 'TETHYS_DB_URL',
    default: '',
    description:
      'postgres://user:pass@host:port/db (a Unix socket: postgres://user@localhost/db?host=/socket/folder) selects PostgreSQL; empty means SQLite in the data folder',
  },
  {
    group: 'tethys',
    name: 'TETHYS_DB_POOL_SIZE',
    default: '',
    description:
      'PostgreSQL connections kept open by this process; empty means 3 a CPU core of this machine, at least 4 (6 on 2 cores)',
  },
  {
    group: 'tethys',
    name: 'TETHYS_DB_CONNECT_TIMEOUT',
    default: '2s',
    description:
      'longest a request waits for the database (to open or get a pooled PostgreSQL connection, or behind other writes); then it answers 503 with Retry-After',
  },
  {
    group: 'tethys',
    name: 'TETHYS_DB_QUERY_TIMEOUT',
    default: '4s',
    description:
      'PostgreSQL: longest a statement may take before its connection is given up and the request answers 503 (migrations have none)',
  },
  {
    group: 'tethys',
    name: 'TETHYS_DB_QUEUE_MAX',
    default: '',
    description:
      'requests that may wait for the database (for a pooled connection, or behind other writes); more answer 503 at once; empty means 64 × TETHYS_DB_POOL_SIZE',
  },
  {
    group: 'tethys',
    name: 'TETHYS_SHUTDOWN_TIMEOUT',
    default: '10s',
    description:
      'on SIGTERM or SIGINT: longest wait for requests in flight before connections are cut and the process exits (a second signal stops at once)',
  },
  {
    group: 'tethys',
    name: 'TETHYS_THROTTLE_FAILURES',
    default: '5',
    description:
      'failed logins, gateway bootstrap fetches or MQTT CONNECTs of one account from one address before it waits (1 s, doubling); ten times as many from one address over all accounts',
  },
  {
    group: 'tethys',
    name: 'TETHYS_THROTTLE_MAX_DELAY',
    default: '15m',
    description: 'the longest such wait; failures older than this are forgotten',
  },
  {
    group: 'tethys',
    name: 'TETHYS_TRUST_PROXY',
    default: '',
    description:
      'where client addresses come from (throttling, logs): empty: the connection; true: X-Forwarded-For from any proxy; a number: that many proxy hops; or a comma-separated list of proxy addresses/CIDRs',
  },
  {
    group: 'tethys',
    name: 'TETHYS_LOG_LEVEL',
    default: 'info',
    description: 'one of trace, debug, info, warn, error, fatal, silent',
  },
  {
    group: 'tethys',
    name: 'TETHYS_HTTP_BODY_LIMIT',
    default: '4194304',
    description: 'largest accepted request body in bytes (larger: 413)',
  },
  {
    group: 'tethys',
    name: 'TETHYS_HTTP_HEADERS_TIMEOUT',
    default: '10s',
    description:
      "a request's headers must arrive within this time, or it is answered 408 and its connection closed",
  },
  {
    group: 'tethys',
    name: 'TETHYS_HTTP_REQUEST_TIMEOUT',
    default: '30s',
    description: 'a whole request (headers and body) must arrive within this time, or it is answered 408',
  },
  {
    group: 'tethys',
    name: 'TETHYS_HTTP_MAX_CONNECTIONS',
    default: '10000',
    description:
      'open HTTP connections (WebSocket MQTT included until upgraded); more are closed as they come',
  },
  {
    group: 'tethys',
    name: 'TETHYS_CACHE_SIZE',
    default: '50000',
    description: 'entries kept by each in-memory cache (thing keys, connections, API keys)',
  },
  {
    group: 'tethys',
    name: 'TETHYS_ARGON2_MEMORY_KIB',
    default: '7168',
    description:
      "argon2id memory cost for password hashes; OWASP's minimum is one of the equal pairs 47104×1, 19456×2, 12288×3, 9216×4, 7168×5 (KiB × iterations)",
  },
  {
    group: 'tethys',
    name: 'TETHYS_ARGON2_ITERATIONS',
    default: '5',
    description:
      'argon2id time cost (iterations); see TETHYS_ARGON2_MEMORY_KIB for the pairs OWASP gives as its minimum',
  },
  {
    group: 'tethys',
    name: 'TETHYS_TLS_CERT',
    default: '',
    description: 'server certificate (PEM file): enables MQTT over TLS and HTTPS on the HTTP port',
  },
  { group: 'tethys', name: 'TETHYS_TLS_KEY', default: '', description: 'its private key (PEM file)' },
  {
    group: 'messaging',
    name: 'TETHYS_MQTT_PORT',
    default: '1883',
    description:
      'MQTT over TCP (0: a free port; empty or "off" is not accepted: every instance runs the broker)',
  },
  {
    group: 'messaging',
    name: 'TETHYS_MQTT_TLS_PORT',
    default: '8883',
    description:
      'MQTT over TLS, when TETHYS_TLS_CERT is set; client certificates issued by the certs service identify the thing',
  },
  {
    group: 'messaging',
    name: 'TETHYS_MQTT_WS_PORT',
    default: '',
    description: 'MQTT over WebSocket on its own port (it is always on the HTTP port at /mqtt)',
  },
  {
    group: 'messaging',
    name: 'TETHYS_MQTT_MAX_PAYLOAD',
    default: '1048576',
    description:
      'largest MQTT packet or HTTP message body in bytes; larger MQTT packets close the connection, larger HTTP bodies get 413',
  },
  {
    group: 'messaging',
    name: 'TETHYS_MQTT_MAX_CONNECTIONS',
    default: '100000',
    description: 'open MQTT connections over every listener; more are closed as they come',
  },
  {
    group: 'messaging',
    name: 'TETHYS_MQTT_QUEUE_MAX',
    default: '1000',
    description:
      'QoS 1 messages a persistent MQTT session keeps while its client is away (or not acknowledging); when full, the oldest is dropped',
  },
  {
    group: 'messaging',
    name: 'TETHYS_MQTT_SESSION_EXPIRY',
    default: '24h',
    description:
      'longest an MQTT session outlives its connection: MQTT 3.1.1 persistent sessions (clean session 0) get this, MQTT 5 session expiry is capped to it',
  },
  {
    group: 'messaging',
    name: 'MF_NATS_URL',
    default: '',
    description:
      'NATS server (nats://host:4222): messages and cache invalidations reach every instance; empty: in-process bus (one instance)',
  },
  {
    group: 'messaging',
    name: 'TETHYS_NATS_JETSTREAM',
    default: 'auto',
    description:
      'auto: keep messages in a JetStream stream when nats-server has JetStream (-js), so a crash of NATS or a disconnected instance loses nothing acknowledged; on: require it; off: core NATS only',
  },
  {
    group: 'auth',
    name: 'MF_AUTH_SECRET',
    default: '',
    description:
      'HS256 secret for every token; empty: a random secret generated at first start and kept in the data folder (auth-secret)',
  },
  {
    group: 'users',
    name: 'MF_USERS_ADMIN_EMAIL',
    default: '',
    description: 'admin account created at start if missing (sees every user in GET /users)',
  },
  {
    group: 'users',
    name: 'MF_USERS_ADMIN_PASSWORD',
    default: '',
    description: 'its password; no default ships',
  },
  {
    group: 'users',
    name: 'MF_USERS_PASS_REGEX',
    default: '^.{8,}$',
    description: 'every new password must match',
  },
  {
    group: 'users',
    name: 'MF_TOKEN_RESET_ENDPOINT',
    default: '/reset-request',
    description: 'path in the reset link: Referer + this + ?token=…',
  },
  {
    group: 'users',
    name: 'MF_EMAIL_HOST',
    default: '',
    description: 'SMTP host; empty: password reset by e-mail is off and answers 503',
  },
  { group: 'users', name: 'MF_EMAIL_PORT', default: '25', description: 'SMTP port' },
  {
    group: 'users',
    name: 'MF_EMAIL_USERNAME',
    default: '',
    description: 'SMTP user; empty: no SMTP authentication',
  },
  { group: 'users', name: 'MF_EMAIL_PASSWORD', default: '', description: 'SMTP password (PLAIN/LOGIN)' },
  {
    group: 'users',
    name: 'MF_EMAIL_SECRET',
    default: '',
    description: 'SMTP CRAM-MD5 secret; when set it is used instead of the password',
  },
  {
    group: 'users',
    name: 'MF_EMAIL_FROM_ADDRESS',
    default: 'tethys@localhost',
    description: 'sender address',
  },
  { group: 'users', name: 'MF_EMAIL_FROM_NAME', default: 'Tethys', description: 'sender name' },
  {
    group: 'users',
    name: 'MF_EMAIL_TEMPLATE',
    default: '',
    description: 'file with the mail body; {{.Content}} (or {{content}}) is replaced by the reset link',
  },
  {
    group: 'things',
    name: 'MF_THINGS_SINGLE_USER_EMAIL',
    default: '',
    description:
      'single-user mode of the things routes: with the token below, only that token is accepted and it is this user',
  },
  {
    group: 'things',
    name: 'MF_THINGS_SINGLE_USER_TOKEN',
    default: '',
    description: 'the only credential the things routes accept in single-user mode',
  },
  {
    group: 'bootstrap',
    name: 'MF_BOOTSTRAP_ENCRYPT_KEY',
    default: '',
    description:
      'hex AES key (32, 48 or 64 hex digits) for /things/bootstrap/secure; empty: a random key generated at first start and kept in the data folder (bootstrap-key)',
  },
  {
    group: 'provision',
    name: 'MF_PROVISION_CONFIG_FILE',
    default: 'config.toml',
    description:
      'provision layout file (TOML); the default file may be absent (built-in layout), a file that is named and missing or malformed stops the start',
  },
  {
    group: 'provision',
    name: 'MF_PROVISION_USER',
    default: '',
    description: 'account /mapping uses when a request has no Authorization and no API key is configured',
  },
  { group: 'provision', name: 'MF_PROVISION_PASS', default: '', description: 'its password' },
  {
    group: 'provision',
    name: 'MF_PROVISION_API_KEY',
    default: '',
    description:
      'token or API key /mapping uses when a request has no Authorization (before user and password)',
  },
  {
    group: 'provision',
    name: 'MF_PROVISION_X509_PROVISIONING',
    default: 'false',
    description: 'issue a certificate for every thing /mapping creates',
  },
  {
    group: 'provision',
    name: 'MF_PROVISION_BS_CONFIG_PROVISIONING',
    default: 'true',
    description: 'create a bootstrap config for layout things whose metadata has external_id',
  },
  {
    group: 'provision',
    name: 'MF_PROVISION_BS_AUTO_WHITELIST',
    default: 'true',
    description: 'activate (whitelist) those configs: connects the thing to the channels',
  },
  {
    group: 'provision',
    name: 'MF_PROVISION_BS_CONTENT',
    default: '',
    description: 'JSON object used as bootstrap content when the layout file has no [bootstrap.content]',
  },
  {
    group: 'provision',
    name: 'MF_PROVISION_CERTS_RSA_BITS',
    default: '4096',
    description: 'key size of certificates /mapping issues (RSA)',
  },
  {
    group: 'provision',
    name: 'MF_PROVISION_CERTS_HOURS_VALID',
    default: '2400h',
    description: 'validity of certificates /mapping issues (Go duration)',
  },
  {
    group: 'certs',
    name: 'MF_CERTS_VAULT_HOST',
    default: '',
    description:
      'Vault address (http://host:8200): issue and revoke through its PKI; empty: development mode (local CA)',
  },
  {
    group: 'certs',
    name: 'MF_VAULT_PKI_INT_PATH',
    default: 'pki_int',
    description: 'Vault PKI mount (alias MF_CERTS_VAULT_PKI_PATH)',
  },
  {
    group: 'certs',
    name: 'MF_VAULT_CA_ROLE_NAME',
    default: 'mainflux',
    description: 'Vault PKI role used to issue (alias MF_CERTS_VAULT_ROLE)',
  },
  {
    group: 'certs',
    name: 'MF_VAULT_TOKEN',
    default: '',
    description: 'Vault token (alias MF_CERTS_VAULT_TOKEN)',
  },
  {
    group: 'certs',
    name: 'MF_CERTS_SIGN_CA_PATH',
    default: '',
    description:
      'development mode: CA certificate (PEM); empty: a CA generated at first start in the data folder (ca.crt)',
  },
  {
    group: 'certs',
    name: 'MF_CERTS_SIGN_CA_KEY_PATH',
    default: '',
    description: 'development mode: the CA private key (PEM)',
  },
  {
    group: 'certs',
    name: 'MF_CERTS_SIGN_HOURS_VALID',
    default: '2048h',
    description: 'validity when a request gives none (Go duration)',
  },
  {
    group: 'certs',
    name: 'MF_CERTS_SIGN_RSA_BITS',
    default: '2048',
    description: 'RSA key size when a request gives none',
  },
  {
    group: 'certs',
    name: 'MF_CERTS_CN_FROM_KEY',
    default: 'false',
    description:
      'true: put the thing key in the certificate CN as 0.12.1 did (for nginx mTLS set-ups mapping CN to key); default: the thing id',
  },
];

export interface Config {
  http: {
    port: number;
    host: string;
    bodyLimit: number;
    headersTimeoutMs: number;
    requestTimeoutMs: number;
    maxConnections: number;
  };
  dataDir: string;
  db: { url: string; poolSize: number; connectTimeoutMs: number; queryTimeoutMs: number; queueMax: number };
  logLevel: string;
  shutdownTimeoutMs: number;
  throttle: { freeFailures: number; maxDelayMs: number };
  /** fastify's trustProxy: false, true, a hop count or a list of addresses. */
  trustProxy: boolean | number | string;
  cacheSize: number;
  argon2: { memoryCost: number; timeCost: number };
  auth: { secret: string };
  users: {
    adminEmail: string;
    adminPassword: string;
    passRegex: RegExp;
    resetEndpoint: string;
  };
  email: {
    host: string;
    port: number;
    username: string;
    password: string;
    secret: string;
    fromAddress: string;
    fromName: string;
    template: string;
  };
  things: { singleUserEmail: string; singleUserToken: string };
  tls: { cert: string; key: string };
  messaging: {
    mqttPort: number;
    mqttTlsPort: number;
    mqttWsPort: number | null;
    maxPayload: number;
    maxConnections: number;
    queueMax: number;
    sessionExpiryMaxSeconds: number;
    natsUrl: string;
    jetstream: 'auto' | 'on' | 'off';
  };
  bootstrap: { encryptKey: string };
  provision: {
    configFile: string;
    /** True when MF_PROVISION_CONFIG_FILE was set: then the file must exist. */
    configFileExplicit: boolean;
    user: string;
    pass: string;
    apiKey: string;
    x509Provisioning: boolean;
    bsConfigProvisioning: boolean;
    bsAutoWhitelist: boolean;
    bsContent: string;
    certsRsaBits: number;
    certsHoursValid: string;
  };
  certs: {
    vaultHost: string;
    vaultPkiPath: string;
    vaultRole: string;
    vaultToken: string;
    caPath: string;
    caKeyPath: string;
    /** Default validity in milliseconds. */
    defaultValidityMs: number;
    defaultRsaBits: number;
    cnFromKey: boolean;
  };
}

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function value(env: Env, name: string): string {
  const spec = VARIABLES.find((v) => v.name === name);
  const raw = env[name];
  // As in Mainflux, a variable set to the empty string counts as unset.
  return raw === undefined || raw === '' ? (spec?.default ?? '') : raw;
}

/**
 * Connections to PostgreSQL: a few a core. More backends than the cores can run only
 * queue in the kernel and contend for PostgreSQL's locks and buffers: on the 2-core
 * bench machine, with the database on the same box, 6 connections against 16 gave
 * 8–30% more metadata filters and 18–20% more bulk-created things a second, PostgreSQL
 * spending 0.26 ms of CPU on a filter instead of 0.32–0.35. Requests beyond the pool
 * wait in this process for a free connection.
 */
export function defaultPoolSize(): number {
  return Math.max(4, 3 * os.availableParallelism());
}

function integer(env: Env, name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = value(env, name);
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name}: "${raw}" is not a whole number`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(`${name}: ${n} is outside ${min}..${max}`);
  return n;
}

function boolean(env: Env, name: string): boolean {
  const raw = value(env, name);
  const b = parseGoBool(raw);
  if (b === null) throw new ConfigError(`${name}: "${raw}" is not a boolean (true/false/1/0)`);
  return b;
}

function duration(env: Env, name: string): number {
  const raw = value(env, name);
  const ms = parseGoDuration(raw);
  if (ms === null || ms <= 0)
    throw new ConfigError(`${name}: "${raw}" is not a positive duration such as 2400h`);
  return ms;
}

/** The Mainflux name wins over the seed document's alias when both are set. */
function aliased(env: Env, name: string, alias: string): string {
  return env[name] ? value(env, name) : env[alias] ? (env[alias] as string) : value(env, name);
}

export function loadConfig(env: Env = process.env): Config {
  let passRegex: RegExp;
  try {
    passRegex = new RegExp(value(env, 'MF_USERS_PASS_REGEX'));
  } catch (err) {
    throw new ConfigError(`MF_USERS_PASS_REGEX: invalid regular expression (${(err as Error).message})`);
  }
  const dbUrl = value(env, 'TETHYS_DB_URL');
  if (dbUrl && !/^postgres(ql)?:\/\//.test(dbUrl)) {
    throw new ConfigError('TETHYS_DB_URL: only postgres:// URLs are supported (leave it empty for SQLite)');
  }
  const logLevel = value(env, 'TETHYS_LOG_LEVEL');
  if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(logLevel)) {
    throw new ConfigError(`TETHYS_LOG_LEVEL: unknown level "${logLevel}"`);
  }
  const adminEmail = value(env, 'MF_USERS_ADMIN_EMAIL');
  const adminPassword = value(env, 'MF_USERS_ADMIN_PASSWORD');
  if (adminEmail && !adminPassword) {
    throw new ConfigError(
      'MF_USERS_ADMIN_EMAIL is set but MF_USERS_ADMIN_PASSWORD is empty: no default admin password ships',
    );
  }
  return {
    http: {
      port: integer(env, 'TETHYS_HTTP_PORT', 0, 65535),
      host: value(env, 'TETHYS_HTTP_HOST'),
      bodyLimit: integer(env, 'TETHYS_HTTP_BODY_LIMIT', 1024),
      headersTimeoutMs: duration(env, 'TETHYS_HTTP_HEADERS_TIMEOUT'),
      requestTimeoutMs: duration(env, 'TETHYS_HTTP_REQUEST_TIMEOUT'),
      maxConnections: integer(env, 'TETHYS_HTTP_MAX_CONNECTIONS', 1),
    },
    dataDir: path.resolve(value(env, 'TETHYS_DATA_DIR')),
    db: database(env, dbUrl),
    logLevel,
    shutdownTimeoutMs: duration(env, 'TETHYS_SHUTDOWN_TIMEOUT'),
    throttle: {
      freeFailures: integer(env, 'TETHYS_THROTTLE_FAILURES', 1, 1_000_000),
      maxDelayMs: duration(env, 'TETHYS_THROTTLE_MAX_DELAY'),
    },
    trustProxy: trustProxy(value(env, 'TETHYS_TRUST_PROXY')),
    cacheSize: integer(env, 'TETHYS_CACHE_SIZE', 100),
    argon2: {
      memoryCost: integer(env, 'TETHYS_ARGON2_MEMORY_KIB', 1024),
      timeCost: integer(env, 'TETHYS_ARGON2_ITERATIONS', 1, 100),
    },
    auth: { secret: value(env, 'MF_AUTH_SECRET') },
    users: {
      adminEmail,
      adminPassword,
      passRegex,
      resetEndpoint: value(env, 'MF_TOKEN_RESET_ENDPOINT'),
    },
    email: {
      host: value(env, 'MF_EMAIL_HOST'),
      port: integer(env, 'MF_EMAIL_PORT', 1, 65535),
      username: value(env, 'MF_EMAIL_USERNAME'),
      password: value(env, 'MF_EMAIL_PASSWORD'),
      secret: value(env, 'MF_EMAIL_SECRET'),
      fromAddress: value(env, 'MF_EMAIL_FROM_ADDRESS'),
      fromName: value(env, 'MF_EMAIL_FROM_NAME'),
      template: value(env, 'MF_EMAIL_TEMPLATE'),
    },
    things: {
      singleUserEmail: value(env, 'MF_THINGS_SINGLE_USER_EMAIL'),
      singleUserToken: value(env, 'MF_THINGS_SINGLE_USER_TOKEN'),
    },
    tls: tls(env),
    messaging: {
      mqttPort: integer(env, 'TETHYS_MQTT_PORT', 0, 65535),
      mqttTlsPort: integer(env, 'TETHYS_MQTT_TLS_PORT', 0, 65535),
      mqttWsPort: value(env, 'TETHYS_MQTT_WS_PORT') ? integer(env, 'TETHYS_MQTT_WS_PORT', 0, 65535) : null,
      maxPayload: integer(env, 'TETHYS_MQTT_MAX_PAYLOAD', 16, 256 * 1024 * 1024),
      maxConnections: integer(env, 'TETHYS_MQTT_MAX_CONNECTIONS', 1),
      queueMax: integer(env, 'TETHYS_MQTT_QUEUE_MAX', 0, 1_000_000),
      sessionExpiryMaxSeconds: Math.floor(duration(env, 'TETHYS_MQTT_SESSION_EXPIRY') / 1000),
      natsUrl: value(env, 'MF_NATS_URL'),
      jetstream: oneOf(env, 'TETHYS_NATS_JETSTREAM', ['auto', 'on', 'off'] as const),
    },
    bootstrap: { encryptKey: encryptKey(env) },
    provision: provision(env),
    certs: {
      vaultHost: aliased(env, 'MF_CERTS_VAULT_HOST', 'MF_CERTS_VAULT_HOST'),
      vaultPkiPath: aliased(env, 'MF_VAULT_PKI_INT_PATH', 'MF_CERTS_VAULT_PKI_PATH'),
      vaultRole: aliased(env, 'MF_VAULT_CA_ROLE_NAME', 'MF_CERTS_VAULT_ROLE'),
      vaultToken: aliased(env, 'MF_VAULT_TOKEN', 'MF_CERTS_VAULT_TOKEN'),
      caPath: value(env, 'MF_CERTS_SIGN_CA_PATH'),
      caKeyPath: value(env, 'MF_CERTS_SIGN_CA_KEY_PATH'),
      defaultValidityMs: duration(env, 'MF_CERTS_SIGN_HOURS_VALID'),
      defaultRsaBits: rsaBits(env, 'MF_CERTS_SIGN_RSA_BITS'),
      cnFromKey: boolean(env, 'MF_CERTS_CN_FROM_KEY'),
    },
  };
}

function database(env: Env, url: string): Config['db'] {
  const poolSize =
    value(env, 'TETHYS_DB_POOL_SIZE') === ''
      ? defaultPoolSize()
      : integer(env, 'TETHYS_DB_POOL_SIZE', 1, 1000);
  return {
    url,
    poolSize,
    connectTimeoutMs: duration(env, 'TETHYS_DB_CONNECT_TIMEOUT'),
    queryTimeoutMs: duration(env, 'TETHYS_DB_QUERY_TIMEOUT'),
    queueMax:
      value(env, 'TETHYS_DB_QUEUE_MAX') === ''
        ? 64 * poolSize
        : integer(env, 'TETHYS_DB_QUEUE_MAX', 0, 1_000_000),
  };
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[]): T {
  const raw = value(env, name);
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(`${name}: "${raw}" is not one of ${allowed.join(', ')}`);
  }
  return raw as T;
}

function trustProxy(raw: string): boolean | number | string {
  if (raw === '' || raw === 'false') return false;
  if (raw === 'true') return true;
  if (/^\d+$/.test(raw)) return Number(raw);
  for (const part of raw.split(',').map((p) => p.trim())) {
    if (!/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(part)) {
      throw new ConfigError(
        `TETHYS_TRUST_PROXY: "${part}" is not an address or CIDR (or use true, false or a hop count)`,
      );
    }
  }
  return raw;
}

function rsaBits(env: Env, name: string): number {
  const bits = integer(env, name, 1024, 8192);
  if (![2048, 3072, 4096].includes(bits)) throw new ConfigError(`${name}: ${bits} is not 2048, 3072 or 4096`);
  return bits;
}

function tls(env: Env): Config['tls'] {
  const cert = value(env, 'TETHYS_TLS_CERT');
  const key = value(env, 'TETHYS_TLS_KEY');
  if (Boolean(cert) !== Boolean(key)) throw new ConfigError('TETHYS_TLS_CERT and TETHYS_TLS_KEY go together');
  return { cert, key };
}

function encryptKey(env: Env): string {
  const key = value(env, 'MF_BOOTSTRAP_ENCRYPT_KEY');
  if (key && (!/^[0-9a-fA-F]+$/.test(key) || ![32, 48, 64].includes(key.length))) {
    throw new ConfigError(
      'MF_BOOTSTRAP_ENCRYPT_KEY: must be 32, 48 or 64 hex digits (an AES-128, -192 or -256 key)',
    );
  }
  return key;
}

function provision(env: Env): Config['provision'] {
  const autoWhitelist = boolean(env, 'MF_PROVISION_BS_AUTO_WHITELIST');
  const configProvisioning = boolean(env, 'MF_PROVISION_BS_CONFIG_PROVISIONING');
  if (autoWhitelist && !configProvisioning) {
    throw new ConfigError(
      "can't auto whitelist if auto config save is off (MF_PROVISION_BS_AUTO_WHITELIST=true needs MF_PROVISION_BS_CONFIG_PROVISIONING=true)",
    );
  }
  const hoursValid = value(env, 'MF_PROVISION_CERTS_HOURS_VALID');
  if (parseGoDuration(hoursValid) === null)
    throw new ConfigError(`MF_PROVISION_CERTS_HOURS_VALID: "${hoursValid}" is not a duration such as 2400h`);
  const content = value(env, 'MF_PROVISION_BS_CONTENT');
  if (content) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(content);
    } catch {
      throw new ConfigError('MF_PROVISION_BS_CONTENT: not valid JSON');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new ConfigError('MF_PROVISION_BS_CONTENT: must be a JSON object');
  }
  return {
    configFile: value(env, 'MF_PROVISION_CONFIG_FILE'),
    configFileExplicit: Boolean(env.MF_PROVISION_CONFIG_FILE),
    user: value(env, 'MF_PROVISION_USER'),
    pass: value(env, 'MF_PROVISION_PASS'),
    apiKey: value(env, 'MF_PROVISION_API_KEY'),
    x509Provisioning: boolean(env, 'MF_PROVISION_X509_PROVISIONING'),
    bsConfigProvisioning: configProvisioning,
    bsAutoWhitelist: autoWhitelist,
    bsContent: content,
    certsRsaBits: integer(env, 'MF_PROVISION_CERTS_RSA_BITS', 1024, 8192),
    certsHoursValid: hoursValid,
  };
}

export function describeVariables(): string {
  const width = Math.max(...VARIABLES.map((v) => v.name.length));
  return VARIABLES.map(
    (v) => `  ${v.name.padEnd(width)}  ${v.description}${v.default ? ` (default ${v.default})` : ''}`,
  ).join('\n');
}
