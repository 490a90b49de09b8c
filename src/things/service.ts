import crypto from 'node:crypto';
import type { AuditLog } from '../audit/service.js';
import type { NewEvent } from '../audit/types.js';
import type { AuthService } from '../auth/service.js';
import type { Identity } from '../auth/types.js';
import type { Db } from '../db/schema.js';
import { inTransaction } from '../db/transactions.js';
import { malformed, notFound, unauthenticated } from '../errors.js';
import type { EventHub } from '../events.js';
import { newEntityId } from '../ids.js';
import type { ThingAccess } from './access.js';
import type { ChannelsRepository, ConnectionsRepository, ThingsRepository } from './repo.js';
import {
  byteLength,
  type Channel,
  isUuid,
  MAX_KEY,
  MAX_NAME,
  type Metadata,
  type Page,
  type PageQuery,
  type Thing,
} from './types.js';

/** Keeps one /connect within one SQL statement's parameter limits (SQLite: 32766). */
const MAX_CONNECT_IDS = 10_000;
const MAX_CONNECT_PAIRS = 100_000;

export interface NewThing {
  name?: string;
  key?: string;
  metadata?: Metadata;
}

export interface NewChannel {
  name?: string;
  metadata?: Metadata;
}

/** A raw Authorization value, or an identity another service already verified. */
export type Credential = string | undefined | Identity;

export interface SingleUser {
  email: string;
  token: string;
}

/**
 * Things, channels and their connections (API.md §3, MODEL.md §2.4–2.6, §3–4). Every
 * operation is scoped to the caller: another user's entity is indistinguishable from a
 * missing one.
 */
export class ThingsService {
  constructor(
    private db: Db,
    private auth: AuthService,
    private things: ThingsRepository,
    private channels: ChannelsRepository,
    private connections: ConnectionsRepository,
    readonly access: ThingAccess,
    private events: EventHub,
    private audit: AuditLog,
    private singleUser?: SingleUser,
  ) {}

  /**
   * Who the credential is. In single-user mode only the configured token is accepted.
   * Services in this process (bootstrap, provision) pass an Identity they already
   * authenticated.
   */
  async identify(token: Credential): Promise<Identity> {
    if (typeof token === 'object') return token;
    if (this.singleUser) {
      if (token !== this.singleUser.token) throw unauthenticated();
      return { email: this.singleUser.email, userId: '', type: 0 };
    }
    return this.auth.identify(token);
  }

  private checkName(name: string | undefined): string {
    const n = name ?? '';
    if (byteLength(n) > MAX_NAME) throw malformed();
    return n;
  }

  /** `ids`: chosen by an internal caller (provisioning) that needs them up front. */
  async createThings(token: Credential, input: NewThing[], ids?: string[]): Promise<Thing[]> {
    const identity = await this.identify(token);
    const { email } = identity;
    if (input.length === 0) throw malformed();
    const things = input.map((t, index) => {
      if (byteLength(t.key ?? '') > MAX_KEY) throw malformed();
      return {
        id: ids?.[index] ?? newEntityId(),
        owner: email,
        name: this.checkName(t.name),
        key: t.key || crypto.randomUUID(),
        metadata: t.metadata ?? {},
      };
    });
    const events = this.audit.prepare(identity, createdEvents('thing.create', things));
    await this.things.insert(things, events);
    this.audit.published(events);
    return things;
  }

  async viewThing(token: Credential, id: string): Promise<Thing> {
    const { email } = await this.identify(token);
    const thing = isUuid(id) ? await this.things.byId(email, id.toLowerCase()) : null;
    if (!thing) throw notFound();
    return thing;
  }

  /** Whether the thing exists, whoever owns it (certs: a certificate's thing is still there). */
  thingExists(id: string): Promise<boolean> {
    return this.things.exists(id);
  }

  async listThings(token: Credential, q: PageQuery): Promise<Page<Thing>> {
    const { email } = await this.identify(token);
    return this.things.list(email, q);
  }

  async updateThing(
    token: Credential,
    id: string,
    name: string | undefined,
    metadata: Metadata | undefined,
  ): Promise<void> {
    const identity = await this.identify(token);
    if (!isUuid(id)) throw malformed();
    const thingId = id.toLowerCase();
    const cleanName = this.checkName(name);
    await inTransaction(this.db, async () => {
      if (!(await this.things.update(identity.email, thingId, cleanName, metadata ?? {}))) throw notFound();
      this.audit.record(identity, {
        action: 'thing.update',
        entityId: thingId,
        owner: identity.email,
        details: described(cleanName, metadata ?? {}),
      });
    });
  }

