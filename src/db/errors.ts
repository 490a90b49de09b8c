import type { Logger } from 'pino';
import { DomainError } from '../errors.js';

/** Seconds a client is told to wait (Retry-After) when the database cannot answer. */
export const DATABASE_RETRY_AFTER_S = 2;

export const DATABASE_UNAVAILABLE = 'database unavailable';
export const DATABASE_BUSY = 'database busy; try again';

/** The database cannot be reached, or refuses work for a reason of its own (a restart, a full disk). */
export function databaseUnavailable(cause: unknown): DomainError {
  return new DomainError('unavailable', DATABASE_UNAVAILABLE, {
    cause,
    retryAfterSeconds: DATABASE_RETRY_AFTER_S,
  });
}

/** Every connection of the pool is in use and too many requests already wait for one. */
export function databaseBusy(cause?: unknown): DomainError {
  return new DomainError('unavailable', DATABASE_BUSY, { cause, retryAfterSeconds: 1 });
}

/** Errors of the socket under a PostgreSQL connection. */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENOENT', // a Unix socket path that is gone while the server restarts
]);

/** node-postgres' own words for a connection it lost or could not make (it gives them no code). */
const PG_CONNECTION_MESSAGES = [
  'Connection terminated',
  'connection timeout',
  'timeout exceeded when trying to connect',
  'Query read timeout',
  'is not queryable',
  'Client was closed and is not queryable',
  'Cannot use a pool after calling end on the pool',
];

/**
 * A PostgreSQL error that says the server, not the request, is at fault: SQLSTATE class
 * 08 (connection exception), 53 (insufficient resources: too many connections, a full
 * disk, out of memory), 57P01-57P05 (shut down, crashed, starting, idle session ended),
 * 58 (system errors such as I/O), and 25006 (a read-only transaction: the server is a
 * standby, as right after a failover).
 */
function isServerSideState(code: string): boolean {
  return (
    code.startsWith('08') ||
    code.startsWith('53') ||
    code.startsWith('58') ||
    /^57P0[1-5]$/.test(code) ||
    code === '25006'
  );
}

/** True when a PostgreSQL error means the database, not the statement, failed. */
export function isPostgresUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (SOCKET_CODES.has(code)) return true;
    if (/^[0-9A-Z]{5}$/.test(code)) return isServerSideState(code);
  }
  return PG_CONNECTION_MESSAGES.some((m) => err.message.includes(m));
}

/**
 * SQLite errors of the storage rather than of the statement: a full disk or quota
 * (SQLITE_FULL), a file or folder that became read-only (SQLITE_READONLY_*), I/O errors
 * (SQLITE_IOERR_*), a file that cannot be opened (SQLITE_CANTOPEN), a lock held past
 * busy_timeout (SQLITE_BUSY), and no memory for the page cache (SQLITE_NOMEM).
 */
export function isSqliteUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return false;
  return /^SQLITE_(FULL|READONLY|IOERR|CANTOPEN|BUSY|NOMEM|PROTOCOL|LOCKED)/.test(code);
}

/**
 * Whether the database answers, as the last statements found: an outage is logged once
 * when it starts and once when it ends, not once a request.
 */
export class Availability {
  private down = false;

  constructor(private logger?: Logger) {}

  /** A statement failed for want of the database: the 503 to answer. */
  lost(err: unknown): DomainError {
    if (!this.down) {
      this.down = true;
      this.logger?.warn(
        { err: (err as Error)?.message ?? String(err) },
        'database unavailable: requests that need it answer 503',
      );
    }
    return databaseUnavailable(err);
  }

  /** A statement succeeded. */
  answered(): void {
    if (this.down) {
      this.down = false;
      this.logger?.info('database available again');
    }
  }
}
