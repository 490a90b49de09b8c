import crypto from 'node:crypto';
import type { AuditLog } from '../audit/service.js';
import { type Actor, SYSTEM } from '../audit/types.js';
import type { AuthService } from '../auth/service.js';
import type { Identity } from '../auth/types.js';
import type { Db } from '../db/schema.js';
import { inTransaction } from '../db/transactions.js';
import { DomainError, malformed, notFound, unauthenticated } from '../errors.js';
import type { EventHub } from '../events.js';
import type { Credential, ThingsService } from '../things/service.js';
import { isUuid } from '../things/types.js';
import type { FailureThrottle } from '../throttle.js';
import { ConfigCache } from './cache.js';
import type { BootstrapRepository } from './repo.js';
import { sealConfig } from './sealed.js';
import type { BootstrapCipher } from './secure.js';
import { type BootstrapConfig, type Certs, type ConfigFilter, State } from './types.js';

export interface NewConfig {
  thingId?: string;
  externalId: string;
  externalKey: string;
  channels: string[];
  name?: string;
  content?: string;
  certs?: Partial<Certs>;
}

/** The bytes a gateway receives: what the Mainflux Agent parses (API.md §4.9, §8). */
export interface DeviceConfig {
  mainflux_id: string;
  mainflux_key: string;
  mainflux_channels: { id: string; name?: string; metadata: Record<string, unknown> | null }[] | null;
  content?: string;
  client_cert?: string;
  client_key?: string;
  ca_cert?: string;
}

const READ_FAILED = 'failed to read bootstrap configuration';
const KEY_MISMATCH = 'failed to get bootstrap configuration for given external key';
const SECURE_FAILED = 'failed to get bootstrap configuration for given encrypted external key';

/**
 * Bootstrap configurations and the gateway's zero-touch fetch (API.md §4, MODEL.md §5).
 * Whitelisting connects the thing to its config's channels through the things service,
 * in the same transaction as the state change.
 */
export class BootstrapService {
  private cache: ConfigCache;

  constructor(
    private db: Db,
    private auth: AuthService,
    private things: ThingsService,
    private configs: BootstrapRepository,
    private cipher: BootstrapCipher,
    private events: EventHub,
    private throttle: FailureThrottle,
    private audit: AuditLog,
  ) {
    this.cache = new ConfigCache(configs, events);
    events.on('connection.removed', ({ thingId, channelId }) => this.deactivateIfListed(thingId, channelId));
  }

  /**
   * A thing disconnected from a channel its active config lists: the config is no
   * longer active. The disconnection's consequence, not anyone's request: the system's.
   */
  private async deactivateIfListed(thingId: string, channelId: string): Promise<void> {
    await inTransaction(this.db, async () => {
      const owner = await this.configs.deactivateIfListed(thingId, channelId);
      if (owner !== null)
        this.audit.record(SYSTEM, {
          action: 'bootstrap.state',
          entityId: thingId,
          owner,
          details: { state: State.inactive, disconnected_channel: channelId },
        });
    });
  }

  private async identify(token: Credential): Promise<Identity> {
    if (typeof token === 'object') return token;
    return this.auth.identify(token);
  }

  async add(token: Credential, input: NewConfig): Promise<string> {
    if (typeof token !== 'object' && !token) throw unauthenticated();
    if (!input.externalId || !input.externalKey) throw malformed();
    const identity = await this.identify(token);
    const channels = [...new Set(input.channels.map((c) => c.toLowerCase()))];
    return inTransaction(this.db, async () => {
      if (channels.length > 0 && !(await this.things.ownsChannels(identity, channels))) {
        throw malformed('failed to check channels connections');
      }
      let thingId: string;
      if (input.thingId) {
        try {
          thingId = (await this.things.viewThing(identity, input.thingId)).id;
        } catch (err) {
          if (err instanceof DomainError && err.kind === 'not_found')
            throw notFound('failed to add bootstrap configuration');
          throw err;
        }
      } else {
        // A thing of its own, created in the same transaction: no orphan if saving fails.
        thingId = (await this.things.createThings(identity, [{}]))[0]!.id;
      }
      await this.save(identity, { ...input, thingId, state: State.inactive }, channels);
      return thingId;
    });
  }