  async updateKey(token: Credential, id: string, key: string): Promise<void> {
    const identity = await this.identify(token);
    if (!key) throw malformed();
    if (byteLength(key) > MAX_KEY) throw malformed('update entity failed');
    if (!isUuid(id)) throw malformed(); // as 0.12.1, whose uuid column refused it
    const thingId = id.toLowerCase();
    const oldKey = await inTransaction(this.db, async () => {
      const old = await this.things.updateKey(identity.email, thingId, key);
      if (old !== null)
        this.audit.record(identity, { action: 'thing.key_change', entityId: thingId, owner: identity.email });
      return old;
    });
    if (oldKey === null) throw notFound();
    await this.events.emit('thing.key_changed', { id, oldKey });
  }

  async removeThing(token: Credential, id: string): Promise<void> {
    const identity = await this.identify(token);
    const { email } = identity;
    if (!isUuid(id)) throw malformed('remove entity failed');
    const removed = await inTransaction(this.db, async () => {
      const thing = await this.things.remove(email, id.toLowerCase());
      if (thing)
        this.audit.record(identity, {
          action: 'thing.remove',
          entityId: thing.id,
          owner: email,
          details: { name: thing.name },
        });
      return thing;
    });
    if (removed) await this.events.emit('thing.removed', { id: removed.id, key: removed.key, owner: email });
  }

  async createChannels(token: Credential, input: NewChannel[]): Promise<Channel[]> {
    const identity = await this.identify(token);
    const { email } = identity;
    if (input.length === 0) throw malformed();
    const channels = input.map((c) => ({
      id: newEntityId(),
      owner: email,
      name: this.checkName(c.name),
      metadata: c.metadata ?? {},
    }));
    const events = this.audit.prepare(identity, createdEvents('channel.create', channels));
    await this.channels.insert(channels, events);
    this.audit.published(events);
    return channels;
  }

  async viewChannel(token: Credential, id: string): Promise<Channel> {
    const { email } = await this.identify(token);
    const channel = isUuid(id) ? await this.channels.byId(email, id.toLowerCase()) : null;
    if (!channel) throw notFound();
    return channel;
  }

  async listChannels(token: Credential, q: PageQuery): Promise<Page<Channel>> {
    const { email } = await this.identify(token);
    return this.channels.list(email, q);
  }

  async updateChannel(
    token: Credential,
    id: string,
    name: string | undefined,
    metadata: Metadata | undefined,
  ): Promise<void> {
    const identity = await this.identify(token);
    if (!isUuid(id)) throw malformed();
    const cleanName = this.checkName(name);
    const channelId = id.toLowerCase();
    await inTransaction(this.db, async () => {
      if (!(await this.channels.update(identity.email, channelId, cleanName, metadata ?? {})))
        throw notFound();
      this.audit.record(identity, {
        action: 'channel.update',
        entityId: channelId,
        owner: identity.email,
        details: described(cleanName, metadata ?? {}),
      });
    });
    await this.events.emit('channel.updated', {
      id: id.toLowerCase(),
      name: cleanName,
      metadata: metadata ?? {},
    });
  }

  async removeChannel(token: Credential, id: string): Promise<void> {
    const identity = await this.identify(token);
    const { email } = identity;
    if (!isUuid(id)) return;
    const removed = await inTransaction(this.db, async () => {
      const channel = await this.channels.remove(email, id.toLowerCase());
      if (channel)
        this.audit.record(identity, {
          action: 'channel.remove',
          entityId: channel.id,
          owner: email,
          details: { name: channel.name },
        });
      return channel;
    });
    if (removed) await this.events.emit('channel.removed', { id: removed.id, owner: email });
  }

  /** Connects every channel with every thing, all or nothing (POST /connect). */
  async connect(token: Credential, channelIds: string[], thingIds: string[]): Promise<void> {
    const identity = await this.identify(token);
    const { email } = identity;
    if (channelIds.length === 0 || thingIds.length === 0 || [...channelIds, ...thingIds].some((id) => !id)) {
      throw malformed();
    }
    if (![...channelIds, ...thingIds].every(isUuid)) throw malformed('add connection failed');
    const channels = [...new Set(channelIds.map((id) => id.toLowerCase()))];
    const things = [...new Set(thingIds.map((id) => id.toLowerCase()))];
    if (
      channels.length + things.length > MAX_CONNECT_IDS ||
      channels.length * things.length > MAX_CONNECT_PAIRS
    ) {
      throw malformed(
        `too many connections in one request: at most ${MAX_CONNECT_IDS} ids and ${MAX_CONNECT_PAIRS} pairs`,
      );
    }
    const pairs = channels.flatMap((channelId) => things.map((thingId) => ({ channelId, thingId })));
    const events = this.audit.prepare(identity, connectionEvents(identity, 'connection.create', pairs));
    const connected = await this.connections.connectAll(email, channels, things, events);
    if (!connected) throw notFound();
    this.audit.published(events);
    for (const pair of pairs) await this.events.emit('connection.added', pair);
  }

