import { isDomainError, upstreamFailed } from '../errors.js';
import { crlFromPem } from './crl.js';
import type { CsrRequest, KeyRequest, Pki, PkiCert } from './pki.js';
import { commonNames, formatSerial, x509 } from './x509.js';

const TIMEOUT_MS = 10_000;

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