  /**
   * A config for a thing and channels the caller created in the current transaction
   * (provisioning): nothing to re-check, the certificates and the state are written with
   * the config, and an active config's connections are inserted without looking for
   * existing ones. The same conflict answer as `add` for a taken external id.
   */
  async addProvisioned(
    identity: Identity,
    input: {
      thingId: string;
      externalId: string;
      externalKey: string;
      channels: string[];
      content: string;
      certs?: Certs;
      active: boolean;
    },
  ): Promise<void> {
    await inTransaction(this.db, async () => {
      await this.save(
        identity,
        { ...input, state: input.active ? State.active : State.inactive },
        input.channels,
      );
      if (input.active) {
        await this.things.connectCreated(identity, input.channels, input.thingId);
        this.audit.record(identity, {
          action: 'bootstrap.state',
          entityId: input.thingId,
          owner: identity.email,
          details: { state: State.active },
        });
      }
    });
  }

  /**
   * Inserts a config and its channel list, with its event; a taken external id or thing
   * answers 409. In the caller's unit of work.
   */
  private async save(
    identity: Identity,
    input: Pick<NewConfig, 'externalId' | 'externalKey' | 'name' | 'content' | 'certs'> & {
      thingId: string;
      state: number;
    },
    channels: string[],
  ): Promise<void> {
    await this.configs.save(
      {
        thingId: input.thingId,
        owner: identity.email,
        externalId: input.externalId,
        externalKey: input.externalKey,
        name: input.name ?? '',
        content: input.content ?? '',
        clientCert: input.certs?.clientCert ?? '',
        clientKey: input.certs?.clientKey ?? '',
        caCert: input.certs?.caCert ?? '',
        state: input.state,
      },
      channels,
    );
    this.audit.record(identity, {
      action: 'bootstrap.create',
      entityId: input.thingId,
      owner: identity.email,
      details: {
        external_id: input.externalId,
        name: input.name ?? '',
        channels,
        state: input.state,
        certificates: certsSet(input.certs),
      },
    });
  }

  private async owned(
    identity: Identity,
    id: string,
    message = 'non-existent entity',
    lock = false,
  ): Promise<BootstrapConfig> {
    const config = isUuid(id) ? await this.configs.byId(identity.email, id.toLowerCase(), lock) : null;
    if (!config) throw notFound(message);
    return config;
  }

  async view(token: Credential, id: string): Promise<BootstrapConfig> {
    return this.owned(await this.identify(token), id);
  }

  async update(token: Credential, id: string, name: string, content: string): Promise<void> {
    const identity = await this.identify(token);
    if (!isUuid(id)) throw notFound();
    const thingId = id.toLowerCase();
    await inTransaction(this.db, async () => {
      const before = await this.configs.byId(identity.email, thingId);
      if (!before || !(await this.configs.update(identity.email, thingId, name, content))) throw notFound();
      const changed = [
        ...(before.name !== name ? ['name'] : []),
        ...(before.content !== content ? ['content'] : []),
      ];
      if (changed.length > 0)
        this.audit.record(identity, {
          action: 'bootstrap.update',
          entityId: thingId,
          owner: identity.email,
          details: { name, changed },
        });
    });
    await this.changed(id);
  }

  private changed(thingId: string): Promise<void> {
    return this.events.emit('bootstrap.changed', { thingId: thingId.toLowerCase() });
  }

  async updateCerts(token: Credential, id: string, certs: Certs): Promise<void> {
    const identity = await this.identify(token);
    if (!isUuid(id)) throw notFound('failed to update cert');
    const thingId = id.toLowerCase();
    await inTransaction(this.db, async () => {
      const before = await this.configs.byId(identity.email, thingId);
      if (!before || !(await this.configs.updateCerts(identity.email, thingId, certs))) {
        throw notFound('failed to update cert');
      }
      this.recordCerts(identity, identity.email, thingId, certs, before);
    });
    await this.changed(id);
  }

