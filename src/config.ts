import path from 'node:path';

/**
 * Every setting Tethys reads from the environment, in one table: the table is the
 * source of `tethys serve --help` and of the README's configuration section, so a
 * variable cannot exist without being documented.
 */
export interface VariableSpec {
  name: string;
  default: string;
  description: string;
  group: 'tethys' | 'auth' | 'users' | 'things';
}

export const VARIABLES: VariableSpec[] = [
  { group: 'tethys', name: 'TETHYS_HTTP_PORT', default: '9000', description: 'HTTP port of the API (every service on one port)' },
  { group: 'tethys', name: 'TETHYS_HTTP_HOST', default: '0.0.0.0', description: 'address the HTTP server binds to' },
  { group: 'tethys', name: 'TETHYS_DATA_DIR', default: './data', description: 'folder for the SQLite file, the generated auth secret and other state' },
  { group: 'tethys', name: 'TETHYS_DB_URL', default: '', description: 'postgres://user:pass@host:port/db selects PostgreSQL; empty means SQLite in the data folder' },
  { group: 'tethys', name: 'TETHYS_DB_POOL_SIZE', default: '16', description: 'PostgreSQL connections kept open by this process' },
  { group: 'tethys', name: 'TETHYS_LOG_LEVEL', default: 'info', description: 'one of trace, debug, info, warn, error, fatal, silent' },
  { group: 'tethys', name: 'TETHYS_HTTP_BODY_LIMIT', default: '4194304', description: 'largest accepted request body in bytes (larger: 413)' },
  { group: 'tethys', name: 'TETHYS_CACHE_SIZE', default: '200000', description: 'entries kept by each in-memory cache (thing keys, connections, API keys)' },
  { group: 'tethys', name: 'TETHYS_ARGON2_MEMORY_KIB', default: '19456', description: 'argon2id memory cost for password hashes (OWASP minimum 19456)' },
  { group: 'tethys', name: 'TETHYS_ARGON2_ITERATIONS', default: '2', description: 'argon2id time cost (OWASP minimum 2)' },
  { group: 'auth', name: 'MF_AUTH_SECRET', default: '', description: 'HS256 secret for every token; empty: a random secret generated at first start and kept in the data folder (auth-secret)' },
  { group: 'users', name: 'MF_USERS_ADMIN_EMAIL', default: '', description: 'admin account created at start if missing (sees every user in GET /users)' },
  { group: 'users', name: 'MF_USERS_ADMIN_PASSWORD', default: '', description: 'its password; no default ships' },
  { group: 'users', name: 'MF_USERS_PASS_REGEX', default: '^.{8,}$', description: 'every new password must match' },
  { group: 'users', name: 'MF_TOKEN_RESET_ENDPOINT', default: '/reset-request', description: 'path in the reset link: Referer + this + ?token=…' },
  { group: 'users', name: 'MF_EMAIL_HOST', default: '', description: 'SMTP host; empty: password reset by e-mail is off and answers 503' },
  { group: 'users', name: 'MF_EMAIL_PORT', default: '25', description: 'SMTP port' },
  { group: 'users', name: 'MF_EMAIL_USERNAME', default: '', description: 'SMTP user; empty: no SMTP authentication' },
  { group: 'users', name: 'MF_EMAIL_PASSWORD', default: '', description: 'SMTP password (PLAIN/LOGIN)' },
  { group: 'users', name: 'MF_EMAIL_SECRET', default: '', description: 'SMTP CRAM-MD5 secret; when set it is used instead of the password' },
  { group: 'users', name: 'MF_EMAIL_FROM_ADDRESS', default: 'tethys@localhost', description: 'sender address' },
  { group: 'users', name: 'MF_EMAIL_FROM_NAME', default: 'Tethys', description: 'sender name' },
  { group: 'users', name: 'MF_EMAIL_TEMPLATE', default: '', description: 'file with the mail body; {{.Content}} (or {{content}}) is replaced by the reset link' },
  { group: 'things', name: 'MF_THINGS_SINGLE_USER_EMAIL', default: '', description: 'single-user mode of the things routes: with the token below, only that token is accepted and it is this user' },
  { group: 'things', name: 'MF_THINGS_SINGLE_USER_TOKEN', default: '', description: 'the only credential the things routes accept in single-user mode' },
];

export interface Config {
  http: { port: number; host: string; bodyLimit: number };
  dataDir: string;
  db: { url: string; poolSize: number };
  logLevel: string;
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
}

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function value(env: Env, name: string): string {
  const spec = VARIABLES.find((v) => v.name === name);
  const raw = env[name];
  // As in Mainflux, a variable set to the empty string counts as unset.
  return raw === undefined || raw === '' ? (spec?.default ?? '') : raw;
}

function integer(env: Env, name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = value(env, name);
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name}: "${raw}" is not a whole number`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(`${name}: ${n} is outside ${min}..${max}`);
  return n;
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
    throw new ConfigError('MF_USERS_ADMIN_EMAIL is set but MF_USERS_ADMIN_PASSWORD is empty: no default admin password ships');
  }
  return {
    http: {
      port: integer(env, 'TETHYS_HTTP_PORT', 0, 65535),
      host: value(env, 'TETHYS_HTTP_HOST'),
      bodyLimit: integer(env, 'TETHYS_HTTP_BODY_LIMIT', 1024),
    },
    dataDir: path.resolve(value(env, 'TETHYS_DATA_DIR')),
    db: { url: dbUrl, poolSize: integer(env, 'TETHYS_DB_POOL_SIZE', 1, 1000) },
    logLevel,
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
  };
}

export function describeVariables(): string {
  const width = Math.max(...VARIABLES.map((v) => v.name.length));
  return VARIABLES.map(
    (v) => `  ${v.name.padEnd(width)}  ${v.description}${v.default ? ` (default ${v.default})` : ''}`,
  ).join('\n');
}
