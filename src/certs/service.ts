import crypto from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Db } from '../db/schema.js';
import { executor } from '../db/transactions.js';
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

  /** Marks the record revoked and tells every instance, so live MQTT sessions using it end. */
  private async recordRevocation(serial: string, at: Date): Promise<void> {
    if (!(await this.repo.markRevoked(serial, at))) return;
    const record = await this.repo.bySerial(serial);
    if (record) await this.events?.emit('cert.revoked', { thingId: record.thingId, serial });
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
      await this.repo.insert(recordOf(identity.email, cert, null));
      // The thing may have been deleted while the key was generated: its removal
      // revoked the certificates recorded then, not this one.
      if (!(await this.things.thingExists(thing.id))) throw notFound();
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

  /** Records certificates `sign` made, for things now created (in the caller's transaction). */
  async record(owner: string, certs: IssuedCert[]): Promise<void> {
    for (const cert of certs) await this.repo.insert(recordOf(owner, cert, null));
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
        if (!(await this.repo.bySerial(cert.serial)))
          await this.repo.insert(recordOf(owner, cert, revokedAt));
        else if (revokedAt) await this.repo.markRevoked(cert.serial, revokedAt);
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
        await this.recordRevocation(serial, at);
        if (at > latest) latest = at;
      }
    } finally {
      await this.revocationsChanged();
    }
    return latest;
  }

  /** Revokes one certificate (a renewal's `revoke_old`); returns when it was revoked. */
  async revokeSerial(serial: string): Promise<Date> {
    try {
      const at = await this.pki.revoke(serial);
      await this.recordRevocation(serial, at);
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
        await this.recordRevocation(serial, at);
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
        await this.recordRevocation(serial, at);
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