  /**
   * bootstrap.certs: which certificates (by the words of CERTIFICATE_NAMES, never their
   * values) the change set, and which it cleared.
   */
  private recordCerts(
    by: Identity | Actor,
    owner: string,
    thingId: string,
    certs: Certs,
    before?: Partial<Certs>,
  ): void {
    const cleared = CERTIFICATE_FIELDS.filter((f) => !certs[f] && before?.[f]).map(
      (f) => CERTIFICATE_NAMES[f],
    );
    this.audit.record(by, {
      action: 'bootstrap.certs',
      entityId: thingId,
      owner,
      details: { changed: certsSet(certs), ...(cleared.length > 0 ? { cleared } : {}) },
    });
  }

  /**
   * A thing's certificate was renewed (certs, in its transaction): a config that carries
   * certificates gets the new one, so the next bootstrap fetch returns it. A config
   * without certificates, or no config, is left alone.
   */
  async replaceCarriedCerts(
    owner: string,
    thingId: string,
    certs: Certs,
    by: Identity | Actor = SYSTEM,
  ): Promise<boolean> {
    const id = thingId.toLowerCase();
    const replaced = await inTransaction(this.db, async () => {
      if (!(await this.configs.replaceCarriedCerts(owner, id, certs))) return false;
      this.recordCerts(by, owner, id, certs);
      return true;
    });
    if (replaced) await this.changed(thingId);
    return replaced;
  }

  /** The config lists exactly `channels`; an active config's connections follow. */
  async updateConnections(token: Credential, id: string, channelIds: string[]): Promise<void> {
    const identity = await this.identify(token);
    await inTransaction(this.db, async () => {
      const config = await this.owned(identity, id, 'failed to update connections', true);
      const channels = [...new Set(channelIds.map((c) => c.toLowerCase()))];
      if (channels.length > 0 && !(await this.things.ownsChannels(identity, channels))) {
        throw malformed('failed to update connections');
      }
      const before = config.channels.map((c) => c.id);
      await this.configs.replaceChannels(config.thingId, channels);
      if (before.join() !== channels.join())
        this.audit.record(identity, {
          action: 'bootstrap.connections',
          entityId: config.thingId,
          owner: identity.email,
          details: {
            channels,
            added: channels.filter((c) => !before.includes(c)),
            removed: before.filter((c) => !channels.includes(c)),
          },
        });
      await this.changed(config.thingId);
      if (config.state === State.active) {
        await this.things.disconnectAll(
          identity,
          before.filter((c) => !channels.includes(c)),
          config.thingId,
        );
        await this.things.ensureConnected(identity, channels, config.thingId);
      }
    });
  }

  async list(token: Credential, filter: ConfigFilter, offset: number, limit: number) {
    const identity = await this.identify(token);
    return this.configs.list(identity.email, filter, offset, limit);
  }

  async remove(token: Credential, id: string): Promise<void> {
    const identity = await this.identify(token);
    if (!isUuid(id)) return;
    const thingId = id.toLowerCase();
    await inTransaction(this.db, async () => {
      const removed = await this.configs.remove(identity.email, thingId);
      if (removed)
        this.audit.record(identity, {
          action: 'bootstrap.remove',
          entityId: thingId,
          owner: identity.email,
          details: { external_id: removed.externalId, name: removed.name },
        });
    });
    await this.changed(id);
  }

  /** 1 whitelists: connects the thing to every listed channel (all or none); 0 disconnects. */
  async changeState(token: Credential, id: string, state: number): Promise<void> {
    if (state !== State.inactive && state !== State.active) throw malformed();
    const identity = await this.identify(token);
    await inTransaction(this.db, async () => {
      const config = await this.owned(
        identity,
        id,
        'failed to change state of bootstrap configuration',
        true,
      );
      if (config.state === state) return;
      const channels = config.channels.map((c) => c.id);
      if (state === State.active) await this.things.ensureConnected(identity, channels, config.thingId);
      else await this.things.disconnectAll(identity, channels, config.thingId);
      await this.configs.setState(identity.email, config.thingId, state);
      this.audit.record(identity, {
        action: 'bootstrap.state',
        entityId: config.thingId,
        owner: identity.email,
        details: { state },
      });
    });
  }

