import os from 'node:os';
import path from 'node:path';
import { keySizeProblem, parseValidity } from './certs/rules.js';
import { parseGoBool, parseGoDuration } from './durations.js';

/**
 * Every setting Tethys reads from the environment, in one table: each entry carries its
 * default, its description and its parser. The table is the source of `tethys serve
 * --help` and of the README's configuration section, so a variable cannot exist without
 * being documented. Settings are read from it by name into a typed record, so a misspelt
 * name in the code does not compile; a misspelt TETHYS_ name in the environment is
 * reported at start (`unknownVariables`).
 */
export interface VariableSpec {
  name: string;
  default: string;
  description: string;
  group: 'tethys' | 'auth' | 'users' | 'things' | 'bootstrap' | 'provision' | 'certs' | 'messaging';
}

export class ConfigError extends Error {}

/** Parses a variable's text (its default when unset or empty, as in Mainflux); throws ConfigError. */
type Parser<T> = (raw: string, name: string) => T;

interface Entry<T> extends Omit<VariableSpec, 'name'> {
  parse: Parser<T>;
  /** Another name the seed documents for it; the table's name wins when both are set. */
  alias?: string;
}

const text: Parser<string> = (raw) => raw;

const integer =
  (min = 0, max = Number.MAX_SAFE_INTEGER): Parser<number> =>
  (raw, name) => {
    if (!/^\d+$/.test(raw)) throw new ConfigError(`${name}: "${raw}" is not a whole number`);
    const n = Number(raw);
    if (n < min || n > max) throw new ConfigError(`${name}: ${n} is outside ${min}..${max}`);
    return n;
  };

const port = integer(0, 65535);

/** Empty is null ("not set"); anything else goes to the parser. */
const optional =
  <T>(parse: Parser<T>): Parser<T | null> =>
  (raw, name) =>
    raw === '' ? null : parse(raw, name);

const boolean: Parser<boolean> = (raw, name) => {
  const b = parseGoBool(raw);
  if (b === null) throw new ConfigError(`${name}: "${raw}" is not a boolean (true/false/1/0)`);
  return b;
};

/** A positive Go duration ("10s", "24h"), in milliseconds. */
const duration: Parser<number> = (raw, name) => {
  const ms = parseGoDuration(raw);
  if (ms === null || ms <= 0)
    throw new ConfigError(`${name}: "${raw}" is not a positive duration such as 2400h`);
  return ms;
};

const oneOf =
  <T extends string>(allowed: readonly T[]): Parser<T> =>
  (raw, name) => {
    if (!(allowed as readonly string[]).includes(raw))
      throw new ConfigError(`${name}: "${raw}" is not one of ${allowed.join(', ')}`);
    return raw as T;
  };

const folder: Parser<string> = (raw) => path.resolve(raw);

/** An absolute http(s) URL without a trailing slash (paths are appended to it). */
const publicUrl: Parser<string> = (raw, name) => {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${name}: "${raw}" is not an absolute URL such as https://iot.example.com`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ConfigError(`${name}: "${raw}" is not an http:// or https:// URL`);
  if (url.search || url.hash) throw new ConfigError(`${name}: "${raw}" must not carry a query or a fragment`);
  return url.href.replace(/\/+$/, '');
};

