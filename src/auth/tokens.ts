import { errors, jwtVerify, SignJWT } from 'jose';
import { Lru } from '../lru.js';
import type { KeyTypeValue } from './types.js';

export const ISSUER = 'mainflux.auth';

export interface Claims {
  sub: string;
  issuer_id: string;
  type: KeyTypeValue;
  iat: number;
  exp?: number;
  jti?: string;
}

export type VerifyResult = { ok: true; claims: Claims } | { ok: false; expired?: Claims };

/** HS256 JWTs with Mainflux's claim layout (MODEL.md §2.2). */
export class TokenCodec {
  private key: Uint8Array<ArrayBuffer>;
  private cryptoKey: Promise<CryptoKey>;
  /**
   * Tokens already verified, with their claims: a client sends the same token with
   * every request, and a signature check costs far more than the request's other work.
   * Only successes are kept; expiry is checked on every use.
   */
  private verified = new Lru<string, Claims>(10_000);

  constructor(secret: string) {
    this.key = new TextEncoder().encode(secret);
    this.cryptoKey = crypto.subtle.importKey('raw', this.key, { name: 'HMAC', hash: 'SHA-256' }, false, [
      'verify',
    ]);
  }

  async sign(claims: {
    sub: string;
    issuerId: string;
    type: KeyTypeValue;
    issuedAt: Date;
    expiresAt?: Date;
    id?: string;
  }): Promise<string> {
    const jwt = new SignJWT({ issuer_id: claims.issuerId, type: claims.type })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setSubject(claims.sub)
      .setIssuedAt(Math.floor(claims.issuedAt.getTime() / 1000));
    if (claims.expiresAt) jwt.setExpirationTime(Math.floor(claims.expiresAt.getTime() / 1000));
    if (claims.id) jwt.setJti(claims.id);
    return jwt.sign(this.key);
  }

  async verify(token: string): Promise<VerifyResult> {
    const known = this.verified.get(token);
    if (known) {
      if (known.exp === undefined || known.exp * 1000 > Date.now()) return { ok: true, claims: known };
      this.verified.delete(token);
      return { ok: false, expired: known };
    }
    try {
      // Only HS256 with our secret: `alg: none` and every other algorithm are refused.
      // The issuer must be Mainflux's, as its auth service requires.
      const { payload } = await jwtVerify(token, await this.cryptoKey, {
        algorithms: ['HS256'],
        issuer: ISSUER,
      });
      const claims = toClaims(payload);
      if (!claims) return { ok: false };
      this.verified.set(token, claims);
      return { ok: true, claims };
    } catch (err) {
      if (err instanceof errors.JWTExpired) {
        return { ok: false, expired: toClaims(err.payload) ?? undefined };
      }
      return { ok: false };
    }
  }
}

function toClaims(payload: Record<string, unknown>): Claims | null {
  const { sub, issuer_id, type, iat, exp, jti } = payload;
  if (typeof sub !== 'string' || typeof type !== 'number' || ![0, 1, 2].includes(type)) return null;
  return {
    sub,
    issuer_id: typeof issuer_id === 'string' ? issuer_id : '',
    type: type as KeyTypeValue,
    iat: typeof iat === 'number' ? iat : 0,
    exp: typeof exp === 'number' ? exp : undefined,
    jti: typeof jti === 'string' ? jti : undefined,
  };
}