  /**
   * GET /things/bootstrap/{externalId}: the gateway's own configuration. Wrong keys and
   * unknown ids count as guesses of that external id from `source` (FailureThrottle).
   */
  async fetch(externalId: string, header: string | undefined, source = ''): Promise<DeviceConfig> {
    const key = externalKeyOf(header);
    if (!key) throw unauthenticated();
    const subject = `bootstrap:${externalId}`;
    this.throttle.check(subject, source);
    const config = externalId.includes('\u0000') ? null : await this.cache.byExternalId(externalId);
    if (!config) this.guessed(subject, source, notFound(READ_FAILED));
    if (!safeEqual(config.externalKey, key)) this.guessed(subject, source, notFound(KEY_MISMATCH));
    this.throttle.succeeded(subject, source);
    return deviceConfig(config);
  }

  /** GET /things/bootstrap/secure/{externalId}: the same, encrypted both ways. */
  async secureFetch(externalId: string, header: string | undefined, source = ''): Promise<Buffer> {
    const hex = externalKeyOf(header);
    if (!hex) throw unauthenticated();
    const subject = `bootstrap:${externalId}`;
    this.throttle.check(subject, source);
    const config = externalId.includes('\u0000') ? null : await this.cache.byExternalId(externalId);
    if (!config) this.guessed(subject, source, notFound(READ_FAILED));
    const key = this.cipher.decryptHeader(hex);
    if (!key.ok) {
      this.guessed(
        subject,
        source,
        key.reason === 'too-short' ? malformed(SECURE_FAILED) : notFound(SECURE_FAILED),
      );
    }
    if (!safeEqual(config.externalKey, key.value)) this.guessed(subject, source, notFound(KEY_MISMATCH));
    this.throttle.succeeded(subject, source);
    return this.cipher.encrypt(Buffer.from(JSON.stringify(deviceConfig(config))));
  }

  /**
   * GET /things/bootstrap/sealed/{externalId}: the plain fetch's answer, byte for byte,
   * sealed with a key derived from this gateway's external key (sealed.ts). It is the
   * plain fetch: the same authentication, answers and throttling of guesses.
   */
  async sealedFetch(externalId: string, header: string | undefined, source = ''): Promise<Buffer> {
    const config = await this.fetch(externalId, header, source);
    // The fetch succeeded: the key in the header is the config's external key.
    return sealConfig(externalId, externalKeyOf(header), Buffer.from(JSON.stringify(config)));
  }

  private guessed(subject: string, source: string, answer: Error): never {
    this.throttle.failed(subject, source);
    throw answer;
  }
}

const CERTIFICATE_FIELDS = ['clientCert', 'caCert', 'clientKey'] as const;

/** An event's words for the certificates a config carries: none ends in key or cert (scrub). */
const CERTIFICATE_NAMES: Record<keyof Certs, string> = {
  clientCert: 'client certificate',
  caCert: 'CA certificate',
  clientKey: 'client private key',
};

/** Which certificates are set (non-empty), in those words. */
function certsSet(certs: Partial<Certs> | undefined): string[] {
  return CERTIFICATE_FIELDS.filter((f) => certs?.[f]).map((f) => CERTIFICATE_NAMES[f]);
}

/** The raw header, or `Thing <key>` as newer Agents send it. */
function externalKeyOf(header: string | undefined): string {
  if (!header) return '';
  const m = /^thing\s+(.+)$/i.exec(header.trim());
  return (m ? m[1]! : header).trim();
}

function safeEqual(a: string, b: string): boolean {
  const x = crypto.createHash('sha256').update(a).digest();
  const y = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(x, y);
}

export function deviceConfig(config: BootstrapConfig): DeviceConfig {
  const out: DeviceConfig = {
    mainflux_id: config.thingId,
    mainflux_key: config.thingKey,
    mainflux_channels:
      config.channels.length === 0
        ? null
        : config.channels.map((c) => ({
            id: c.id,
            ...(c.name ? { name: c.name } : {}),
            metadata: Object.keys(c.metadata).length ? c.metadata : null,
          })),
  };
  if (config.content) out.content = config.content;
  if (config.clientCert) out.client_cert = config.clientCert;
  if (config.clientKey) out.client_key = config.clientKey;
  if (config.caCert) out.ca_cert = config.caCert;
  return out;
}