const postgresUrl: Parser<string> = (raw, name) => {
  if (raw && !/^postgres(ql)?:\/\//.test(raw))
    throw new ConfigError(`${name}: only postgres:// URLs are supported (leave it empty for SQLite)`);
  return raw;
};

const regex: Parser<RegExp> = (raw, name) => {
  try {
    return new RegExp(raw);
  } catch (err) {
    throw new ConfigError(`${name}: invalid regular expression (${(err as Error).message})`);
  }
};

/** fastify's trustProxy: false, true, a hop count or a list of addresses. */
const trustProxy: Parser<boolean | number | string> = (raw, name) => {
  if (raw === '' || raw === 'false') return false;
  if (raw === 'true') return true;
  if (/^\d+$/.test(raw)) return Number(raw);
  for (const part of raw.split(',').map((p) => p.trim())) {
    if (!/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(part)) {
      throw new ConfigError(
        `${name}: "${part}" is not an address or CIDR (or use true, false or a hop count)`,
      );
    }
  }
  return raw;
};

/** An RSA key size a certificate can have (the same rule as `key_bits` in a request). */
const rsaBits: Parser<number> = (raw, name) => {
  const bits = integer(1, 65536)(raw, name);
  const problem = keySizeProblem('rsa', bits);
  if (problem) throw new ConfigError(`${name}: ${problem}`);
  return bits;
};

/** A certificate validity period (the same rule as `valid` in a request), in milliseconds. */
const validity: Parser<number> = (raw, name) => {
  const ms = parseValidity(raw);
  if (ms === null) throw new ConfigError(`${name}: "${raw}" is not a duration of at least 1s such as 2400h`);
  return ms;
};

/** As `validity`, kept as written (it is passed on as the certificate's TTL). */
const validityText: Parser<string> = (raw, name) => {
  validity(raw, name);
  return raw;
};

const aesKey: Parser<string> = (raw, name) => {
  if (raw && (!/^[0-9a-fA-F]+$/.test(raw) || ![32, 48, 64].includes(raw.length))) {
    throw new ConfigError(`${name}: must be 32, 48 or 64 hex digits (an AES-128, -192 or -256 key)`);
  }
  return raw;
};

/** JSON text of an object, kept as text. */
const jsonObject: Parser<string> = (raw, name) => {
  if (!raw) return raw;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError(`${name}: not valid JSON`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new ConfigError(`${name}: must be a JSON object`);
  return raw;
};

const TABLE = {
  TETHYS_HTTP_PORT: {
    group: 'tethys',
    default: '9000',
    description: 'HTTP port of the API (every service on one port)',
    parse: port,
  },
  TETHYS_HTTP_HOST: {
    group: 'tethys',
    default: '0.0.0.0',
    description: 'address the HTTP server binds to',
    parse: text,
  },
  TETHYS_DATA_DIR: {
    group: 'tethys',
    default: './data',
    description: 'folder for the SQLite file, the generated auth secret and other state',
    parse: folder,
  },
  TETHYS_DB_URL: {
    group: 'tethys',
    default: '',
    description:
      'postgres://user:pass@host:port/db (a Unix socket: postgres://user@localhost/db?host=/socket/folder) selects PostgreSQL; empty means SQLite in the data folder',
    parse: postgresUrl,
  },
  TETHYS_DB_POOL_SIZE: {
    group: 'tethys',
    default: '',
    description:
      'PostgreSQL connections kept open by this process; empty means 3 a CPU core of this machine, at least 4 (6 on 2 cores)',
    parse: optional(integer(1, 1000)),
  },
  TETHYS_DB_CONNECT_TIMEOUT: {
    group: 'tethys',
    default: '2s',
    description:
      'longest a request waits for the database (to open or get a pooled PostgreSQL connection, or behind other writes); then it answers 503 with Retry-After',
    parse: duration,
  },
  TETHYS_DB_QUERY_TIMEOUT: {
    group: 'tethys',
    default: '4s',
    description:
      'PostgreSQL: longest a statement may take before its connection is given up and the request answers 503 (migrations have none)',
    parse: duration,
  },
  TETHYS_DB_QUEUE_MAX: {
    group: 'tethys',
    default: '',
    description:
      'requests that may wait for the database (for a pooled connection, or behind other writes); more answer 503 at once; empty means 64 × TETHYS_DB_POOL_SIZE',
    parse: optional(integer(0, 1_000_000)),
  },
  TETHYS_SHUTDOWN_TIMEOUT: {
    group: 'tethys',
    default: '10s',
    description:
      'on SIGTERM or SIGINT: longest wait for requests in flight before connections are cut and the process exits (a second signal stops at once)',
    parse: duration,
  },
  TETHYS_THROTTLE_FAILURES: {
    group: 'tethys',
    default: '5',
    description:
      'failed logins, gateway bootstrap fetches or MQTT CONNECTs of one account from one address before it waits (1 s, doubling); ten times as many from one address over all accounts',
    parse: integer(1, 1_000_000),
  },
  TETHYS_THROTTLE_MAX_DELAY: {
    group: 'tethys',
    default: '15m',
    description: 'the longest such wait; failures older than this are forgotten',
    parse: duration,
  },
  TETHYS_TRUST_PROXY: {
    group: 'tethys',
    default: '',
    description:
      'where client addresses come from (throttling, logs): empty: the connection; true: X-Forwarded-For from any proxy; a number: that many proxy hops; or a comma-separated list of proxy addresses/CIDRs',
    parse: trustProxy,
  },
  TETHYS_LOG_LEVEL: {
    group: 'tethys',
    default: 'info',
    description: 'one of trace, debug, info, warn, error, fatal, silent',
    parse: oneOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']),
  },
  TETHYS_HTTP_BODY_LIMIT: {
    group: 'tethys',
    default: '4194304',
    description: 'largest accepted request body in bytes (larger: 413)',
    parse: integer(1024),
  },
  TETHYS_HTTP_HEADERS_TIMEOUT: {
    group: 'tethys',
    default: '10s',
    description:
      "a request's headers must arrive within this time, or it is answered 408 and its connection closed",
    parse: duration,
  },
  TETHYS_HTTP_REQUEST_TIMEOUT: {
    group: 'tethys',
    default: '30s',
    description: 'a whole request (headers and body) must arrive within this time, or it is answered 408',
    parse: duration,
  },
  TETHYS_HTTP_MAX_CONNECTIONS: {
    group: 'tethys',
    default: '10000',
    description:
      'open HTTP connections (WebSocket MQTT included until upgraded); more are closed as they come',
    parse: integer(1),
  },
  TETHYS_CACHE_SIZE: {
    group: 'tethys',
    default: '50000',
    description: 'entries kept by each in-memory cache (thing keys, connections, API keys)',
    parse: integer(100),
  },
  TETHYS_EVENTS_RETENTION: {
    group: 'tethys',
    default: '2160h',
    description:
      'how long the audit trail keeps events (GET /events); older ones are deleted a batch at a time every minute; 0 keeps them for ever (default: 90 days)',
    parse: (raw, name) => (raw.trim() === '0' ? 0 : duration(raw, name)),
  },
  TETHYS_EVENTS_WEBHOOK_URL: {
    group: 'tethys',
    default: '',
    description:
      'an http(s) URL the audit trail\'s events are POSTed to, in order, in batches ({"events": […]}), retried with backoff until it answers 2xx; empty: no webhook',
    parse: optional(publicUrl),
  },
  TETHYS_EVENTS_WEBHOOK_SECRET: {
    group: 'tethys',
    default: '',
    description:
      "the HMAC-SHA256 key of the webhook's X-Tethys-Signature header (sha256=<hex of HMAC(secret, body)>); required with TETHYS_EVENTS_WEBHOOK_URL",
    parse: text,
  },
  TETHYS_ARGON2_MEMORY_KIB: {
    group: 'tethys',
    default: '7168',
    description:
      "argon2id memory cost for password hashes; OWASP's minimum is one of the equal pairs 47104×1, 19456×2, 12288×3, 9216×4, 7168×5 (KiB × iterations)",
    parse: integer(1024),
  },
  TETHYS_ARGON2_ITERATIONS: {
    group: 'tethys',
    default: '5',
    description:
      'argon2id time cost (iterations); see TETHYS_ARGON2_MEMORY_KIB for the pairs OWASP gives as its minimum',
    parse: integer(1, 100),
  },
  TETHYS_TLS_CERT: {
    group: 'tethys',
    default: '',
    description: 'server certificate (PEM file): enables MQTT over TLS and HTTPS on the HTTP port',
    parse: text,
  },
  TETHYS_TLS_KEY: { group: 'tethys', default: '', description: 'its private key (PEM file)', parse: text },
  TETHYS_MQTT_PORT: {
    group: 'messaging',
    default: '1883',
    description:
      'MQTT over TCP (0: a free port; empty or "off" is not accepted: every instance runs the broker)',
    parse: port,
  },
  TETHYS_MQTT_TLS_PORT: {
    group: 'messaging',
    default: '8883',
    description:
      'MQTT over TLS, when TETHYS_TLS_CERT is set; client certificates issued by the certs service identify the thing',
    parse: port,
  },
  TETHYS_MQTT_WS_PORT: {
    group: 'messaging',
    default: '',
    description: 'MQTT over WebSocket on its own port (it is always on the HTTP port at /mqtt)',
    parse: optional(port),
  },
  TETHYS_MQTT_MAX_PAYLOAD: {
    group: 'messaging',
    default: '1048576',
    description:
      'largest MQTT packet or HTTP message body in bytes; larger MQTT packets close the connection, larger HTTP bodies get 413',
    parse: integer(16, 256 * 1024 * 1024),
  },
  TETHYS_MQTT_MAX_CONNECTIONS: {
    group: 'messaging',
    default: '100000',
    description: 'open MQTT connections over every listener; more are closed as they come',
    parse: integer(1),
  },
  TETHYS_MQTT_QUEUE_MAX: {
    group: 'messaging',
    default: '1000',
    description:
      'QoS 1 messages a persistent MQTT session keeps while its client is away (or not acknowledging); when full, the oldest is dropped',
    parse: integer(0, 1_000_000),
  },
  TETHYS_MQTT_SESSION_EXPIRY: {
    group: 'messaging',
    default: '24h',
    description:
      'longest an MQTT session outlives its connection: MQTT 3.1.1 persistent sessions (clean session 0) get this, MQTT 5 session expiry is capped to it',
    parse: duration,
  },
  MF_NATS_URL: {
    group: 'messaging',
    default: '',
    description:
      'NATS server (nats://host:4222): messages and cache invalidations reach every instance; empty: in-process bus (one instance)',
    parse: text,
  },
  TETHYS_NATS_JETSTREAM: {
    group: 'messaging',
    default: 'auto',
    description:
      'auto: keep messages in a JetStream stream when nats-server has JetStream (-js), so a crash of NATS or a disconnected instance loses nothing acknowledged; on: require it; off: core NATS only',
    parse: oneOf(['auto', 'on', 'off'] as const),
  },
  MF_AUTH_SECRET: {
    group: 'auth',
    default: '',
    description:
      'HS256 secret for every token; empty: a random secret generated at first start and kept in the data folder (auth-secret)',
    parse: text,
  },
  MF_USERS_ADMIN_EMAIL: {
    group: 'users',
    default: '',
    description: 'admin account created at start if missing (sees every user in GET /users)',
    parse: text,
  },
  MF_USERS_ADMIN_PASSWORD: {
    group: 'users',
    default: '',
    description: 'its password; no default ships',
    parse: text,
  },
  MF_USERS_PASS_REGEX: {
    group: 'users',
    default: '^.{8,}$',
    description: 'every new password must match',
    parse: regex,
  },
  MF_TOKEN_RESET_ENDPOINT: {
    group: 'users',
    default: '/reset-request',
    description:
      'path in the reset link: Referer (a trailing / dropped) + this + ?token=…; the console answers GET on it',
    parse: text,
  },
  MF_EMAIL_HOST: {
    group: 'users',
    default: '',
    description: 'SMTP host; empty: password reset by e-mail is off and answers 503',
    parse: text,
  },
  MF_EMAIL_PORT: { group: 'users', default: '25', description: 'SMTP port', parse: integer(1, 65535) },
  MF_EMAIL_USERNAME: {
    group: 'users',
    default: '',
    description: 'SMTP user; empty: no SMTP authentication',
    parse: text,
  },
  MF_EMAIL_PASSWORD: { group: 'users', default: '', description: 'SMTP password (PLAIN/LOGIN)', parse: text },
  MF_EMAIL_SECRET: {
    group: 'users',
    default: '',
    description: 'SMTP CRAM-MD5 secret; when set it is used instead of the password',
    parse: text,
  },
  MF_EMAIL_FROM_ADDRESS: {
    group: 'users',
    default: 'tethys@localhost',
    description: 'sender address',
    parse: text,
  },
  MF_EMAIL_FROM_NAME: { group: 'users', default: 'Tethys', description: 'sender name', parse: text },
  MF_EMAIL_TEMPLATE: {
    group: 'users',
    default: '',
    description: 'file with the mail body; {{.Content}} (or {{content}}) is replaced by the reset link',
    parse: text,
  },
  MF_THINGS_SINGLE_USER_EMAIL: {
    group: 'things',
    default: '',
    description:
      'single-user mode of the things routes: with the token below, only that token is accepted and it is this user',
    parse: text,
  },
  MF_THINGS_SINGLE_USER_TOKEN: {
    group: 'things',
    default: '',
    description: 'the only credential the things routes accept in single-user mode',
    parse: text,
  },
  MF_BOOTSTRAP_ENCRYPT_KEY: {
    group: 'bootstrap',
    default: '',
    description:
      'hex AES key (32, 48 or 64 hex digits) for /things/bootstrap/secure; empty: a random key generated at first start and kept in the data folder (bootstrap-key)',
    parse: aesKey,
  },
  MF_PROVISION_CONFIG_FILE: {
    group: 'provision',
    default: 'config.toml',
    description:
      'provision layout file (TOML); the default file may be absent (built-in layout), a file that is named and missing or malformed stops the start',
    parse: text,
  },
  MF_PROVISION_USER: {
    group: 'provision',
    default: '',
    description: 'account /mapping uses when a request has no Authorization and no API key is configured',
    parse: text,
  },
  MF_PROVISION_PASS: { group: 'provision', default: '', description: 'its password', parse: text },
  MF_PROVISION_API_KEY: {
    group: 'provision',
    default: '',
    description:
      'token or API key /mapping uses when a request has no Authorization (before user and password)',
    parse: text,
  },
  MF_PROVISION_X509_PROVISIONING: {
    group: 'provision',
    default: 'false',
    description: 'issue a certificate for every thing /mapping creates',
    parse: boolean,
  },
  MF_PROVISION_BS_CONFIG_PROVISIONING: {
    group: 'provision',
    default: 'true',
    description: 'create a bootstrap config for layout things whose metadata has external_id',
    parse: boolean,
  },
  MF_PROVISION_BS_AUTO_WHITELIST: {
    group: 'provision',
    default: 'true',
    description: 'activate (whitelist) those configs: connects the thing to the channels',
    parse: boolean,
  },
  MF_PROVISION_BS_CONTENT: {
    group: 'provision',
    default: '',
    description: 'JSON object used as bootstrap content when the layout file has no [bootstrap.content]',
    parse: jsonObject,
  },
  MF_PROVISION_CERTS_RSA_BITS: {
    group: 'provision',
    default: '4096',
    description: 'key size of certificates /mapping issues (RSA: 2048, 3072 or 4096)',
    parse: rsaBits,
  },
  MF_PROVISION_CERTS_HOURS_VALID: {
    group: 'provision',
    default: '2400h',
    description: 'validity of certificates /mapping issues (Go duration, at least 1s)',
    parse: validityText,
  },
  MF_CERTS_VAULT_HOST: {
    group: 'certs',
    default: '',
    description:
      'Vault address (http://host:8200): issue and revoke through its PKI; empty: development mode (local CA)',
    parse: text,
  },
  MF_VAULT_PKI_INT_PATH: {
    group: 'certs',
    default: 'pki_int',
    description: 'Vault PKI mount (alias MF_CERTS_VAULT_PKI_PATH)',
    parse: text,
    alias: 'MF_CERTS_VAULT_PKI_PATH',
  },
  MF_VAULT_CA_ROLE_NAME: {
    group: 'certs',
    default: 'mainflux',
    description: 'Vault PKI role used to issue (alias MF_CERTS_VAULT_ROLE)',
    parse: text,
    alias: 'MF_CERTS_VAULT_ROLE',
  },
  MF_VAULT_TOKEN: {
    group: 'certs',
    default: '',
    description: 'Vault token (alias MF_CERTS_VAULT_TOKEN)',
    parse: text,
    alias: 'MF_CERTS_VAULT_TOKEN',
  },
  TETHYS_PUBLIC_URL: {
    group: 'certs',
    default: '',
    description:
      'the URL clients reach this server at (https://iot.example.com): certificates the development CA issues then carry its OCSP URL (AIA, <url>/certs/ocsp) and CRL URL (CDP, <url>/certs/crl?format=der); empty: neither',
    parse: optional(publicUrl),
  },
  TETHYS_OCSP_VALIDITY: {
    group: 'certs',
    default: '1h',
    description:
      'how long an OCSP response is valid (thisUpdate to nextUpdate); a response is signed again after half of it',
    parse: duration,
  },
  MF_CERTS_SIGN_CA_PATH: {
    group: 'certs',
    default: '',
    description:
      'development mode: CA certificate (PEM); empty: a CA generated at first start in the data folder (ca.crt)',
    parse: text,
  },
  MF_CERTS_SIGN_CA_KEY_PATH: {
    group: 'certs',
    default: '',
    description: 'development mode: the CA private key (PEM)',
    parse: text,
  },
  MF_CERTS_SIGN_HOURS_VALID: {
    group: 'certs',
    default: '2048h',
    description: 'validity when a request gives none (Go duration, at least 1s)',
    parse: validity,
  },
  MF_CERTS_SIGN_RSA_BITS: {
    group: 'certs',
    default: '2048',
    description: 'RSA key size when a request gives none (2048, 3072 or 4096)',
    parse: rsaBits,
  },
  MF_CERTS_CN_FROM_KEY: {
    group: 'certs',
    default: 'false',
    description:
      'true: put the thing key in the certificate CN as 0.12.1 did (for nginx mTLS set-ups mapping CN to key); default: the thing id',
    parse: boolean,
  },
} satisfies Record<string, Entry<unknown>>;

export type VariableName = keyof typeof TABLE;
/** Every setting, parsed: `settings.TETHYS_HTTP_PORT` is a number. */
export type Settings = { [N in VariableName]: ReturnType<(typeof TABLE)[N]['parse']> };

export const VARIABLES: VariableSpec[] = Object.entries(TABLE).map(([name, entry]) => ({
  name,
  group: entry.group,
  default: entry.default,
  description: entry.description,
}));

type Env = Record<string, string | undefined>;

/** The text of a variable: as set, else its alias, else its default (empty counts as unset, as in Mainflux). */
function raw(env: Env, name: string, entry: Entry<unknown>): string {
  return env[name] || (entry.alias ? env[entry.alias] : undefined) || entry.default;
}

/** Every setting, parsed; every problem at once in one ConfigError. */
export function readSettings(env: Env = process.env): Settings {
  const settings: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, entry] of Object.entries(TABLE) as [string, Entry<unknown>][]) {
    try {
      settings[name] = entry.parse(raw(env, name, entry), name);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(err.message);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems.join('; '));
  return settings as Settings;
}

/**
 * TETHYS_ variables in the environment that are no setting, each with the setting it most
 * likely meant ('' when none is close): `serve` logs them at start.
 */
export function unknownVariables(env: Env = process.env): { name: string; meant: string }[] {
  const known = Object.keys(TABLE);
  return Object.keys(env)
    .filter((name) => name.startsWith('TETHYS_') && !(name in TABLE))
    .map((name) => {
      const [best] = known.map((k) => ({ k, d: editDistance(name, k) })).sort((x, y) => x.d - y.d);
      return { name, meant: best && best.d <= 3 ? best.k : '' };
    });
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(
        (row[j] as number) + 1,
        (next[j - 1] as number) + 1,
        (row[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    row = next;
  }
  return row[b.length] as number;
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
  /** How long audit events are kept (ms); 0: for ever. */
  eventsRetentionMs: number;
  /** Where committed audit events are POSTed (null: nowhere), and the key of their signature. */
  eventsWebhook: { url: string; secret: string } | null;
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
    /** TETHYS_PUBLIC_URL without a trailing slash; null: certificates carry no AIA or CDP. */
    publicUrl: string | null;
    ocspValidityMs: number;
  };
}

/** The settings, checked one by one and against each other, in the shape the domains take. */
export function loadConfig(env: Env = process.env): Config {
  const s = readSettings(env);
  if (s.MF_USERS_ADMIN_EMAIL && !s.MF_USERS_ADMIN_PASSWORD) {
    throw new ConfigError(
      'MF_USERS_ADMIN_EMAIL is set but MF_USERS_ADMIN_PASSWORD is empty: no default admin password ships',
    );
  }
  if (s.TETHYS_EVENTS_WEBHOOK_URL && !s.TETHYS_EVENTS_WEBHOOK_SECRET)
    throw new ConfigError(
      "TETHYS_EVENTS_WEBHOOK_URL is set but TETHYS_EVENTS_WEBHOOK_SECRET is empty: the receiver could not tell our posts from anyone's",
    );
  if (Boolean(s.TETHYS_TLS_CERT) !== Boolean(s.TETHYS_TLS_KEY))
    throw new ConfigError('TETHYS_TLS_CERT and TETHYS_TLS_KEY go together');
  if (s.MF_PROVISION_BS_AUTO_WHITELIST && !s.MF_PROVISION_BS_CONFIG_PROVISIONING) {
    throw new ConfigError(
      "can't auto whitelist if auto config save is off (MF_PROVISION_BS_AUTO_WHITELIST=true needs MF_PROVISION_BS_CONFIG_PROVISIONING=true)",
    );
  }
  const poolSize = s.TETHYS_DB_POOL_SIZE ?? defaultPoolSize();
  return {
    http: {
      port: s.TETHYS_HTTP_PORT,
      host: s.TETHYS_HTTP_HOST,
      bodyLimit: s.TETHYS_HTTP_BODY_LIMIT,
      headersTimeoutMs: s.TETHYS_HTTP_HEADERS_TIMEOUT,
      requestTimeoutMs: s.TETHYS_HTTP_REQUEST_TIMEOUT,
      maxConnections: s.TETHYS_HTTP_MAX_CONNECTIONS,
    },
    dataDir: s.TETHYS_DATA_DIR,
    db: {
      url: s.TETHYS_DB_URL,
      poolSize,
      connectTimeoutMs: s.TETHYS_DB_CONNECT_TIMEOUT,
      queryTimeoutMs: s.TETHYS_DB_QUERY_TIMEOUT,
      queueMax: s.TETHYS_DB_QUEUE_MAX ?? 64 * poolSize,
    },
    logLevel: s.TETHYS_LOG_LEVEL,
    shutdownTimeoutMs: s.TETHYS_SHUTDOWN_TIMEOUT,
    throttle: { freeFailures: s.TETHYS_THROTTLE_FAILURES, maxDelayMs: s.TETHYS_THROTTLE_MAX_DELAY },
    trustProxy: s.TETHYS_TRUST_PROXY,
    cacheSize: s.TETHYS_CACHE_SIZE,
    eventsRetentionMs: s.TETHYS_EVENTS_RETENTION,
    eventsWebhook: s.TETHYS_EVENTS_WEBHOOK_URL
      ? { url: s.TETHYS_EVENTS_WEBHOOK_URL, secret: s.TETHYS_EVENTS_WEBHOOK_SECRET }
      : null,
    argon2: { memoryCost: s.TETHYS_ARGON2_MEMORY_KIB, timeCost: s.TETHYS_ARGON2_ITERATIONS },
    auth: { secret: s.MF_AUTH_SECRET },
    users: {
      adminEmail: s.MF_USERS_ADMIN_EMAIL,
      adminPassword: s.MF_USERS_ADMIN_PASSWORD,
      passRegex: s.MF_USERS_PASS_REGEX,
      resetEndpoint: s.MF_TOKEN_RESET_ENDPOINT,
    },
    email: {
      host: s.MF_EMAIL_HOST,
      port: s.MF_EMAIL_PORT,
      username: s.MF_EMAIL_USERNAME,
      password: s.MF_EMAIL_PASSWORD,
      secret: s.MF_EMAIL_SECRET,
      fromAddress: s.MF_EMAIL_FROM_ADDRESS,
      fromName: s.MF_EMAIL_FROM_NAME,
      template: s.MF_EMAIL_TEMPLATE,
    },
    things: {
      singleUserEmail: s.MF_THINGS_SINGLE_USER_EMAIL,
      singleUserToken: s.MF_THINGS_SINGLE_USER_TOKEN,
    },
    tls: { cert: s.TETHYS_TLS_CERT, key: s.TETHYS_TLS_KEY },
    messaging: {
      mqttPort: s.TETHYS_MQTT_PORT,
      mqttTlsPort: s.TETHYS_MQTT_TLS_PORT,
      mqttWsPort: s.TETHYS_MQTT_WS_PORT,
      maxPayload: s.TETHYS_MQTT_MAX_PAYLOAD,
      maxConnections: s.TETHYS_MQTT_MAX_CONNECTIONS,
      queueMax: s.TETHYS_MQTT_QUEUE_MAX,
      sessionExpiryMaxSeconds: Math.floor(s.TETHYS_MQTT_SESSION_EXPIRY / 1000),
      natsUrl: s.MF_NATS_URL,
      jetstream: s.TETHYS_NATS_JETSTREAM,
    },
    bootstrap: { encryptKey: s.MF_BOOTSTRAP_ENCRYPT_KEY },
    provision: {
      configFile: s.MF_PROVISION_CONFIG_FILE,
      configFileExplicit: Boolean(env.MF_PROVISION_CONFIG_FILE),
      user: s.MF_PROVISION_USER,
      pass: s.MF_PROVISION_PASS,
      apiKey: s.MF_PROVISION_API_KEY,
      x509Provisioning: s.MF_PROVISION_X509_PROVISIONING,
      bsConfigProvisioning: s.MF_PROVISION_BS_CONFIG_PROVISIONING,
      bsAutoWhitelist: s.MF_PROVISION_BS_AUTO_WHITELIST,
      bsContent: s.MF_PROVISION_BS_CONTENT,
      certsRsaBits: s.MF_PROVISION_CERTS_RSA_BITS,
      certsHoursValid: s.MF_PROVISION_CERTS_HOURS_VALID,
    },
    certs: {
      vaultHost: s.MF_CERTS_VAULT_HOST,
      vaultPkiPath: s.MF_VAULT_PKI_INT_PATH,
      vaultRole: s.MF_VAULT_CA_ROLE_NAME,
      vaultToken: s.MF_VAULT_TOKEN,
      caPath: s.MF_CERTS_SIGN_CA_PATH,
      caKeyPath: s.MF_CERTS_SIGN_CA_KEY_PATH,
      defaultValidityMs: s.MF_CERTS_SIGN_HOURS_VALID,
      defaultRsaBits: s.MF_CERTS_SIGN_RSA_BITS,
      cnFromKey: s.MF_CERTS_CN_FROM_KEY,
      publicUrl: s.TETHYS_PUBLIC_URL,
      ocspValidityMs: s.TETHYS_OCSP_VALIDITY,
    },
  };
}

export function describeVariables(): string {
  const width = Math.max(...VARIABLES.map((v) => v.name.length));
  return VARIABLES.map(
    (v) => `  ${v.name.padEnd(width)}  ${v.description}${v.default ? ` (default ${v.default})` : ''}`,
  ).join('\n');
}
