import crypto from 'node:crypto';
import type { Logger } from 'pino';
import type { Identity } from '../auth/types.js';
import { afterCommit } from '../db/transactions.js';
import { deleteInBatches, Periodic } from '../periodic.js';
import { requestContext } from './context.js';
import {
  answeredEvent,
  type EventsRepository,
  idBound,
  type StoredEvent,
  storedEvent,
  storedShared,
} from './repo.js';
import type { Actor, AuditEvent, EventPage, EventQuery, NewEvent } from './types.js';

const PRUNE_BATCH = 1000;
const PRUNE_BATCHES = 100;
const PRUNE_EVERY_MS = 60_000;

/** Names of fields that hold secrets: never written into an event's details. */
const SECRET = /(^|_)(key|password|token|secret|cert|csr)s?$/i;

/** Who an identity is, as an event's actor: the user, or the API key acting for them. */
export function actorOf(identity: Identity): Actor {
  if (identity.actor)
    return { actor: identity.actor, user: identity.actor === 'system' ? null : identity.email };
  return identity.keyId && identity.type === 2
    ? { actor: `key:${identity.keyId}`, user: identity.email }
    : { actor: identity.email, user: identity.email };
}

/** A thing acting for its owner (a device renewing its certificate). */
export function thingActor(thingId: string, owner: string): Actor {
  return { actor: `thing:${thingId}`, user: owner };
}

let lastMs = 0;
let sequence = 0;
/** lastMs as an id's first two groups (`xxxxxxxx-xxxx-`), made once a millisecond. */
let clockPrefix = '';

/**
 * A time-ordered event id in UUIDv7's layout: 48 bits of the clock in milliseconds, a
 * 12-bit sequence (within one millisecond, ids of this process keep their order), 62
 * random bits. Ids compare as the events' times.
 */
export function newEventId(now = Date.now()): { id: string; ms: number } {
  if (now > lastMs) {
    lastMs = now;
    sequence = 0;
    clockPrefix = '';
  } else if (++sequence > 0xfff) {
    lastMs++;
    sequence = 0;
    clockPrefix = '';
  }
  if (clockPrefix === '') {
    const clock = lastMs.toString(16).padStart(12, '0');
    clockPrefix = `${clock.slice(0, 8)}-${clock.slice(8, 12)}-`;
  }
  const random = crypto.randomUUID(); // xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx
  return { id: `${clockPrefix}7${sequence.toString(16).padStart(3, '0')}-${random.slice(19)}`, ms: lastMs };
}

/** Details without any field whose name says it holds a secret, however deep. */
export function scrub(details: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(details)) {
    if (SECRET.test(name)) continue;
    out[name] = isRecord(value) ? scrub(value) : value;
  }
  return out;
}

/**
 * Whether scrub would change anything: a secret's name, or an object that is not plain
 * (scrub keeps only its own fields). Most details have neither.
 */
