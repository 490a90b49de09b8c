import crypto from 'node:crypto';
import { isDomainError, upstreamFailed } from '../errors.js';
import { keyIdentifier } from './certificate.js';
import { type CrlSigner, crlFromPem } from './crl.js';
import type { CsrRequest, KeyRequest, Pki, PkiCert, ResponderKey } from './pki.js';
import { commonNames, formatSerial, spkiDer, x509 } from './x509.js';

const TIMEOUT_MS = 10_000;
/** The delegated OCSP signing certificate: asked for this long, renewed after half its life. */
const RESPONDER_TTL = '720h';
/** After Vault failed to certify a responder key, OCSP answers tryLater this long before asking again. */
const RESPONDER_RETRY_MS = 2_000;
const ID_KP_OCSP_SIGNING = '1.3.6.1.5.5.7.3.9';

interface Responder {
  key: ResponderKey;
  renewAt: number;
  expiresAt: number;
}

export interface VaultSettings {
  host: string;
  pkiPath: string;
  role: string;
  token: string;
}

/** `vault.example.com:8200` (as the seed document writes it) means HTTPS, as for Vault's own client. */
export function vaultBaseUrl(host: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(host) ? host : `https://${host}`;
  return withScheme.replace(/\/+$/, '');
}

type VaultData = Record<string, unknown>;

/**
 * PKI mode (CONFIG.md §7.2): Vault's PKI secrets engine issues, signs and revokes.
 * Every failure to get an answer from Vault is a 502 with a JSON error, never a 500.
 */
export class VaultPki implements Pki {
  readonly external = true;
  readonly caPem = null;
  private base: string;
  private mount: string;
  private responder?: Responder;
  private renewing?: Promise<ResponderKey>;
  private responderFailedAt = 0;

  constructor(private settings: VaultSettings) {
    this.base = vaultBaseUrl(settings.host);
    this.mount = settings.pkiPath.replace(/^\/+|\/+$/g, '');
  }

  get url(): string {
    return this.base;
  }

  async issue(request: KeyRequest): Promise<PkiCert> {
    const data = await this.call('POST', `issue/${encodeURIComponent(this.settings.role)}`, {
      common_name: request.commonName,
      ttl: request.ttl,
      key_bits: request.keyBits,
      key_type: request.keyType,
    });
    const cert = await this.certificate(data, request.commonName);
    const privateKey = str(data.private_key);
    if (!privateKey) throw upstreamFailed('the certificate authority (Vault) answered without a private key');
    return {
      ...cert,
      keyType: request.keyType,
      privateKey,
      privateKeyType: str(data.private_key_type) || request.keyType,
    };
  }

  async sign(request: CsrRequest): Promise<PkiCert> {
    const data = await this.call('POST', `sign/${encodeURIComponent(this.settings.role)}`, {
      csr: request.pem,
      common_name: request.commonName,
      ttl: request.ttl,
    });
    return { ...(await this.certificate(data, request.commonName)), keyType: request.keyType };
  }

  async revoke(serial: string): Promise<Date> {
    const data = await this.call('POST', 'revoke', { serial_number: serial });
    const seconds = Number(data.revocation_time);
    return Number.isFinite(seconds) && seconds > 0 ? new Date(seconds * 1000) : new Date();
  }

  async crl(): Promise<Buffer> {
    const text = await this.request('GET', 'crl/pem');
    const der = crlFromPem(text);
    if (!der) throw upstreamFailed('the certificate authority (Vault) has no CRL to publish');
    return der;
  }

  revocationsChanged(): void {}

  /**
   * The CA key stays in Vault: OCSP responses are signed by a delegated responder, a key
   * made here whose certificate (id-kp-OCSPSigning) Vault issues through
   * `sign-verbatim/<role>`, at first use and again after half its life. While a renewal
   * runs (or fails) the current certificate keeps signing until it expires.
   */
  async ocspResponder(): Promise<ResponderKey> {
    const now = Date.now();
    const current = this.responder;
    if (current && now < current.renewAt) return current.key;
    if (!this.renewing && now - this.responderFailedAt >= RESPONDER_RETRY_MS) {
      this.renewing = this.delegatedResponder()
        .then((responder) => {
          this.responder = responder;
          return responder.key;
        })
        .catch((err) => {
          this.responderFailedAt = Date.now();
          throw err;
        })
        .finally(() => {
          this.renewing = undefined;
        });
    }
    if (current && now < current.expiresAt) {
      this.renewing?.catch(() => undefined);
      return current.key;
    }
    if (!this.renewing)
      throw upstreamFailed('the certificate authority (Vault) did not certify an OCSP responder');
    return this.renewing;
  }

