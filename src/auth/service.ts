import type { AuditLog } from '../audit/service.js';
import { SYSTEM } from '../audit/types.js';
import type { Db } from '../db/schema.js';
import { inTransaction } from '../db/transactions.js';
import { DomainError, malformed, notFound, unauthenticated } from '../errors.js';
import type { EventHub } from '../events.js';
import { newEntityId } from '../ids.js';
import { Lru } from '../lru.js';
import type { KeysRepository } from './repo.js';
import type { Claims, TokenCodec } from './tokens.js';
import { type ApiKey, type Identity, type IssuedKey, KeyType } from './types.js';

const LOGIN_TTL_MS = 10 * 60 * 60 * 1000;
const RECOVERY_TTL_MS = 5 * 60 * 1000;
/** How long a positive API-key lookup is trusted before the store is asked again
 *  (a revocation on this instance takes effect at once; this bounds other instances). */
const API_KEY_RECHECK_MS = 5_000;
/** 9999-12-31T23:59:59Z: the last instant RFC 3339 (and Go's time parser) can write. */
const MAX_EXPIRY_MS = Date.UTC(9999, 11, 31, 23, 59, 59);

/** Strips the schemes clients put in front of a token (`Bearer`), as later Mainflux does. */
export function credentialOf(header: string | undefined): string {
  if (!header) return '';
  const value = header.trim();
  const space = value.indexOf(' ');
  if (space > 0 && /^bearer$/i.test(value.slice(0, space))) return value.slice(space + 1).trim();
  return value;
}

export class AuthService {
  private apiKeys: Lru<string, number>;

  constructor(
    private keys: KeysRepository,
    private codec: TokenCodec,
    private events: EventHub,
    cacheSize: number,
    private db: Db,
    private audit: AuditLog,
  ) {
    this.apiKeys = new Lru(cacheSize);
    events.on('key.revoked', ({ id }) => this.apiKeys.delete(id), { everyInstance: true });
    events.on('caches.stale', () => this.apiKeys.clear(), { everyInstance: true });
  }

  issueLogin(user: { id: string; email: string }): Promise<string> {
    const now = new Date();
    return this.codec.sign({
      sub: user.email,
      issuerId: user.id,
      type: KeyType.login,
      issuedAt: now,
      expiresAt: new Date(now.getTime() + LOGIN_TTL_MS),
    });
  }

  issueRecovery(user: { id: string; email: string }): Promise<string> {
    const now = new Date();
    return this.codec.sign({
      sub: user.email,
      issuerId: user.id,
      type: KeyType.recovery,
      issuedAt: now,
      expiresAt: new Date(now.getTime() + RECOVERY_TTL_MS),
    });
  }

  /**
   * Verifies a credential (login token, recovery token or API key) and tells who it is.
   * Throws `unauthenticated` for anything else: missing, malformed, forged, expired,
   * revoked.
   */
  async identify(header: string | undefined, message?: string): Promise<Identity> {
    const token = credentialOf(header);
    if (!token) throw unauthenticated(message);
    const result = await this.codec.verify(token);
    if (!result.ok) {
      const expired = result.expired;
      if (expired?.type === KeyType.api && expired.jti) {
        // An expired API key is dropped from the store when presented (MODEL.md §2.2).
        const { issuer_id, jti, sub } = expired;
        await inTransaction(this.db, async () => {
          if (await this.keys.remove(issuer_id, jti))
            this.audit.record(SYSTEM, { action: 'key.expire', entityId: jti, owner: sub || null });
        });
        this.apiKeys.delete(expired.jti);
      }
      throw unauthenticated(message);
    }
    const claims = result.claims;
    if (!claims.sub) throw unauthenticated(message);
    if (claims.type === KeyType.api && !(await this.apiKeyExists(claims))) throw unauthenticated(message);
    return { email: claims.sub, userId: claims.issuer_id, type: claims.type, keyId: claims.jti };
  }

  private async apiKeyExists(claims: Claims): Promise<boolean> {
    if (!claims.jti) return false;
    const checked = this.apiKeys.get(claims.jti);
    if (checked !== undefined && Date.now() - checked < API_KEY_RECHECK_MS) return true;
    const stored = await this.keys.retrieve(claims.issuer_id, claims.jti);
    if (!stored) return false;
    this.apiKeys.set(claims.jti, Date.now());
    return true;
  }

  private async loginIdentity(header: string | undefined, message: string): Promise<Identity> {
    if (!credentialOf(header)) throw malformed();
    let identity: Identity;
    try {
      identity = await this.identify(header, message);
    } catch (err) {
      if (err instanceof DomainError) throw unauthenticated(message);
      throw err;
    }
    if (identity.type !== KeyType.login) throw unauthenticated(message);
    return identity;
  }

  /** POST /keys (API.md §2.1). */
  async issueKey(header: string | undefined, type: number, durationSeconds: number): Promise<IssuedKey> {
    const now = new Date();
    if (type === KeyType.login) {
      // 0.12.1 mints a login key without looking at the caller, identifying nobody; a
      // valid login token in the header makes it a real login key for that user.
      let user = { id: '', email: '' };
      try {
        const identity = await this.identify(header);
        if (identity.type === KeyType.login) user = { id: identity.userId, email: identity.email };
      } catch {
        // nobody
      }
      const expiresAt = new Date(now.getTime() + LOGIN_TTL_MS);
      const value = await this.codec.sign({
        sub: user.email,
        issuerId: user.id,
        type: KeyType.login,
        issuedAt: now,
        expiresAt,
      });
      return { value, issuedAt: now, expiresAt };
    }
    if (type !== KeyType.api) throw malformed();
    const identity = await this.loginIdentity(header, 'failed to issue new user key');
    const expiresAt = durationSeconds !== 0 ? new Date(now.getTime() + durationSeconds * 1000) : null;
    // An expiry no client can read back (before 1970 or after year 9999, or past what a
    // Date can hold) is a bad duration, not a server error.
    if (expiresAt && !(expiresAt.getTime() >= 0 && expiresAt.getTime() <= MAX_EXPIRY_MS)) throw malformed();
    const key: ApiKey = {
      id: newEntityId(),
      type: KeyType.api,
      issuerId: identity.userId,
      subject: identity.email,
      issuedAt: now,
      expiresAt,
    };
    await inTransaction(this.db, async () => {
      await this.keys.save(key);
      this.audit.record(identity, {
        action: 'key.issue',
        entityId: key.id,
        owner: identity.email,
        details: { type: key.type, expires_at: key.expiresAt?.toISOString() ?? null },
      });
    });
    const value = await this.codec.sign({
      sub: key.subject,
      issuerId: key.issuerId,
      type: KeyType.api,
      issuedAt: now,
      expiresAt: key.expiresAt ?? undefined,
      id: key.id,
    });
    return { id: key.id, value, issuedAt: now, expiresAt: key.expiresAt ?? undefined };
  }

  async retrieveKey(header: string | undefined, id: string): Promise<ApiKey> {
    const identity = await this.loginIdentity(header, 'failed to retrieve key data');
    const key = await this.keys.retrieve(identity.userId, id);
    if (!key) throw notFound('entity not found');
    return key;
  }

  async revokeKey(header: string | undefined, id: string): Promise<void> {
    const identity = await this.loginIdentity(header, 'failed to remove key');
    await inTransaction(this.db, async () => {
      if (await this.keys.remove(identity.userId, id))
        this.audit.record(identity, { action: 'key.revoke', entityId: id, owner: identity.email });
    });
    await this.events.emit('key.revoked', { id, issuerId: identity.userId });
  }
}