function scrubs(details: Record<string, unknown>): boolean {
  for (const name in details) {
    if (!Object.hasOwn(details, name)) continue;
    if (SECRET.test(name)) return true;
    const value = details[name];
    if (isRecord(value)) {
      const proto = Object.getPrototypeOf(value);
      if ((proto !== Object.prototype && proto !== null) || scrubs(value)) return true;
    }
  }
  return false;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Details as stored: their JSON, scrubbed. */
export function detailsJson(details: Record<string, unknown> | undefined): string {
  if (!details) return '{}';
  return JSON.stringify(scrubs(details) ? scrub(details) : details);
}

export interface AuditOptions {
  /** How long events are kept (ms); 0 keeps them for ever. */
  retentionMs: number;
  /** The admin reads every event; others read those about their own entities. */
  adminEmail: string;
}

/**
 * The audit trail. Services record an event with each change, inside the change's
 * transaction: the events of a unit of work are written as its last statement, so a
 * change that rolls back leaves no event and a committed one has its events. Once
 * committed they go to the stream (the bus: NATS subjects `tethys.events.<action>`,
 * or this process's listeners).
 */
export class AuditLog {
  private listeners = new Set<(events: AuditEvent[]) => void>();
  private sweeper = new Periodic(
    () => this.prune(),
    PRUNE_EVERY_MS,
    (err) => this.logger.warn({ err }, 'could not prune old audit events'),
  );
  /** Set by the bus: carries committed events to NATS. */
  stream?: (events: AuditEvent[]) => void;

  constructor(
    private repo: EventsRepository,
    private options: AuditOptions,
    private logger: Logger,
  ) {}

  /**
   * Records events of a change being made. Must be called inside the change's unit of
   * work (`inTransaction`): an event recorded outside one would not commit with its
   * change, so it is a programming error. (A change written by a write group takes its
   * events from `prepare` instead, into its own statement, and calls `published`.)
   */
  record(by: Actor | Identity, events: NewEvent | NewEvent[]): void {
    const stored = this.prepare(by, Array.isArray(events) ? events : [events]);
    if (stored.length === 0) return;
    if (!this.repo.buffer(stored))
      throw new Error(`audit: ${stored[0]!.json} recorded outside a transaction`);
    this.published(stored);
  }

  /**
   * The events as written: ids, actor and where the request came from, as their stored
   * JSON (built once, straight from the service's fields). The caller writes them with
   * its change, then calls `published` for those it wrote.
   */
  prepare(by: Actor | Identity, list: NewEvent[]): StoredEvent[] {
    if (list.length === 0) return [];
    const actor = 'user' in by ? by : actorOf(by);
    const ctx = requestContext();
    const shared = storedShared(actor, ctx?.source ?? null, ctx?.requestId ?? null);
    const out = new Array<StoredEvent>(list.length);
    for (let i = 0; i < list.length; i++) {
      const e = list[i]!;
      out[i] = storedEvent(newEventId().id, shared, e, detailsJson(e.details));
    }
    return out;
  }

  /** Events written with a change go to the stream once it commits (now, outside a transaction). */
  published(events: StoredEvent[]): void {
    if (events.length > 0) void afterCommit(async () => this.publish(events));
  }

  /** Committed events (this instance's, or another's through the bus) to this process's listeners. */
  deliver(events: AuditEvent[]): void {
    for (const listener of this.listeners) {
      try {
        listener(events);
      } catch (err) {
        this.logger.warn({ err }, 'an audit event listener failed');
      }
    }
  }

  /** Committed events, read back from their stored JSON only when someone listens. */
  private publish(stored: StoredEvent[]): void {
    if (this.listeners.size === 0 && !this.stream) return;
    const events = stored.map(answeredEvent);
    this.deliver(events);
    try {
      this.stream?.(events);
    } catch (err) {
      // Committed and kept: the stream is told after the fact, and GET /events has them.
      this.logger.warn({ err }, 'could not stream audit events');
    }
  }

  /** Listens to committed events of every instance; returns the unsubscribe. */
  subscribe(listener: (events: AuditEvent[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Events the identity may read: the admin every one, a user those about their entities. */
  list(identity: Identity, q: EventQuery): Promise<EventPage> {
    const owner = identity.email === this.options.adminEmail ? null : identity.email;
    return this.repo
      .page(owner, q)
      .then(({ total, capped, items }) =>
        capped ? { total, total_capped: true, events: items } : { total, events: items },
      );
  }

  /** Deletes events older than the retention, a batch at a time; returns how many. */
  async prune(now = Date.now()): Promise<number> {
    if (this.options.retentionMs <= 0) return 0;
    const bound = idBound(now - this.options.retentionMs);
    return deleteInBatches((limit) => this.repo.prune(bound, limit), PRUNE_BATCH, PRUNE_BATCHES);
  }

  /** Prunes every minute until close(). */
  start(): void {
    this.sweeper.start();
  }

  close(): void {
    this.sweeper.stop();
  }
}
