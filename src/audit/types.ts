/**
 * The audit trail (issue 21): one event for each change a request (or the system)
 * makes, written in the change's own transaction, readable at GET /events and streamed
 * after commit on the bus (`tethys.events.<entity_type>.<verb>`).
 */

/** What kind of entity an event is about; the first word of its action. */
export type EntityType =
  | 'user'
  | 'key'
  | 'thing'
  | 'channel'
  | 'connection'
  | 'group'
  | 'bootstrap'
  | 'cert'
  | 'enrollment'
  | 'registration'
  | 'layout';

/**
 * Who made a change: a user (by email), an API key (`key:<id>`, for its user), a thing
 * (`thing:<id>`, for its owner), a device enrolling itself (`enrollment:<group id>`, for
 * the group's owner), or `system` (no one: sweeps, expiry).
 */
export interface Actor {
  actor: string;
  /** The user the actor acts for; null for `system`. */
  user: string | null;
}

export const SYSTEM: Actor = { actor: 'system', user: null };

/** An event as a service records it. */
export interface NewEvent {
  /** `<entity_type>.<verb>`: `thing.create`, `connection.remove`, `bootstrap.state`. */
  action: `${EntityType}.${string}`;
  entityId: string;
  /**
   * The other entity the event is also about, found by its id too: a connection's
   * thing (the entity is its channel), a certificate's thing, a group's member, a
   * registration's thing.
   */
  relatedId?: string | null;
  /** Whose entity it is (an email): who, besides the admin, may read the event. */
  owner: string | null;
  /** What changed, never a secret (keys, passwords, tokens, private keys). */
  details?: Record<string, unknown>;
}

/** An event as it is stored and answered (GET /events, the stream). */
export interface AuditEvent {
  id: string;
  time: string;
  actor: string;
  actor_user: string | null;
  action: string;
  entity_type: string;
  entity_id: string;
  related_id: string | null;
  owner: string | null;
  source: string | null;
  request_id: string | null;
  details: Record<string, unknown>;
}

export interface EventQuery {
  entityId?: string;
  entityType?: string;
  /** An exact action, or a prefix ending with a dot (`thing.`). */
  action?: string;
  actor?: string;
  /** Event times: from inclusive, to exclusive (ISO 8601). */
  from?: number;
  to?: number;
  /** Only events after this event id (oldest first): what a follower has not seen. */
  after?: string;
  offset: number;
  limit: number;
  dir: 'asc' | 'desc';
}

export interface EventPage {
  total: number;
  /** Present (true) when more events match than are counted: `total` is then a lower bound. */
  total_capped?: true;
  events: AuditEvent[];
}
