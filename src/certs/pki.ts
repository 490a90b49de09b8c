import type crypto from 'node:crypto';
import type { CrlSigner } from './crl.js';
import type { KeyType, x509 } from './x509.js';

/**
 * Where certificates come from: a local CA (development mode, CONFIG.md §7.1) or
 * Vault's PKI (§7.2). The service holds the rules (ownership, records, revocation
 * bookkeeping); a PKI only signs, revokes and publishes its CRL.
 */
export interface Pki {
  /** True when certificates are issued by another system (Vault): a failed
   * multi-step write must revoke what it issued there, a rollback cannot. */
  readonly external: boolean;
  /** A new key pair (or the one given) and its certificate. */
  issue(request: KeyRequest): Promise<PkiCert>;
  /** A key pair made now for a certificate issued later; absent where the PKI makes its own keys (Vault). */
  generateKey?(keyType: KeyType, keyBits: number): Promise<crypto.KeyPairKeyObjectResult>;
  /** A certificate for the public key of a verified CSR. */
  sign(request: CsrRequest): Promise<PkiCert>;
  /** Revokes at the PKI; returns the revocation time. */
  revoke(serial: string): Promise<Date>;
  /** The current CRL, DER. */
  crl(): Promise<Buffer>;
  /** Revocations were recorded: a cached CRL is stale. */
  revocationsChanged(): void;
  /**
   * Who signs OCSP responses: the CA's own key (dev CA) or a delegated OCSP signing
   * certificate the CA issued (Vault). Rejects while it cannot be had (Vault down).
   */
  ocspResponder?(): Promise<ResponderKey>;
  /** The issuing CA certificate (PEM) asked of a remote PKI (Vault's `ca/pem`); absent when `caPem` is set. */
  issuerPem?(): Promise<string | null>;
  /** The issuing CA certificate (PEM) when it is known locally. */
  readonly caPem: string | null;
}

/** An OCSP responder's key: the CA whose certificates it answers for, and what signs. */
export interface ResponderKey {
  /** DER of the CA certificate the CertIDs name. */
  issuerDer: Buffer;
  /** Signs responses; its `caDer` is the signing certificate (the CA's own, or the delegated one). */
  signer: CrlSigner;
  /** True when the signer is a delegated certificate: responses then carry it. */
  delegated: boolean;
}

export interface CertRequest {
  commonName: string;
  /** Validity from now, in milliseconds. */
  validMs: number;
  /** The same validity as a Go duration (Vault's `ttl`). */
  ttl: string;
}

export interface KeyRequest extends CertRequest {
  keyType: KeyType;
  /** RSA modulus length, or the EC curve size (256, 384). */
  keyBits: number;
  /** A key pair generated beforehand (see CertsService.prepareKey). */
  keys?: crypto.KeyPairKeyObjectResult;
}

export interface CsrRequest extends CertRequest {
  /** The CSR as the client sent it. */
  pem: string;
  /** The same CSR, parsed and its signature verified. */
  csr: x509.Pkcs10CertificateRequest;
  keyType: KeyType;
}

export interface PkiCert {
  certificate: string;
  issuingCa: string;
  caChain: string[];
  /** PKCS#8 PEM (or what Vault returns); absent when a CSR was signed. */
  privateKey?: string;
  privateKeyType?: string;
  /** Colon-separated lowercase hex. */
  serial: string;
  expiresAt: Date;
  keyType: KeyType;
}
