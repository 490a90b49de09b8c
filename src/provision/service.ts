import crypto from 'node:crypto';
import type { Logger } from 'pino';
import type { AuthService } from '../auth/service.js';
import type { Identity } from '../auth/types.js';
import type { BootstrapService } from '../bootstrap/service.js';
import type { IssuedCert, PreparedKey } from '../certs/types.js';
import type { Db } from '../db/schema.js';
import { inTransaction } from '../db/transactions.js';
import type { DeviceRequest } from '../enrollments/service.js';
import { DomainError, malformed, unauthenticated } from '../errors.js';
import { newEntityId } from '../ids.js';
import type { ThingsService } from '../things/service.js';
import type { Channel, Thing } from '../things/types.js';
import type { UsersService } from '../users/service.js';
import type { Layout } from './layout.js';
import { bindLayout, resolveParameters } from './parameters.js';
import { runSteps, type Step } from './steps.js';

/** What provisioning needs of the certs domain. */
export interface CertIssuer {
  /** Key generation, done before the transaction opens (an RSA key takes seconds). */
  prepareKey(request: { keyType: string; keyBits: number }): Promise<PreparedKey>;
  /** The PKI's part for a thing about to be created (a remote call with Vault): before the transaction. */
  sign(
    thing: { id: string; key: string },
    request: { valid: string; key?: PreparedKey; csr?: string },
  ): Promise<IssuedCert>;
  /**
   * Records what `sign` made, in the transaction that creates the things. `by`: who
   * provisions (the request's identity, or an enrolling device's: its actor), for the
   * audit trail's events.
   */
  record(owner: string, certs: IssuedCert[], by: Identity): Promise<void>;
  /** After a failure: revokes them, and keeps those it could not revoke where the sweep retries. */
  abandon(owner: string, certs: IssuedCert[]): Promise<void>;
}

export interface MappingRequest {
  externalId: string;
  externalKey: string;
  name?: string;
  /** A named layout of the caller's, or `default`; absent: the server's layout. */
  layout?: string;
  /** Values of the layout's parameters. */
  parameters?: Record<string, unknown>;
}

/** Where named layouts come from (the layouts domain). */
export interface LayoutSource {
  /** The caller's layout of that name, or the server's for `default`; notFound otherwise. */
  layoutFor(identity: Identity, name: string): Promise<Layout>;
}

export interface MappingResult {
  things: Thing[];
  channels: Channel[];
  clientCert: Record<string, string>;
  clientKey: Record<string, string>;
  caCert: string;
  whitelisted: Record<string, boolean>;
}

export type ProvisionStep = 'certs' | 'channels' | 'things' | 'records' | 'config' | 'whitelist';

/** One provisioning as its steps see it. */
interface Provisioning {
  identity: Identity;
  request: MappingRequest;
  layout: Layout;
  /** Chosen before anything is written: certificates name the things before they exist. */
  things: { id: string; key: string }[];
  /** The things (indexes, layout order) that get a certificate, and how it is made. */
  certified: number[];
  certificate: { keyType: string; keyBits: number; valid: string } | { csr: string; valid: string } | null;
  /** Per certified thing, when the server makes the keys. */
  keys: PreparedKey[];
  issued: IssuedCert[];
  /** An enrolling device's: more metadata on the gateway thing, and work at both ends of the transaction. */
  device?: Pick<DeviceRequest, 'metadata' | 'first' | 'last'>;
  result?: MappingResult;
}

/**
 * One request turns into a gateway's things, channels, bootstrap configs, connections
 * and certificates (MODEL.md §7). Its steps (`steps()`): key generation and the
 * certificates first, outside any transaction (with Vault a network call, which must
 * not hold a transaction open), then everything else in one database transaction, whose
 * rollback leaves nothing behind on a failure or a crash. When the transaction fails,
 * the certificates' compensation revokes them (see CertIssuer.abandon).
 */
export class ProvisionService {
  /** Called before every step: metrics, tracing, and failure injection in tests. */
  beforeStep?: (step: ProvisionStep) => void | Promise<void>;

  constructor(
    private db: Db,
    private auth: AuthService,
    private users: UsersService,
    private things: ThingsService,
    private bootstrap: BootstrapService,
    private certs: CertIssuer | null,
    readonly layout: Layout,
    private layouts: LayoutSource,
    private logger: Logger,
  ) {}

  /** Credentials: the request's header, else the configured API key, else user and password. */
  async credentials(header: string | undefined): Promise<Identity> {
    if (header) return this.auth.identify(header);
    const { apiKey, user, pass } = this.layout.credentials;
    if (apiKey) return this.auth.identify(apiKey);
    if (!user || !pass) throw unauthenticated('missing credentials');
    let token: string;
    try {
      token = await this.users.login(user, pass);
    } catch (err) {
      if (err instanceof DomainError) throw unauthenticated('failed to create access token');
      throw err;
    }
    return this.auth.identify(token);
  }

  private async step(step: ProvisionStep): Promise<void> {
    await this.beforeStep?.(step);
  }

