import { throttled } from './errors.js';
import { Lru } from './lru.js';

export interface ThrottlePolicy {
  /** Failures of one account from one address before it must wait. */
  freeFailures: number;
  /** Failures from one address, over every account, before it must wait. */
  freeFailuresPerSource: number;
  /** The first wait; each further failure doubles it. */
  firstDelayMs: number;
  /** The longest wait. */
  maxDelayMs: number;
  /** Failures older than this are forgotten. */
  forgetAfterMs: number;
}

export const DEFAULT_THROTTLE: ThrottlePolicy = {
  freeFailures: 5,
  freeFailuresPerSource: 50,
  firstDelayMs: 1000,
  maxDelayMs: 15 * 60_000,
  forgetAfterMs: 15 * 60_000,
};

interface Record {
  failures: number;
  /** Date.now() before which an attempt is refused. */
  blockedUntil: number;
  lastFailure: number;
}

/** Entries each table keeps (an entry is a few dozen bytes): bounded like every cache. */
const TABLE_SIZE = 100_000;

/**
 * Slows down guessing (passwords, a gateway's external key, a thing key over MQTT).
 * Failures are counted per account and source address: after `freeFailures` of them
 * that pair waits 1 s, then 2, 4, … up to `maxDelayMs`, and an attempt made while it
 * waits is refused without being checked (429, or an MQTT refusal), whether or not it
 * would have been right. A success clears the pair. Failures from one address over all
 * accounts are counted too (credential stuffing), with a larger allowance.
 *
 * Nothing is counted per account alone, so a guesser elsewhere cannot lock the owner
 * out from their own address. Counts live in this process (each instance keeps its own).
 */
export class FailureThrottle {
  private pairs = new Lru<string, Record>(TABLE_SIZE);
  private sources = new Lru<string, Record>(TABLE_SIZE);

  constructor(
    private policy: ThrottlePolicy = DEFAULT_THROTTLE,
    private now: () => number = Date.now,
  ) {}

  /** Throws a 429 DomainError when this account or this address must wait. */
  check(subject: string, source: string): void {
    const wait = Math.max(
      this.waitOf(this.pairs, pairKey(subject, source)),
      this.waitOf(this.sources, source),
    );
    if (wait > 0) throw throttled(Math.ceil(wait / 1000));
  }

  /** Seconds to wait, or 0 (for callers that refuse in their own protocol). */
  retryAfter(subject: string, source: string): number {
    const wait = Math.max(
      this.waitOf(this.pairs, pairKey(subject, source)),
      this.waitOf(this.sources, source),
    );
    return wait > 0 ? Math.ceil(wait / 1000) : 0;
  }

  failed(subject: string, source: string): void {
    this.count(this.pairs, pairKey(subject, source), this.policy.freeFailures);
    this.count(this.sources, source, this.policy.freeFailuresPerSource);
  }

  succeeded(subject: string, source: string): void {
    this.pairs.delete(pairKey(subject, source));
  }

  private waitOf(table: Lru<string, Record>, key: string): number {
    const record = table.get(key);
    if (!record) return 0;
    const now = this.now();
    if (now - record.lastFailure > this.policy.forgetAfterMs && now >= record.blockedUntil) {
      table.delete(key);
      return 0;
    }
    return Math.max(0, record.blockedUntil - now);
  }

  private count(table: Lru<string, Record>, key: string, free: number): void {
    const now = this.now();
    let record = table.get(key);
    if (!record || (now - record.lastFailure > this.policy.forgetAfterMs && now >= record.blockedUntil)) {
      record = { failures: 0, blockedUntil: 0, lastFailure: now };
      table.set(key, record);
    }
    record.failures++;
    record.lastFailure = now;
    if (record.failures >= free) {
      const doublings = Math.min(30, record.failures - free);
      const delay = Math.min(this.policy.maxDelayMs, this.policy.firstDelayMs * 2 ** doublings);
      record.blockedUntil = now + delay;
    }
  }
}

function pairKey(subject: string, source: string): string {
  return `${source}\u0000${subject}`;
}
