import crypto from 'node:crypto';
import type { Logger } from 'pino';
import client from 'prom-client';
import type { Identity } from '../auth/types.js';
import type { BootstrapService } from '../bootstrap/service.js';
import type { Db } from '../db/schema.js';
import { inTransaction } from '../db/transactions.js';
import { conflict, invalidQuery, malformed, notFound, unauthenticated } from '../errors.js';
import type { Credential, ThingsService } from '../things/service.js';
import type { CertsRepository } from './repo.js';
import { parseValidity } from './rules.js';
import type { CertsService } from './service.js';
import { type CertRecord, type CertsPage, type IssuedCert, MAX_LIMIT } from './types.js';
import { formatSerial } from './x509.js';

/** What a renewal asks for: a CSR, or key parameters (default: the old certificate's key type). */
export interface RenewRequest {
  csr?: string;
  keyType?: string;
  keyBits?: number;
  valid?: string;
  /** Revoke the certificate renewed as soon as the new one is recorded. */
  revokeOld?: boolean;
}

const DAY = 86_400_000;

/**
 * `tethys_certs_expiring{within="7d"|"30d"}`: valid certificates (not revoked, not yet
 * expired) that expire within 7 and 30 days. Computed on scrape (two indexed COUNTs),
 * cached for a few seconds; the source is the running app's renewal service.
 */
let expirySource: ((withinMs: number) => Promise<number>) | undefined;
const EXPIRING_CACHE_MS = 5_000;
let expiringCache: { at: number; values: [number, number] } | undefined;

function expiringGauge(): void {
  if (client.register.getSingleMetric('tethys_certs_expiring')) return;
  new client.Gauge({
    name: 'tethys_certs_expiring',
    help: 'Valid (neither revoked nor expired) certificates that expire within 7 or 30 days',
    labelNames: ['within'],
    async collect() {
      const source = expirySource;
      if (!source) return;
      const now = Date.now();
      if (!expiringCache || now - expiringCache.at > EXPIRING_CACHE_MS) {
        expiringCache = { at: now, values: await Promise.all([source(7 * DAY), source(30 * DAY)]) };
      }
      this.set({ within: '7d' }, expiringCache.values[0]);
      this.set({ within: '30d' }, expiringCache.values[1]);
    },
  });
}

/**
 * Certificates over their life (issue 20): renewal by the operator (by serial) and by
 * the device (its current client certificate), and the certificates about to expire.
 * A renewal issues a new certificate for the same thing through CertsService, records
 * it and, when the thing's bootstrap config carries certificates, puts the new one
 * there in the same transaction.
 */
export class RenewalService {
  constructor(
    private db: Db,
    private certs: CertsService,
    private repo: CertsRepository,
    private things: ThingsService,
    private bootstrap: Pick<BootstrapService, 'replaceCarriedCerts'>,
    private adminEmail: string,
    private logger: Logger,
  ) {
    expiringGauge();
    expirySource = this.source;
    expiringCache = undefined;
  }

  private source = (withinMs: number) => this.countExpiring(withinMs);

  /** Stops feeding the gauge (the app closes). */
  close(): void {
    if (expirySource === this.source) expirySource = undefined;
  }

  /** The operator renews one of their certificates, named by serial (any hex form). */
  async renew(credential: Credential, serial: string, request: RenewRequest): Promise<IssuedCert> {
    const identity = await this.things.identify(credential);
    const record = await this.repo.bySerial(formatSerial(serial));
    if (!record || record.owner !== identity.email) throw notFound('no such certificate');
    if (record.revokedAt) throw conflict('the certificate is revoked: issue a new one instead');
    return this.renewRecord(identity, record, request);
  }

