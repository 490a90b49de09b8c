import crypto from 'node:crypto';
import type { Logger } from 'pino';
import { DomainError, unprocessable } from '../errors.js';
import { deleteInBatches, Periodic } from '../periodic.js';
import type { IdempotencyRepository } from './repo.js';
import type { Answer, Claim } from './types.js';

/** How long an answer is replayed for its key (the draft's suggestion: 24 hours). */
export const RETENTION_MS = 24 * 60 * 60 * 1000;
/**
 * How long a running request holds its key before a retry may take it over: longer than
 * any request runs (statements time out after TETHYS_DB_QUERY_TIMEOUT, a whole request
 * must arrive within TETHYS_HTTP_REQUEST_TIMEOUT), so only a crashed process's claim
 * lapses, and a retry is not refused forever.
 */
export const LEASE_MS = 60_000;
/** The longest key accepted, in characters. */
export const MAX_KEY_LENGTH = 255;

const PRUNE_EVERY_MS = 60_000;
const PRUNE_BATCH = 500;
/** Batches a sweep deletes at most; what is left waits for the next sweep. */
const PRUNE_BATCHES = 20;
/** Claims a request tries before it is told to retry (each lost to a row that vanished meanwhile). */
const CLAIM_ATTEMPTS = 3;

export const IdempotencyMessages = {
  running: 'a request with this Idempotency-Key is still being processed; try again later',
  reused: 'this Idempotency-Key was used with a different request',
  malformed: `invalid Idempotency-Key: 1 to ${MAX_KEY_LENGTH} visible ASCII characters, as a quoted string or bare`,
} as const;

/** The first request with this key is still running: 409, to be retried. */
const stillRunning = () => new DomainError('conflict', IdempotencyMessages.running, { retryAfterSeconds: 1 });

/** A claim, or the first answer to replay. */
export type Outcome = { claim: Claim } | { replay: Answer };

/**
 * Idempotent writes (the IETF httpapi draft "The Idempotency-Key HTTP Header Field"):
 * the first request with a caller's key runs and its answer is kept for RETENTION_MS;
 * a retry with the same request gets that answer again, a retry while it still runs is
 * told to wait (409), and the key used for a different request is refused (422).
 */
export class IdempotencyService {
  /** The clock (milliseconds since the epoch); tests move it. */
  now: () => number = Date.now;
  private sweeper = new Periodic(
    () => this.prune(),
    PRUNE_EVERY_MS,
    (err) => this.logger.warn({ err }, 'could not prune expired idempotency keys'),
  );

  constructor(
    private repo: IdempotencyRepository,
    private logger: Logger,
  ) {}

  /**
   * Claims the key for a request with this fingerprint (a hash of what it asks), or
   * answers what its first use answered. Throws 422 when the key was used for another
   * request, 409 while the first still runs.
   */
  async begin(scope: string, key: string, fingerprint: string): Promise<Outcome> {
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
      const now = this.now();
      const claim: Claim = { scope, key, id: crypto.randomUUID(), createdAt: now };
      if (await this.repo.claim(claim, fingerprint, now + LEASE_MS)) return { claim };
      const held = await this.repo.find(scope, key);
      // Released or expired since the claim failed: claim again.
      if (!held || held.expiresAt <= now) continue;
      if (held.fingerprint !== fingerprint) throw unprocessable(IdempotencyMessages.reused);
      if (!held.answer) throw stillRunning();
      return { replay: held.answer };
    }
    throw stillRunning();
  }

  /**
   * Whether an answer is kept for replay. A failure of ours or of a dependency (5xx),
   * a lost race (409) and throttling (429) are not: each asks to be retried, and the
   * retry must run again. Requests are all or nothing, so these left nothing behind.
   */
  keeps(status: number): boolean {
    return status < 500 && status !== 409 && status !== 429;
  }

  /**
   * Settles a claim: keeps the answer (null, or one keeps() refuses: frees the key, so
   * a retry runs again). A failure is logged: the answer still goes to the client,
   * and the claim lapses with its lease.
   */
  async settle(claim: Claim, answer: Answer | null): Promise<void> {
    try {
      if (answer && this.keeps(answer.status)) {
        if (!(await this.repo.complete(claim, answer, claim.createdAt + RETENTION_MS))) {
          this.logger.warn({ key: claim.key }, 'an idempotency key was taken over before its request ended');
        }
      } else {
        await this.repo.release(claim);
      }
    } catch (err) {
      this.logger.warn(
        { err, key: claim.key },
        'could not settle an idempotency key; it lapses with its lease',
      );
    }
  }

  /** Deletes expired keys, a batch at a time, at most PRUNE_BATCHES batches; returns how many. */
  prune(): Promise<number> {
    return deleteInBatches((limit) => this.repo.prune(this.now(), limit), PRUNE_BATCH, PRUNE_BATCHES);
  }

  /** Prunes expired keys every PRUNE_EVERY_MS until close(). */
  start(): void {
    this.sweeper.start();
  }

  close(): void {
    this.sweeper.stop();
  }
}
