import crypto from 'node:crypto';
import type { Logger } from 'pino';
import type { AuditLog } from '../audit/service.js';
import { type Actor, SYSTEM } from '../audit/types.js';
import type { Identity } from '../auth/types.js';
import type { Config } from '../config.js';
import type { Db } from '../db/schema.js';
import { executor, inTransaction } from '../db/transactions.js';
import { invalidQuery, malformed, notFound } from '../errors.js';
import type { EventHub } from '../events.js';
import type { Credential, ThingsService } from '../things/service.js';
import { crlToPem } from './crl.js';
import { openLocalCa } from './local-ca.js';
import type { CertRequest, Pki } from './pki.js';
import type { CertsRepository } from './repo.js';
import { keySizeProblem, parseValidity } from './rules.js';
import {
  type CertRecord,
  type CertsPage,
  type IssuedCert,
  type IssueRequest,
  MAX_LIMIT,
  type PreparedKey,
} from './types.js';
import { VaultPki } from './vault.js';
import { formatSerial, type KeyType, keyInfo, x509 } from './x509.js';

/** Who an event of this domain names: an identity (its actor), or an actor already made (system). */
type By = Identity | Actor;

/** Orphaned certificates (thing gone, revocation failed) are retried this often. */
const SWEEP_RETRY_MS = 5 * 60_000;

export interface CertsSettings {
  cnFromKey: boolean;
  defaultValidityMs: number;
  defaultRsaBits: number;
}

type ParsedRequest = { thingId: string; validMs: number; ttl: string } & (
  | { kind: 'key'; keyType: KeyType; keyBits: number; keys?: crypto.KeyPairKeyObjectResult }
  | { kind: 'csr'; pem: string; csr: x509.Pkcs10CertificateRequest; keyType: KeyType }
);

function recordOf(owner: string, cert: IssuedCert, revokedAt: Date | null): CertRecord {
  return {
    thingId: cert.thingId,
    owner,
    serial: cert.serial,
    keyType: cert.keyType,
    expiresAt: cert.expiresAt,
    revokedAt,
    createdAt: new Date(),
  };
}

/** What an event says of a certificate: its key and expiry, never the certificate or the key. */
function described(cert: IssuedCert): Record<string, unknown> {
  let bits: number | null = null;
  try {
    bits = keyInfo(new crypto.X509Certificate(cert.cert).publicKey)?.bits ?? null;
  } catch {
    // A certificate the PKI returned that node cannot read: the event goes without its size.
  }
  return {
    key_type: cert.keyType,
    key_bits: bits,
    expires: cert.expiresAt.toISOString(),
    key_origin: cert.key ? 'server' : 'csr',
  };
}

/** Go duration text for a number of milliseconds, as Vault's `ttl` takes it. */
function goDuration(ms: number): string {
  return ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : `${Math.ceil(ms / 1000)}s`;
}

/**
 * Certificates for things (API.md §6, CONFIG.md §7, MODEL.md §9). The caller must own
 * the thing; the record {thing, owner, serial, expiry, revocation} is kept, the
 * private key never is. Revocation keeps the record, marked, and publishes it in the
 * CRL; deleting a thing revokes its certificates.
 */