  async provision(header: string | undefined, request: MappingRequest): Promise<MappingResult> {
    if (!request.externalId || !request.externalKey) throw malformed();
    const identity = await this.credentials(header);
    const layout = await this.chosenLayout(identity, request);
    if (layout.things.length === 0) throw malformed('things list in configuration empty');
    if (layout.channels.length === 0) throw malformed('channels list in configuration is empty');
    const context: Provisioning = {
      identity,
      request,
      layout,
      things: layout.things.map(() => ({ id: newEntityId(), key: crypto.randomUUID() })),
      certified: layout.x509Provision && this.certs ? layout.things.map((_, index) => index) : [],
      certificate: layout.certs,
      keys: [],
      issued: [],
    };
    await this.run(context);
    return context.result!;
  }

  private async run(context: Provisioning): Promise<void> {
    await runSteps(this.steps(context), context, (step, err) =>
      this.logger.error(
        { err, step, externalId: context.request.externalId },
        'could not undo a step of a failed provisioning',
      ),
    );
  }

  /**
   * An enrolling device's registration (EnrollmentsService): the owner's layout with
   * the parameters and the registration id as external id, a whitelisted config for the
   * gateway thing, and a certificate for that thing alone (for the device's CSR, or with
   * a key made here), in the same steps as /mapping.
   */
  async provisionDevice(
    request: DeviceRequest,
  ): Promise<{ thingId: string; certificate: IssuedCert | null }> {
    const named = await this.layoutOf(request.owner, request.layout);
    const values = resolveParameters(named.parameters, request.parameters, request.layout);
    const bound = bindLayout(named, {
      ...values,
      external_id: request.registrationId,
      name: request.registrationId,
      registration_id: request.registrationId,
    });
    const layout: Layout = { ...bound, bootstrapProvision: true, autoWhitelist: true };
    const gateway = gatewayIndex(layout);
    if (gateway < 0) {
      throw malformed(`layout ${request.layout} has no gateway thing (a thing with external_id metadata)`);
    }
    if (request.certificate && !this.certs) throw malformed('certificates are not configured on this server');
    const c = request.certificate;
    const context: Provisioning = {
      identity: request.owner,
      request: { externalId: request.registrationId, externalKey: request.externalKey },
      layout,
      things: layout.things.map(() => ({ id: newEntityId(), key: crypto.randomUUID() })),
      certified: c ? [gateway] : [],
      certificate: c ? ('csr' in c ? { csr: c.csr, valid: '' } : c) : null,
      keys: [],
      issued: [],
      device: request,
    };
    await this.run(context);
    return { thingId: context.things[gateway]!.id, certificate: context.issued[0] ?? null };
  }

  /**
   * DeviceProvisioner: parameters checked against the owner's layout before a group is
   * made or changed (a required one may come later from the device) and before a device
   * registers (`deviceOnly`: only those the layout lets it set); provisionDevice checks
   * the whole set.
   */
  async checkParameters(
    owner: Identity,
    layoutName: string,
    parameters: Record<string, unknown>,
    options: { deviceOnly: boolean },
  ): Promise<void> {
    const layout = await this.layoutOf(owner, layoutName);
    if (options.deviceOnly) {
      for (const [name, value] of Object.entries(parameters)) {
        const declared = layout.parameters.find((p) => p.name === name);
        if (value !== null && declared && !declared.device) {
          throw malformed(`parameter "${name}" is not one a device may set (device = true)`);
        }
      }
    }
    const declared = layout.parameters.map((p) => ({ ...p, required: false }));
    resolveParameters(declared, parameters, layoutName);
  }

  /** The owner's layout of that name, or the server's for `default`; an unknown one is malformed. */
  private async layoutOf(owner: Identity, name: string): Promise<Layout> {
    try {
      return await this.layouts.layoutFor(owner, name);
    } catch (err) {
      if (err instanceof DomainError && err.kind === 'not_found') throw malformed(`unknown layout "${name}"`);
      throw err;
    }
  }

  /**
   * The layout the request names (else the server's), its parameters checked and its
   * placeholders replaced: a parameter that is unknown, missing, of the wrong type or
   * not matching its pattern is malformed before anything is written.
   */
  private async chosenLayout(identity: Identity, request: MappingRequest): Promise<Layout> {
    const name = request.layout || 'default';
    const layout = request.layout ? await this.layouts.layoutFor(identity, request.layout) : this.layout;
    const values = resolveParameters(layout.parameters, request.parameters, name);
    return bindLayout(layout, {
      ...values,
      external_id: request.externalId,
      name: request.name || request.externalId,
      // An enrolling device's; /mapping has none.
      registration_id: '',
    });
  }

