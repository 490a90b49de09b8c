/**
 * Domain errors and their one mapping to HTTP. Services throw these; nothing else in
 * the code base decides a status code. Messages are Mainflux's, so people who know
 * Mainflux recognise them (clients read only the status).
 */
export type ErrorKind =
  | 'malformed'
  | 'invalid_query'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'unprocessable'
  | 'unsupported_content_type'
  | 'too_large'
  | 'not_configured'
  | 'upstream_failed'
  | 'unavailable'
  | 'throttled';

export class DomainError extends Error {
  /** Seconds the client should wait before trying again (the Retry-After header), if it should. */
  readonly retryAfterSeconds?: number;

  constructor(
    readonly kind: ErrorKind,
    message: string,
    options?: { cause?: unknown; retryAfterSeconds?: number },
  ) {
    super(message, options);
    this.name = 'DomainError';
    if (options?.retryAfterSeconds !== undefined) this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export const Messages = {
  malformed: 'malformed entity specification',
  invalidQuery: 'invalid query parameters',
  credentials: 'missing or invalid credentials provided',
  notFound: 'non-existent entity',
  conflict: 'entity already exists',
  contentType: 'unsupported content type',
  concurrentChange: 'entity changed by a concurrent request; try again',
} as const;

export const malformed = (message: string = Messages.malformed, cause?: unknown) =>
  new DomainError('malformed', message, { cause });
export const invalidQuery = (message: string = Messages.invalidQuery) =>
  new DomainError('invalid_query', message);
export const unauthenticated = (message: string = Messages.credentials) =>
  new DomainError('unauthenticated', message);
export const forbidden = (message: string) => new DomainError('forbidden', message);
export const notFound = (message: string = Messages.notFound) => new DomainError('not_found', message);
export const conflict = (message: string = Messages.conflict) => new DomainError('conflict', message);
/** Well-formed, but at odds with what the server already holds for it (a reused idempotency key). */
export const unprocessable = (message: string) => new DomainError('unprocessable', message);
export const unsupportedContentType = () => new DomainError('unsupported_content_type', Messages.contentType);
export const notConfigured = (message: string) => new DomainError('not_configured', message);
export const upstreamFailed = (message: string, cause?: unknown) =>
  new DomainError('upstream_failed', message, { cause });
/** A dependency (database, message bus) cannot serve the request now; retrying later can succeed. */
export const unavailable = (message: string, retryAfterSeconds: number, cause?: unknown) =>
  new DomainError('unavailable', message, { cause, retryAfterSeconds });
/** Too many failed attempts: the caller must wait before trying again. */
export const throttled = (retryAfterSeconds: number) =>
  new DomainError('throttled', `too many failed attempts; try again in ${retryAfterSeconds} s`, {
    retryAfterSeconds,
  });

/**
 * Mainflux answers bad credentials with 401 in the things service and 403 in users,
 * auth and bootstrap; routes declare which family they belong to.
 */
export type UnauthenticatedStatus = 401 | 403;

const STATUS: Record<ErrorKind, number> = {
  malformed: 400,
  invalid_query: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unprocessable: 422,
  unsupported_content_type: 415,
  too_large: 413,
  not_configured: 503,
  upstream_failed: 502,
  unavailable: 503,
  throttled: 429,
};

export function statusOf(err: DomainError, unauthenticatedStatus: UnauthenticatedStatus): number {
  return err.kind === 'unauthenticated' ? unauthenticatedStatus : STATUS[err.kind];
}

export function isDomainError(err: unknown): err is DomainError {
  return err instanceof DomainError;
}