export class CertsService {
  private sweepTimer?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private db: Db,
    private repo: CertsRepository,
    private pki: Pki,
    private things: ThingsService,
    private audit: AuditLog,
    private settings: CertsSettings,
    private logger: Logger,
    private events?: EventHub,
  ) {
    events?.on('thing.removed', ({ id }) => this.onThingRemoved(id));
  }

  /**
   * Revokes the certificates a failed revocation or a crash left valid: at once in
   * development mode (database only), in the background with Vault (a remote call).
   */
  async start(): Promise<void> {
    const sweep = this.sweepOrphans().catch((err) => this.logger.error({ err }, 'certificate sweep failed'));
    if (!this.pki.external) await sweep;
  }

  /**
   * Marks the record revoked, with its event, in one transaction; then tells every
   * instance, so live MQTT sessions using it end. False when it was revoked already.
   */
  private async recordRevocation(
    serial: string,
    at: Date,
    by: By,
    details: Record<string, unknown>,
  ): Promise<boolean> {
    const record = await inTransaction(this.db, async () => {
      if (!(await this.repo.markRevoked(serial, at))) return null;
      const revoked = await this.repo.bySerial(serial);
      if (revoked) this.audit.record(by, this.revokeEvent(revoked, details));
      return revoked;
    });
    if (record) await this.events?.emit('cert.revoked', { thingId: record.thingId, serial });
    return record !== null;
  }

  private revokeEvent(record: { serial: string; thingId: string; owner: string }, details: object) {
    return {
      action: 'cert.revoke' as const,
      entityId: record.serial,
      relatedId: record.thingId,
      owner: record.owner,
      details: { ...details },
    };
  }

  /**
   * The thing a client certificate identifies (MQTT over TLS): a certificate we issued,
   * neither revoked nor expired, of a thing that still exists. Serial in any hex form.
   */
  async activeThing(serial: string): Promise<string | null> {
    const record = await this.repo.bySerial(formatSerial(serial));
    if (!record || record.revokedAt || record.expiresAt.getTime() <= Date.now()) return null;
    return (await this.things.thingExists(record.thingId)) ? record.thingId : null;
  }

  /** True when a remote PKI (Vault) issues: provisioning must revoke what it issued when a later step fails. */
  get external(): boolean {
    return this.pki.external;
  }

  /** The local CA certificate (PEM) in development mode; null with Vault. */
  get caPem(): string | null {
    return this.pki.caPem;
  }

  async issue(credential: Credential, request: IssueRequest): Promise<IssuedCert> {
    const identity = await this.things.identify(credential);
    const parsed = await this.parse(request);
    const thing = await this.things.viewThing(identity, parsed.thingId);
    const cert = await this.signParsed(thing, parsed);
    try {
      await inTransaction(this.db, async () => {
        await this.record(identity.email, [cert], identity);
        // The thing may have been deleted while the key was generated: its removal
        // revoked the certificates recorded then, not this one.
        if (!(await this.things.thingExists(thing.id))) throw notFound();
      });
    } catch (err) {
      await this.abandon(identity.email, [cert]);
      throw err;
    }
    return cert;
  }

  /**
   * A certificate for a thing that provisioning is about to create: the PKI's part
   * alone (a remote call with Vault), made before the transaction opens; nothing is
   * recorded. The caller then `record`s it in its transaction, or `abandon`s it.
   */
  async sign(
    thing: { id: string; key: string },
    request: { valid: string; key?: PreparedKey; csr?: string },
  ): Promise<IssuedCert> {
    return this.signParsed(thing, await this.parse({ thingId: thing.id, ...request }));
  }

  /**
   * Records certificates `sign` made, for things now created, each with its
   * `cert.issue` event (in the caller's transaction). `by` is who asked; absent, the
   * owner (provisioning passes only the owner's email).
   */
  async record(owner: string, certs: IssuedCert[], by?: By): Promise<void> {
    await inTransaction(this.db, async () => {
      for (const cert of certs) await this.repo.insert(recordOf(owner, cert, null));
      this.audit.record(
        by ?? { actor: owner, user: owner },
        certs.map((cert) => ({
          action: 'cert.issue' as const,
          entityId: cert.serial,
          relatedId: cert.thingId,
          owner,
          details: described(cert),
        })),
      );
    });
  }

  /** Records a renewal's certificate (`cert.renew`, in the caller's transaction). */
  async recordRenewal(by: By, old: CertRecord, cert: IssuedCert): Promise<void> {
    await inTransaction(this.db, async () => {
      await this.repo.insert(recordOf(old.owner, cert, null));
      this.audit.record(by, {
        action: 'cert.renew',
        entityId: cert.serial,
        relatedId: cert.thingId,
        owner: old.owner,
        details: { old_serial: old.serial, serial: cert.serial, ...described(cert) },
      });
    });
  }

  /**
   * Undoes certificates issued for a request that then failed, outside its transaction:
   * each is revoked (at Vault with Vault) and recorded as revoked, so it is in the CRL.
   * One whose revocation fails is recorded as valid for a thing that does not exist:
   * the orphan sweep revokes it later (scheduled now), and the failure is logged.
   */
  async abandon(owner: string, certs: IssuedCert[]): Promise<void> {
    let retry = false;
    for (const cert of certs) {
      let revokedAt: Date | null = null;
      try {
        revokedAt = this.pki.external ? await this.pki.revoke(cert.serial) : new Date();
      } catch (err) {
        retry = true;
        this.logger.error(
          { err, serial: cert.serial, thingId: cert.thingId },
          'could not revoke a certificate issued for a request that failed; the sweep will retry',
        );
      }
      try {
        await inTransaction(this.db, async () => {
          let changed = true;
          if (!(await this.repo.bySerial(cert.serial)))
            await this.repo.insert(recordOf(owner, cert, revokedAt));
          else changed = revokedAt !== null && (await this.repo.markRevoked(cert.serial, revokedAt));
          if (!changed) return;
          const event = { serial: cert.serial, thingId: cert.thingId, owner };
          // Revoked: in the CRL from now. Not revoked: kept valid, as the sweep's to revoke.
          this.audit.record(
            SYSTEM,
            revokedAt
              ? this.revokeEvent(event, { reason: 'request failed' })
              : {
                  action: 'cert.issue',
                  entityId: cert.serial,
                  relatedId: cert.thingId,
                  owner,
                  details: { ...described(cert), reason: 'request failed', revoked: false },
                },
          );
        });
      } catch (err) {
        this.logger.error(
          { err, serial: cert.serial, thingId: cert.thingId, revoked: revokedAt !== null },
          revokedAt
            ? 'could not record the revocation of a certificate issued for a request that failed'
            : 'could not record a certificate issued for a request that failed: it stays valid until it expires',
        );
      }
    }
    if (retry) this.scheduleSweep();
    await this.revocationsChanged();
  }

  private async signParsed(thing: { id: string; key: string }, parsed: ParsedRequest): Promise<IssuedCert> {
    const base: CertRequest = {
      commonName: this.settings.cnFromKey ? thing.key : thing.id,
      validMs: parsed.validMs,
      ttl: parsed.ttl,
    };
    const cert =
      parsed.kind === 'csr'
        ? await this.pki.sign({ ...base, pem: parsed.pem, csr: parsed.csr, keyType: parsed.keyType })
        : await this.pki.issue({
            ...base,
            keyType: parsed.keyType,
            keyBits: parsed.keyBits,
            keys: parsed.keys,
          });
    return {
      thingId: thing.id,
      cert: cert.certificate,
      key: cert.privateKey ?? '',
      privateKeyType: cert.privateKeyType,
      keyType: cert.keyType,
      serial: cert.serial,
      caCert: cert.issuingCa,
      caChain: cert.caChain,
      expiresAt: cert.expiresAt,
    };
  }

  /**
   * Validates the key parameters and generates the key pair now (development mode), to
   * pass later as `issue(…, { key })`: provisioning calls this before it opens its
   * transaction. Invalid parameters are a 400, as in issue.
   */
  async prepareKey(request: { keyType?: string; keyBits?: number }): Promise<PreparedKey> {
    const { keyType, keyBits } = this.keyParameters(request.keyType, request.keyBits);
    const keys = this.pki.generateKey ? await this.pki.generateKey(keyType, keyBits) : undefined;
    return { keyType, keyBits, keys };
  }

  async list(credential: Credential, thingId: string, offset: number, limit: number): Promise<CertsPage> {
    const identity = await this.things.identify(credential);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT)
      throw invalidQuery(`limit must be 1 to ${MAX_LIMIT}`);
    if (!Number.isInteger(offset) || offset < 0) throw invalidQuery();
    const thing = await this.things.viewThing(identity, thingId);
    const page = await this.repo.list(identity.email, thing.id, offset, limit);
    return { total: page.total, offset, limit, certs: page.items };
  }

  /** Revokes every valid certificate of the caller's thing; returns the (latest) revocation time. */
  async revokeThing(credential: Credential, thingId: string): Promise<Date> {
    const identity = await this.things.identify(credential);
    if (!thingId) throw malformed('missing thing id');
    const thing = await this.things.viewThing(identity, thingId);
    const serials = await this.repo.activeSerials(thing.id, new Date());
    if (serials.length === 0) throw notFound('the thing has no valid certificate to revoke');
    let latest = new Date(0);
    try {
      for (const serial of serials) {
        const at = await this.pki.revoke(serial);
        await this.recordRevocation(serial, at, identity, {});
        if (at > latest) latest = at;
      }
    } finally {
      await this.revocationsChanged();
    }
    return latest;
  }

  /** Revokes one certificate (a renewal's `revoke_old`, by who renewed); returns when it was revoked. */
  async revokeSerial(serial: string, by: By): Promise<Date> {
    try {
      const at = await this.pki.revoke(serial);
      await this.recordRevocation(serial, at, by, { reason: 'renewed' });
      return at;
    } finally {
      await this.revocationsChanged();
    }
  }

  /** The PEM of the CA that issues here (the local CA's, or Vault's, asked once); null if unknown. */
  async issuerPem(): Promise<string | null> {
    return this.pki.caPem ?? (this.pki.issuerPem ? this.pki.issuerPem() : null);
  }

  /** The CRL: DER, or PEM text. */
  async crl(format: 'pem' | 'der'): Promise<Buffer | string> {
    const der = await this.pki.crl();
    return format === 'der' ? der : crlToPem(der);
  }

  /** A deleted thing's certificates are revoked before the deletion is acknowledged. */
  async onThingRemoved(thingId: string): Promise<void> {
    const serials = await this.repo.activeSerials(thingId, new Date());
    if (serials.length === 0) return;
    try {
      for (const serial of serials) {
        const at = await this.pki.revoke(serial);
        await this.recordRevocation(serial, at, SYSTEM, { reason: 'thing removed' });
      }
    } catch (err) {
      // The thing is gone already; its certificates are revoked by the next sweep.
      this.logger.error({ err, thingId }, 'could not revoke the certificates of a deleted thing; will retry');
      this.scheduleSweep();
    } finally {
      await this.revocationsChanged();
    }
  }

  /** Revokes valid certificates whose thing no longer exists. */
  async sweepOrphans(): Promise<void> {
    const serials = await this.repo.orphans(new Date());
    if (serials.length === 0) return;
    try {
      for (const serial of serials) {
        const at = await this.pki.revoke(serial);
        await this.recordRevocation(serial, at, SYSTEM, { reason: 'orphan' });
      }
      this.logger.info({ count: serials.length }, 'revoked the certificates of deleted things');
    } catch (err) {
      this.logger.error(
        { err, count: serials.length },
        'could not revoke the certificates of deleted things; will retry',
      );
      this.scheduleSweep();
    } finally {
      await this.revocationsChanged();
    }
  }

  close(): void {
    this.closed = true;
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
  }

  private scheduleSweep(): void {
    if (this.sweepTimer || this.closed) return;
    this.sweepTimer = setTimeout(() => {
      this.sweepTimer = undefined;
      this.sweepOrphans().catch((err) => this.logger.error({ err }, 'certificate sweep failed'));
    }, SWEEP_RETRY_MS);
    this.sweepTimer.unref();
  }

  /** Drops the cached CRL and, outside a transaction, rebuilds it now. */
  private async revocationsChanged(): Promise<void> {
    this.pki.revocationsChanged();
    if (this.pki.external || executor(this.db) !== this.db.kysely) return;
    await this.pki.crl().catch((err) => this.logger.warn({ err }, 'could not rebuild the CRL'));
  }

  private async parse(request: IssueRequest): Promise<ParsedRequest> {
    const thingId = request.thingId ?? '';
    if (!thingId) throw malformed('missing thing id');
    const valid = request.valid ?? '';
    let validMs = this.settings.defaultValidityMs;
    let ttl = goDuration(validMs);
    if (valid !== '') {
      const ms = parseValidity(valid);
      if (ms === null) throw malformed(`valid: "${valid}" is not a positive duration such as 8760h`);
      validMs = ms;
      ttl = valid;
    }
    if (request.csr)
      return { thingId, validMs, ttl, kind: 'csr', pem: request.csr, ...(await parseCsr(request.csr)) };
    if (request.key) {
      const { keyType, keyBits, keys } = request.key;
      return { thingId, validMs, ttl, kind: 'key', keyType, keyBits, keys };
    }
    const { keyType, keyBits } = this.keyParameters(request.keyType, request.keyBits);
    return { thingId, validMs, ttl, kind: 'key', keyType, keyBits };
  }

  private keyParameters(
    type: string | undefined,
    bits: number | undefined,
  ): { keyType: KeyType; keyBits: number } {
    const keyType = (type ?? '').toLowerCase() || 'rsa';
    if (keyType !== 'rsa' && keyType !== 'ec') throw malformed(`key_type: "${type}" is not rsa or ec`);
    let keyBits = bits ?? 0;
    if (keyBits === 0) keyBits = keyType === 'rsa' ? this.settings.defaultRsaBits : 256;
    const problem = keySizeProblem(keyType, keyBits);
    if (problem) throw malformed(`key_bits: ${problem}`);
    return { keyType, keyBits };
  }
}