  /** The steps of a provisioning, in order, each with its undo. */
  private steps(p: Provisioning): Step<Provisioning>[] {
    const issuer = p.certified.length > 0 && p.certificate ? this.certs : null;
    if (!issuer) return [{ name: 'store', invoke: (q) => this.store(q) }];
    return [
      {
        name: 'keys',
        invoke: async (q) => {
          const c = q.certificate;
          if (!c || 'csr' in c) return;
          q.keys = await Promise.all(
            q.certified.map(() => issuer.prepareKey({ keyType: c.keyType, keyBits: c.keyBits })),
          );
        },
      },
      {
        name: 'certs',
        invoke: async (q) => {
          const c = q.certificate!;
          for (const [n, index] of q.certified.entries()) {
            await this.step('certs');
            const request = 'csr' in c ? { valid: c.valid, csr: c.csr } : { valid: c.valid, key: q.keys[n]! };
            q.issued.push(await issuer.sign(q.things[index]!, request));
          }
        },
        compensate: async (q) => {
          if (q.issued.length > 0) await issuer.abandon(q.identity.email, q.issued);
        },
      },
      {
        name: 'store',
        invoke: (q) => this.store(q, (owner, certs) => issuer.record(owner, certs, q.identity)),
      },
    ];
  }

  /**
   * Channels, things, certificate records, configs and their connections: one
   * transaction, so it is all there or none of it.
   */
  private async store(
    p: Provisioning,
    record?: (owner: string, certs: IssuedCert[]) => Promise<void>,
  ): Promise<void> {
    const { identity, request, layout } = p;
    const content = JSON.stringify(sortKeys(layout.content));
    const gateway = gatewayIndex(layout);
    p.result = await inTransaction(this.db, async () => {
      if (p.device) await p.device.first(p.things[gateway]!.id);
      // Channels first, so the gateway thing is created with its final metadata (the
      // ids of its channels and its own, chosen here) instead of being updated later:
      // every statement saved is a round trip the transaction holds its locks across.
      await this.step('channels');
      const channels = await this.things.createChannels(
        identity,
        layout.channels.map((c) => ({ name: c.name, metadata: c.metadata })),
      );
      const channelIds = channels.map((c) => c.id);
      const typed = (type: string) => channels.find((c) => c.metadata.type === type)?.id ?? '';
      const withConfig = layout.things.map((t) => layout.bootstrapProvision && 'external_id' in t.metadata);
      const metadataOf = (index: number) => {
        const t = layout.things[index]!;
        return 'external_id' in t.metadata
          ? { ...t.metadata, external_id: request.externalId }
          : { ...t.metadata };
      };
      await this.step('things');
      const created = await this.things.createThings(
        identity,
        layout.things.map((t, index) => ({
          name: t.templated ? t.name : request.name || t.name,
          key: p.things[index]!.key,
          metadata:
            index === gateway
              ? {
                  ...metadataOf(index),
                  ...p.device?.metadata,
                  type: 'gateway',
                  external_id: request.externalId,
                  external_key: request.externalKey,
                  cfg_id: p.things[index]!.id,
                  ctrl_channel_id: typed('control'),
                  data_channel_id: typed('data'),
                  export_channel_id: typed('export'),
                }
              : metadataOf(index),
        })),
        p.things.map((t) => t.id),
      );
      // The answer shows the things as the layout made them, before the gateway's
      // metadata, as 0.12.1's does.
      const things = created.map((t, index) => ({ ...t, metadata: metadataOf(index) }));
      const result: MappingResult = {
        things,
        channels,
        clientCert: {},
        clientKey: {},
        caCert: '',
        whitelisted: {},
      };
      if (record && p.issued.length > 0) {
        await this.step('records');
        await record(identity.email, p.issued);
      }
      const certOf = new Map(
        p.issued.map((cert) => [
          cert.thingId,
          { clientCert: cert.cert, clientKey: cert.key, caCert: cert.caCert },
        ]),
      );
      for (const cert of p.issued) {
        result.clientCert[cert.thingId] = cert.cert;
        result.clientKey[cert.thingId] = cert.key;
        result.caCert = cert.caCert;
      }
      for (const [index, thing] of things.entries()) {
        if (!withConfig[index]) continue;
        await this.step('config');
        // 0.12.1 whitelists every thing and so fails for a thing without a config;
        // only a thing with a config can be whitelisted.
        const active = layout.autoWhitelist;
        if (active) await this.step('whitelist');
        await this.bootstrap.addProvisioned(identity, {
          thingId: thing.id,
          externalId: request.externalId,
          externalKey: request.externalKey,
          channels: channelIds,
          content,
          certs: certOf.get(thing.id),
          active,
        });
        if (active) result.whitelisted[thing.id] = true;
      }
      if (p.device) await p.device.last();
      return result;
    });
  }

  /** GET /mapping: the bootstrap content configs are created with. */
  async content(header: string | undefined): Promise<Record<string, unknown> | null> {
    await this.auth.identify(header);
    return this.layout.content;
  }
}

/** The thing that gets the gateway's metadata: 0.12.1 writes it to the last thing with a config. */
function gatewayIndex(layout: Layout): number {
  return layout.things.map((t) => layout.bootstrapProvision && 'external_id' in t.metadata).lastIndexOf(true);
}

/** Mainflux marshals the content with sorted keys. */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}
