import type { AuthService } from '../auth/service.js';
import type { Identity } from '../auth/types.js';
import type { BootstrapService } from '../bootstrap/service.js';
import type { Certs } from '../bootstrap/types.js';
import type { PreparedKey } from '../certs/types.js';
import type { Db } from '../db/schema.js';
import { inTransaction } from '../db/transactions.js';
import { DomainError, malformed, unauthenticated } from '../errors.js';
import { newEntityId } from '../ids.js';
import type { ThingsService } from '../things/service.js';
import type { Channel, Thing } from '../things/types.js';
import type { UsersService } from '../users/service.js';
import type { Layout } from './layout.js';

/** What provisioning needs of the certs domain. */
export interface CertIssuer {
  /** True when certificates come from a remote PKI: a rollback must revoke them there. */
  readonly external: boolean;
  /** Key generation, done before the transaction opens (an RSA key takes seconds). */
  prepareKey(request: { keyType: string; keyBits: number }): Promise<PreparedKey>;
  issue(
    identity: Identity,
    request: { thingId: string; valid: string; key: PreparedKey },
  ): Promise<{ cert: string; key: string; caCert: string; serial: string }>;
  revokeSerial(serial: string): Promise<void>;
}

export interface MappingRequest {
  externalId: string;
  externalKey: string;
  name?: string;
}

export interface MappingResult {
  things: Thing[];
  channels: Channel[];
  clientCert: Record<string, string>;
  clientKey: Record<string, string>;
  caCert: string;
  whitelisted: Record<string, boolean>;
}

export type ProvisionStep = 'channels' | 'things' | 'certs' | 'config' | 'whitelist';

/**
 * One request turns into a gateway's things, channels, bootstrap configs, connections
 * and certificates (MODEL.md §7), all in one database transaction: a failure anywhere,
 * including a crash, leaves nothing behind. Certificates from a remote PKI cannot join
 * the transaction; each issued one has its compensation (revocation) run on failure.
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
    const layout = this.layout;
    if (layout.things.length === 0) throw malformed('things list in configuration empty');
    if (layout.channels.length === 0) throw malformed('channels list in configuration is empty');

    const issuer = layout.x509Provision ? this.certs : null;
    const keys = issuer
      ? await Promise.all(
          layout.things.map(() =>
            issuer.prepareKey({ keyType: layout.certs.keyType, keyBits: layout.certs.keyBits }),
          ),
        )
      : [];
    const issuedSerials: string[] = [];
    const content = JSON.stringify(sortKeys(layout.content));
    try {
      return await inTransaction(this.db, async () => {
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
        const ids = layout.things.map(() => newEntityId());
        const withConfig = layout.things.map((t) => layout.bootstrapProvision && 'external_id' in t.metadata);
        // 0.12.1 writes the gateway's metadata to the last thing with a config.
        const gatewayIndex = withConfig.lastIndexOf(true);
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
            name: request.name || t.name,
            metadata:
              index === gatewayIndex
                ? {
                    ...metadataOf(index),
                    type: 'gateway',
                    external_id: request.externalId,
                    external_key: request.externalKey,
                    cfg_id: ids[index],
                    ctrl_channel_id: typed('control'),
                    data_channel_id: typed('data'),
                    export_channel_id: typed('export'),
                  }
                : metadataOf(index),
          })),
          ids,
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
        // Certificates for every thing, then the configs (which carry the gateway's).
        const certsOf: (Certs | undefined)[] = [];
        for (const [index, thing] of things.entries()) {
          if (!issuer) break;
          await this.step('certs');
          const cert = await issuer.issue(identity, {
            thingId: thing.id,
            valid: layout.certs.valid,
            key: keys[index]!,
          });
          if (issuer.external) issuedSerials.push(cert.serial);
          result.clientCert[thing.id] = cert.cert;
          result.clientKey[thing.id] = cert.key;
          result.caCert = cert.caCert;
          certsOf[index] = { clientCert: cert.cert, clientKey: cert.key, caCert: cert.caCert };
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
            certs: certsOf[index],
            active,
          });
          if (active) result.whitelisted[thing.id] = true;
        }
        return result;
      });
    } catch (err) {
      // The transaction is rolled back; what a remote PKI issued is revoked there.
      for (const serial of issuedSerials) {
        await this.certs?.revokeSerial(serial).catch(() => {});
      }
      throw err;
    }
  }

  /** GET /mapping: the bootstrap content configs are created with. */
  async content(header: string | undefined): Promise<Record<string, unknown> | null> {
    await this.auth.identify(header);
    return this.layout.content;
  }
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