/** A PEM PKCS#10 request whose signature verifies and whose key a certificate here can carry. */
async function parseCsr(pem: string): Promise<{ csr: x509.Pkcs10CertificateRequest; keyType: KeyType }> {
  let csr: x509.Pkcs10CertificateRequest;
  let key: crypto.KeyObject;
  try {
    if (!pem.includes('CERTIFICATE REQUEST-----')) throw new Error('not PEM');
    csr = new x509.Pkcs10CertificateRequest(pem);
    key = crypto.createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' });
  } catch {
    throw malformed('csr: not a PEM PKCS#10 certificate request');
  }
  const info = keyInfo(key);
  if (!info || (info.type === 'rsa' && (info.bits < 2048 || info.bits > 16384))) {
    throw malformed('csr: the key must be RSA (2048 bits or more) or EC P-256, P-384 or P-521');
  }
  // Proof that the requester holds the private key of the public key to be certified.
  const verified = await csr.verify().catch(() => false);
  if (!verified) throw malformed('csr: the signature does not verify');
  return { csr, keyType: info.type };
}

/**
 * The PKI the settings choose: Vault when MF_CERTS_VAULT_HOST is set, else development
 * mode with a local CA. Refuses to start (ConfigError) on a CA that cannot be used.
 */
export async function openPki(
  config: Config['certs'],
  dataDir: string,
  repo: CertsRepository,
  logger: Logger,
): Promise<Pki> {
  if (config.vaultHost) {
    const vault = new VaultPki({
      host: config.vaultHost,
      pkiPath: config.vaultPkiPath,
      role: config.vaultRole,
      token: config.vaultToken,
    });
    logger.info(
      { vault: vault.url, pki: config.vaultPkiPath, role: config.vaultRole },
      'certificates are issued by Vault',
    );
    return vault;
  }
  return openLocalCa(
    { caPath: config.caPath, caKeyPath: config.caKeyPath },
    dataDir,
    { stamp: () => repo.revocationStamp(), entries: (now) => repo.revokedEntries(now) },
    (message, details) => logger.info(details ?? {}, message),
    config.publicUrl,
  );
}