  /**
   * The device renews its own certificate: `peer` is the leaf (DER) it presented over
   * TLS. It must be issued by this CA, valid now and recorded here, not revoked.
   */
  async renewByDevice(peer: Buffer | undefined, request: RenewRequest): Promise<IssuedCert> {
    const record = await this.deviceRecord(peer);
    if (!request.csr) throw malformed('csr: a PEM PKCS#10 request is required');
    // The device acts, for its owner (the audit trail's actor `thing:<id>`).
    const owner: Identity = { email: record.owner, userId: '', type: 0, actor: `thing:${record.thingId}` };
    return this.renewRecord(owner, record, {
      csr: request.csr,
      valid: request.valid,
      revokeOld: request.revokeOld,
    });
  }

  /** The record of the client certificate presented, or 401. */
  private async deviceRecord(peer: Buffer | undefined): Promise<CertRecord> {
    const refused = unauthenticated('a valid client certificate issued by this server is required');
    if (!peer) throw refused;
    let leaf: crypto.X509Certificate;
    try {
      leaf = new crypto.X509Certificate(peer);
    } catch {
      throw refused;
    }
    const caPem = await this.certs.issuerPem();
    if (!caPem) throw refused;
    const ca = new crypto.X509Certificate(caPem);
    if (!leaf.checkIssued(ca) || !leaf.verify(ca.publicKey)) throw refused;
    const now = Date.now();
    if (Date.parse(leaf.validFrom) > now || Date.parse(leaf.validTo) <= now) throw refused;
    const record = await this.repo.bySerial(formatSerial(leaf.serialNumber));
    if (!record || record.revokedAt || record.expiresAt.getTime() <= now) throw refused;
    if (!(await this.things.thingExists(record.thingId))) throw refused;
    return record;
  }

  private async renewRecord(
    identity: Identity,
    record: CertRecord,
    request: RenewRequest,
  ): Promise<IssuedCert> {
    const thing = await this.things.viewThing(identity, record.thingId);
    const valid = request.valid ?? '';
    const cert = request.csr
      ? await this.certs.sign(thing, { valid, csr: request.csr })
      : await this.certs.sign(thing, {
          valid,
          key: await this.certs.prepareKey({
            keyType: request.keyType || record.keyType,
            keyBits: request.keyBits,
          }),
        });
    try {
      await inTransaction(this.db, async () => {
        await this.certs.recordRenewal(identity, record, cert);
        await this.bootstrap.replaceCarriedCerts(record.owner, thing.id, {
          clientCert: cert.cert,
          clientKey: cert.key,
          caCert: cert.caCert,
        });
      });
    } catch (err) {
      await this.certs.abandon(record.owner, [cert]);
      throw err;
    }
    if (request.revokeOld) await this.certs.revokeSerial(record.serial, identity);
    this.logger.info({ thingId: thing.id, old: record.serial, serial: cert.serial }, 'certificate renewed');
    return cert;
  }

  /**
   * Certificates neither revoked nor expired that expire within `window` (a Go
   * duration; empty: any time), soonest first: the caller's, or everyone's for the admin.
   */
  async expiring(credential: Credential, window: string, offset: number, limit: number): Promise<CertsPage> {
    const identity = await this.things.identify(credential);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT)
      throw invalidQuery(`limit must be 1 to ${MAX_LIMIT}`);
    if (!Number.isInteger(offset) || offset < 0) throw invalidQuery();
    let withinMs: number | null = null;
    if (window !== '') {
      withinMs = parseValidity(window);
      if (withinMs === null)
        throw invalidQuery(`expiring_within: "${window}" is not a duration such as 720h`);
    }
    const now = new Date();
    const until = withinMs === null ? null : new Date(now.getTime() + withinMs);
    const admin = this.adminEmail !== '' && identity.email === this.adminEmail;
    const page = await this.repo.expiring(admin ? null : identity.email, now, until, offset, limit);
    return { total: page.total, offset, limit, certs: page.items };
  }

  private countExpiring(withinMs: number): Promise<number> {
    const now = new Date();
    return this.repo.countExpiring(now, new Date(now.getTime() + withinMs));
  }
}