  private async delegatedResponder(): Promise<Responder> {
    const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const keys = {
      privateKey: await crypto.webcrypto.subtle.importKey(
        'pkcs8',
        privateKey.export({ type: 'pkcs8', format: 'der' }),
        { name: 'ECDSA', namedCurve: 'P-256' },
        false,
        ['sign'],
      ),
      publicKey: await crypto.webcrypto.subtle.importKey(
        'spki',
        spkiDer(publicKey),
        { name: 'ECDSA', namedCurve: 'P-256' },
        true,
        ['verify'],
      ),
    } as CryptoKeyPair;
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      name: 'CN=Tethys OCSP responder',
      keys,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams,
    });
    const data = await this.call('POST', `sign-verbatim/${encodeURIComponent(this.settings.role)}`, {
      csr: csr.toString('pem'),
      ttl: RESPONDER_TTL,
      key_usage: ['DigitalSignature'],
      ext_key_usage_oids: [ID_KP_OCSP_SIGNING],
    });
    let cert: x509.X509Certificate;
    let issuer: x509.X509Certificate;
    try {
      cert = new x509.X509Certificate(str(data.certificate));
      issuer = new x509.X509Certificate(str(data.issuing_ca));
    } catch (err) {
      throw upstreamFailed(
        'the certificate authority (Vault) answered without an OCSP responder certificate',
        err,
      );
    }
    const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
    if (!eku?.usages.includes(ID_KP_OCSP_SIGNING))
      throw upstreamFailed(
        'the certificate authority (Vault) issued an OCSP responder certificate without id-kp-OCSPSigning',
      );
    const signer: CrlSigner = {
      caDer: Buffer.from(cert.rawData),
      keyId: keyIdentifier(spkiDer(publicKey)),
      keyType: 'ec',
      hash: 'SHA-256',
      sign: (tbs) =>
        new Promise((resolve, reject) =>
          crypto.sign('sha256', tbs, privateKey, (err, sig) => (err ? reject(err) : resolve(sig))),
        ),
    };
    const notBefore = cert.notBefore.getTime();
    const expiresAt = cert.notAfter.getTime();
    return {
      key: { issuerDer: Buffer.from(issuer.rawData), signer, delegated: true },
      renewAt: notBefore + (expiresAt - notBefore) / 2,
      expiresAt,
    };
  }

  private issuer?: string;

  /** Vault's issuing CA (`GET ca/pem`), asked once: device renewal checks a client certificate against it. */
  async issuerPem(): Promise<string | null> {
    if (this.issuer === undefined) {
      const text = await this.request('GET', 'ca/pem');
      if (!text.includes('-----BEGIN CERTIFICATE-----')) return null;
      this.issuer = text;
    }
    return this.issuer;
  }

  /** The common part of issue and sign answers, checked: a certificate for someone else is refused. */
  private async certificate(data: VaultData, commonName: string): Promise<Omit<PkiCert, 'keyType'>> {
    const pem = str(data.certificate);
    let cert: x509.X509Certificate;
    try {
      cert = new x509.X509Certificate(pem);
    } catch (err) {
      throw upstreamFailed('the certificate authority (Vault) answered without a valid certificate', err);
    }
    const serial = formatSerial(str(data.serial_number) || cert.serialNumber);
    const names = commonNames(cert);
    if (names.length !== 1 || names[0] !== commonName) {
      // Typically a role with use_csr_common_name=true signing a CSR that names another subject.
      await this.revoke(serial).catch(() => undefined);
      throw upstreamFailed(
        `the certificate authority (Vault) issued a certificate for "${names.join(', ')}" instead of "${commonName}" (set use_csr_common_name=false on the role); it was revoked`,
      );
    }
    const issuingCa = str(data.issuing_ca);
    const chain = Array.isArray(data.ca_chain)
      ? data.ca_chain.filter((c): c is string => typeof c === 'string')
      : [];
    return {
      certificate: pem,
      issuingCa,
      caChain: chain.length > 0 ? chain : issuingCa ? [issuingCa] : [],
      serial,
      expiresAt: cert.notAfter,
    };
  }

  private async call(method: string, path: string, body: unknown): Promise<VaultData> {
    const text = await this.request(method, path, body);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw upstreamFailed('the certificate authority (Vault) answered with something other than JSON', err);
    }
    const data = (parsed as { data?: unknown })?.data;
    if (!data || typeof data !== 'object')
      throw upstreamFailed('the certificate authority (Vault) answered without data');
    return data as VaultData;
  }

  private async request(method: string, path: string, body?: unknown): Promise<string> {
    const url = `${this.base}/v1/${this.mount}/${path}`;
    try {
      const res = await fetch(url, {
        method,
        headers: {
          'X-Vault-Token': this.settings.token,
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      const text = await res.text();
      if (!res.ok) {
        throw upstreamFailed(
          `the certificate authority (Vault) refused ${method} /v1/${this.mount}/${path}: ${res.status}${vaultErrors(text)}`,
        );
      }
      return text;
    } catch (err) {
      if (isDomainError(err)) throw err;
      throw upstreamFailed(
        `the certificate authority (Vault) at ${this.base} is unreachable: ${(err as Error).message}`,
        err,
      );
    }
  }
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** Vault's `{"errors":[...]}`, as text for the error message. */
function vaultErrors(text: string): string {
  try {
    const errors = (JSON.parse(text) as { errors?: unknown }).errors;
    if (Array.isArray(errors) && errors.length > 0)
      return ` (${errors.map(String).join('; ').slice(0, 300)})`;
  } catch {
    // not JSON
  }
  return '';
}
