import type crypto from 'node:crypto';
import type { KeyType } from './x509.js';

export type { KeyType };

/** What POST /certs (or provisioning) asks for. Key parameters are ignored when a CSR is given. */
export interface IssueRequest {
  thingId?: string;
  keyType?: string;
  /** RSA: 2048, 3072, 4096; EC: 256, 384. 0 or absent: the default. */
  keyBits?: number;
  /** Go duration ("8760h"); empty: the configured default. */
  valid?: string;
  /** PEM PKCS#10: certify its public key; no private key is made or returned. */
  csr?: string;
  /** A key made beforehand by CertsService.prepareKey: keyType and keyBits are its. */
  key?: PreparedKey;
}

/**
 * A key pair generated before a caller opens a database transaction (provisioning), so
 * the transaction is not held open for the seconds an RSA key can take. With Vault,
 * Vault makes the key: `keys` is absent and only the parameters are carried.
 */
export interface PreparedKey {
  readonly keyType: KeyType;
  readonly keyBits: number;
  readonly keys?: crypto.KeyPairKeyObjectResult;
}

export interface IssuedCert {
  thingId: string;
  /** The certificate, PEM. */
  cert: string;
  /** Its private key, PKCS#8 PEM (Vault: what Vault returns); '' when a CSR was signed. */
  key: string;
  privateKeyType?: string;
  keyType: KeyType;
  /** Colon-separated lowercase hex, as Vault prints serials. */
  serial: string;
  /** The issuing CA certificate, PEM. */
  caCert: string;
  caChain: string[];
  expiresAt: Date;
}

/** A stored certificate record (MODEL.md §2.8). */
export interface CertRecord {
  thingId: string;
  owner: string;
  serial: string;
  keyType: string;
  expiresAt: Date;
  revokedAt: Date | null;
  createdAt: Date;
}

export interface CertsPage {
  total: number;
  offset: number;
  limit: number;
  certs: CertRecord[];
}

export const DEFAULT_LIMIT = 10;
export const MAX_LIMIT = 100;