  /** True when every id names one of the caller's channels. */
  async ownsChannels(token: Credential, channelIds: string[]): Promise<boolean> {
    const { email } = await this.identify(token);
    const ids = [...new Set(channelIds)];
    if (!ids.every(isUuid)) return false;
    return (
      (
        await this.channels.ownedIds(
          email,
          ids.map((id) => id.toLowerCase()),
        )
      ).size === ids.length
    );
  }

  /**
   * Connects a thing to channels, leaving pairs that are already connected as they are
   * (bootstrap's whitelist). The caller must own the thing and every channel.
   */
  async ensureConnected(token: Credential, channelIds: string[], thingId: string): Promise<void> {
    const identity = await this.identify(token);
    const { email } = identity;
    const channels = [...new Set(channelIds)];
    const added = await inTransaction(this.db, async () => {
      if (
        !(await this.ownsChannels(identity, channels)) ||
        (await this.things.ownedIds(email, [thingId])).size !== 1
      ) {
        throw notFound();
      }
      const added = await this.connections.connectMissing(email, channels, thingId);
      this.recordConnections(
        identity,
        'connection.create',
        added.map((channelId) => ({ channelId, thingId })),
      );
      return added;
    });
    for (const channelId of added) await this.events.emit('connection.added', { channelId, thingId });
  }

  /**
   * Connects a thing to channels that were all created in the caller's current
   * transaction (provisioning): nothing to check and no existing pair to look for.
   */
  async connectCreated(token: Credential, channelIds: string[], thingId: string): Promise<void> {
    const identity = await this.identify(token);
    await this.connections.insertPairs(identity.email, channelIds, thingId);
    this.recordConnections(
      identity,
      'connection.create',
      channelIds.map((channelId) => ({ channelId, thingId })),
    );
    for (const channelId of channelIds) await this.events.emit('connection.added', { channelId, thingId });
  }

  /** Disconnects a thing from channels, ignoring pairs that are not connected. */
  async disconnectAll(token: Credential, channelIds: string[], thingId: string): Promise<void> {
    const identity = await this.identify(token);
    await inTransaction(this.db, async () => {
      for (const channelId of new Set(channelIds)) {
        if (await this.connections.disconnect(identity.email, channelId, thingId)) {
          this.recordConnections(identity, 'connection.remove', [{ channelId, thingId }]);
          await this.events.emit('connection.removed', { channelId, thingId });
        }
      }
    });
  }

  async disconnect(token: Credential, channelId: string, thingId: string): Promise<void> {
    const identity = await this.identify(token);
    if (!isUuid(channelId) || !isUuid(thingId)) throw malformed('remove connection failed');
    const pair = { channelId: channelId.toLowerCase(), thingId: thingId.toLowerCase() };
    await inTransaction(this.db, async () => {
      if (!(await this.connections.disconnect(identity.email, pair.channelId, pair.thingId)))
        throw notFound();
      this.recordConnections(identity, 'connection.remove', [pair]);
    });
    await this.events.emit('connection.removed', pair);
  }

  async channelsOfThing(
    token: Credential,
    thingId: string,
    q: PageQuery,
    connected: boolean,
  ): Promise<Page<Channel>> {
    const { email } = await this.identify(token);
    if (!isUuid(thingId)) throw notFound();
    return this.channels.listByThing(email, thingId.toLowerCase(), q, connected);
  }

  async thingsOfChannel(
    token: Credential,
    channelId: string,
    q: PageQuery,
    connected: boolean,
  ): Promise<Page<Thing>> {
    const { email } = await this.identify(token);
    if (!isUuid(channelId)) throw notFound();
    return this.things.listByChannel(email, channelId.toLowerCase(), q, connected);
  }

  /** One event a pair: the entity is the channel, the thing the related entity. */
  private recordConnections(
    identity: Identity,
    action: 'connection.create' | 'connection.remove',
    pairs: { channelId: string; thingId: string }[],
  ): void {
    this.audit.record(identity, connectionEvents(identity, action, pairs));
  }
}

/** The events of things or channels created: each one's name and metadata fields. */
function createdEvents(action: 'thing.create' | 'channel.create', created: (Thing | Channel)[]): NewEvent[] {
  return created.map((e) => ({
    action,
    entityId: e.id,
    owner: e.owner,
    details: described(e.name, e.metadata),
  }));
}

/** A connection's event: the channel is its entity, the thing the related one. */
function connectionEvents(
  identity: Identity,
  action: 'connection.create' | 'connection.remove',
  pairs: { channelId: string; thingId: string }[],
): NewEvent[] {
  return pairs.map((p) => ({
    action,
    entityId: p.channelId,
    relatedId: p.thingId,
    owner: identity.email,
    details: { channel_id: p.channelId, thing_id: p.thingId },
  }));
}

/** What an event tells of a thing or channel: its name and the names of its metadata's fields (values may be secrets). */
export function described(name: string, metadata: Metadata): Record<string, unknown> {
  return { name, metadata_fields: Object.keys(metadata) };
}
