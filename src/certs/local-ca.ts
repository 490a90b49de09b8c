import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ConfigError } from '../config.js';
import { buildCertificate } from './certificate.js';
import { buildCrl, type CrlSigner, type RevokedEntry } from './crl.js';
import { pem } from './der.js';
import type { CsrRequest, KeyRequest, Pki, PkiCert, ResponderKey } from './pki.js';
import { formatSerial, type KeyInfo, type KeyType, keyInfo, randomSerial, spkiDer, x509 } from './x509.js';

const generateKeyPair = promisify(crypto.generateKeyPair);

/** Issued certificates start a minute in the past, so a device whose clock is slightly behind accepts them. */
const BACKDATE_MS = 60_000;
const CA_VALIDITY_MS = 20 * 365 * 24 * 3_600_000;
/** A CRL says when the next one is due; it is rebuilt long before, and at every revocation. */
const CRL_LIFETIME_MS = 24 * 3_600_000;
const CRL_REBUILD_AFTER_MS = 3_600_000;
/** Concurrent key generations: RSA 4096 takes a second or more of a libuv thread; leave threads for the rest. */
const KEYGEN_CONCURRENCY = Math.max(1, os.availableParallelism() - 1);
/** How long a process waits for another one that is writing the generated CA (first start of several workers). */
const CA_WAIT_MS = 10_000;

export interface CaFiles {
  caPath: string;
  caKeyPath: string;
}

/** Revocations as the database records them (the local CA keeps no state of its own). */
export interface RevocationSource {
  /** Changes whenever a revocation is recorded (or rolled back). */
  stamp(): Promise<string>;
  /** Revoked certificates that have not expired yet. */
  entries(now: Date): Promise<RevokedEntry[]>;
}

interface CaMaterial {
  cert: x509.X509Certificate;
  der: Buffer;
  pem: string;
  key: crypto.KeyObject;
  signingKey: CryptoKey;
  info: KeyInfo;
  keyId: Buffer;
}

export type Log = (message: string, details?: Record<string, unknown>) => void;

/**
 * Development mode (CONFIG.md §7.1): a CA whose certificate and key are files, either
 * the configured ones or a pair generated at first start in the data folder.
 */
export async function openLocalCa(
  files: CaFiles,
  dataDir: string,
  source: RevocationSource,
  log: Log,
  publicUrl: string | null = null,
): Promise<LocalCa> {
  const { caPath, caKeyPath } = files;
  if (Boolean(caPath) !== Boolean(caKeyPath)) {
    throw new ConfigError(
      'MF_CERTS_SIGN_CA_PATH and MF_CERTS_SIGN_CA_KEY_PATH must be set together (a CA certificate and its private key), or both left empty to use a CA generated in the data folder',
    );
  }
  if (caPath) {
    const material = await loadCa(
      readConfigured(caPath, 'MF_CERTS_SIGN_CA_PATH'),
      readConfigured(caKeyPath, 'MF_CERTS_SIGN_CA_KEY_PATH'),
      `${caPath} and ${caKeyPath}`,
    );
    log('development certificate authority loaded', { cert: caPath, key: caKeyPath });
    return new LocalCa(material, source, publicUrl);
  }
  return new LocalCa(await generatedCa(dataDir, log), source, publicUrl);
}

function readConfigured(file: string, variable: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${variable}: cannot read ${file}: ${(err as Error).message}`);
  }
}

async function loadCa(certPem: string, keyPem: string, where: string): Promise<CaMaterial> {
  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(certPem);
  } catch (err) {
    throw new ConfigError(
      `development CA (${where}): the certificate is not a PEM X.509 certificate: ${(err as Error).message}`,
    );
  }
  let key: crypto.KeyObject;
  try {
    key = crypto.createPrivateKey(keyPem);
  } catch (err) {
    throw new ConfigError(
      `development CA (${where}): the private key cannot be read (PEM PKCS#8, PKCS#1 or SEC1, not encrypted): ${(err as Error).message}`,
    );
  }
  const info = keyInfo(key);
  if (!info || (info.type === 'rsa' && info.bits < 2048)) {
    throw new ConfigError(
      `development CA (${where}): the key must be RSA (2048 bits or more) or EC P-256, P-384 or P-521`,
    );
  }
  if (!spkiDer(crypto.createPublicKey(key)).equals(Buffer.from(cert.publicKey.rawData))) {
    throw new ConfigError(`development CA (${where}): the private key does not belong to the certificate`);
  }
  const constraints = cert.getExtension(x509.BasicConstraintsExtension);
  if (constraints && !constraints.ca)
    throw new ConfigError(
      `development CA (${where}): the certificate is not a CA certificate (basicConstraints CA:FALSE)`,
    );
  if (cert.notAfter.getTime() <= Date.now())
    throw new ConfigError(
      `development CA (${where}): the certificate expired on ${cert.notAfter.toISOString()}`,
    );
  const signingKey = await crypto.webcrypto.subtle.importKey(
    'pkcs8',
    key.export({ type: 'pkcs8', format: 'der' }),
    info.algorithm,
    false,
    ['sign'],
  );
  const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension);
  const keyId = ski ? Buffer.from(ski.keyId, 'hex') : Buffer.from(await cert.publicKey.getKeyIdentifier());
  const der = Buffer.from(cert.rawData);
  return { cert, der, pem: cert.toString('pem'), key, signingKey: signingKey as CryptoKey, info, keyId };
}

/** The CA kept in the data folder: read when present, generated (once) when not. */
async function generatedCa(dataDir: string, log: Log): Promise<CaMaterial> {
  const certFile = path.join(dataDir, 'ca.crt');
  const keyFile = path.join(dataDir, 'ca.key');
  const where = `${certFile} and ${keyFile}`;
  if (fs.existsSync(keyFile))
    return loadCa(await waitForFile(certFile, keyFile), fs.readFileSync(keyFile, 'utf8'), where);
  if (fs.existsSync(certFile))
    throw new ConfigError(
      `development CA: ${certFile} exists without its key ${keyFile}: restore the key, or remove both to generate a new CA`,
    );

  fs.mkdirSync(dataDir, { recursive: true });
  const keys = await generateKeyPair('ec', { namedCurve: 'P-256' });
  const keyPem = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const certPem = await selfSigned(keys.privateKey, keys.publicKey);
  try {
    // The key is created exclusively: of several processes starting at once, one writes the pair.
    fs.writeFileSync(keyFile, keyPem, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return loadCa(await waitForFile(certFile, keyFile), fs.readFileSync(keyFile, 'utf8'), where);
  }
  fs.chmodSync(keyFile, 0o600);
  const tmp = `${certFile}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, certPem, { mode: 0o644 });
  fs.renameSync(tmp, certFile);
  log(
    'development certificate authority generated (set MF_CERTS_SIGN_CA_PATH and MF_CERTS_SIGN_CA_KEY_PATH to use your own)',
    {
      cert: certFile,
      key: keyFile,
    },
  );
  return loadCa(certPem, keyPem, where);
}

/** The certificate of a key another process has just written, once it is there. */
async function waitForFile(certFile: string, keyFile: string): Promise<string> {
  const deadline = Date.now() + CA_WAIT_MS;
  for (;;) {
    try {
      return fs.readFileSync(certFile, 'utf8');
    } catch {
      if (Date.now() > deadline) {
        throw new ConfigError(
          `development CA: ${keyFile} exists without ${certFile}: restore the certificate, or remove both to generate a new CA`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

async function selfSigned(privateKey: crypto.KeyObject, publicKey: crypto.KeyObject): Promise<string> {
  const info = keyInfo(privateKey)!;
  const signingKey = await crypto.webcrypto.subtle.importKey(
    'pkcs8',
    privateKey.export({ type: 'pkcs8', format: 'der' }),
    info.algorithm,
    false,
    ['sign'],
  );
  const spki = new Uint8Array(spkiDer(publicKey));
  const now = Date.now();
  // A per-installation name: two development CAs never look like the same issuer.
  const name = new x509.Name([
    { O: ['Mainflux'] },
    { OU: ['mainflux'] },
    { CN: [`Tethys development CA ${crypto.randomBytes(4).toString('hex')}`] },
  ]);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: name,
    issuer: name,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + CA_VALIDITY_MS),
    publicKey: spki,
    signingKey: signingKey as CryptoKey,
    signingAlgorithm: { name: 'ECDSA', hash: info.hash } as EcdsaParams,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(spki),
    ],
  });
  return cert.toString('pem');
}

/** At most `n` tasks at once; the rest wait in order. */
class Limiter {
  private active = 0;
  private waiting: (() => void)[] = [];
  constructor(private n: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.n) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await task();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

export class LocalCa implements Pki {
  readonly external = false;
  private keygen = new Limiter(KEYGEN_CONCURRENCY);
  private cached?: { stamp: string; builtAt: number; der: Buffer };
  private building?: { stamp: string; promise: Promise<Buffer> };
  private responderKey?: ResponderKey;

  constructor(
    private ca: CaMaterial,
    private source: RevocationSource,
    /** TETHYS_PUBLIC_URL: certificates then name its OCSP responder and CRL. */
    private publicUrl: string | null = null,
  ) {}

  get caPem(): string {
    return this.ca.pem;
  }

  /** Node's asynchronous key generation runs on the libuv thread pool, off the event loop. */
  generateKey(keyType: KeyType, keyBits: number): Promise<crypto.KeyPairKeyObjectResult> {
    return this.keygen.run(() =>
      keyType === 'rsa'
        ? generateKeyPair('rsa', { modulusLength: keyBits })
        : generateKeyPair('ec', { namedCurve: keyBits === 384 ? 'P-384' : 'P-256' }),
    );
  }

  async issue(request: KeyRequest): Promise<PkiCert> {
    const keys = request.keys ?? (await this.generateKey(request.keyType, request.keyBits));
    const cert = await this.certify(
      new Uint8Array(spkiDer(keys.publicKey)),
      request.keyType,
      request.commonName,
      request.validMs,
    );
    return {
      ...cert,
      privateKey: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      privateKeyType: request.keyType,
    };
  }

  async sign(request: CsrRequest): Promise<PkiCert> {
    return this.certify(
      new Uint8Array(request.csr.publicKey.rawData),
      request.keyType,
      request.commonName,
      request.validMs,
    );
  }

  private async certify(
    spki: Uint8Array<ArrayBuffer>,
    keyType: KeyType,
    commonName: string,
    validMs: number,
  ): Promise<PkiCert> {
    const now = Date.now();
    // Never past the CA's own end: such a certificate could not be verified then anyway.
    // DER times carry whole seconds.
    const notAfter = new Date(
      Math.floor(Math.min(now + validMs, this.ca.cert.notAfter.getTime()) / 1000) * 1000,
    );
    const serial = randomSerial();
    const der = await buildCertificate(this.signer(), {
      serialHex: serial,
      subject: [
        ['O', 'Mainflux'],
        ['OU', 'mainflux'],
        ['CN', commonName],
      ],
      notBefore: new Date(now - BACKDATE_MS),
      notAfter,
      spki: Buffer.from(spki),
      keyEncipherment: keyType === 'rsa',
      ...(this.publicUrl
        ? { urls: { ocsp: `${this.publicUrl}/certs/ocsp`, crl: `${this.publicUrl}/certs/crl?format=der` } }
        : {}),
    });
    return {
      certificate: pem(der, 'CERTIFICATE'),
      issuingCa: this.ca.pem,
      caChain: [this.ca.pem],
      serial: formatSerial(serial),
      expiresAt: notAfter,
      keyType,
    };
  }

  /** The revocation is the database record; the CA itself keeps nothing. */
  async revoke(): Promise<Date> {
    return new Date();
  }

  revocationsChanged(): void {
    this.cached = undefined;
  }

  /** The CRL, rebuilt when a revocation was recorded since (on any instance) or once an hour. */
  async crl(): Promise<Buffer> {
    const stamp = await this.source.stamp();
    const cached = this.cached;
    if (cached && cached.stamp === stamp && Date.now() - cached.builtAt < CRL_REBUILD_AFTER_MS)
      return cached.der;
    if (this.building?.stamp === stamp) return this.building.promise;
    const promise = this.build(stamp);
    this.building = { stamp, promise };
    try {
      return await promise;
    } finally {
      if (this.building?.promise === promise) this.building = undefined;
    }
  }

  private async build(stamp: string): Promise<Buffer> {
    const now = new Date();
    const entries = await this.source.entries(now);
    const der = await buildCrl(this.signer(), entries, {
      thisUpdate: new Date(now.getTime() - BACKDATE_MS),
      nextUpdate: new Date(now.getTime() + CRL_LIFETIME_MS),
      number: now.getTime(),
    });
    this.cached = { stamp, builtAt: now.getTime(), der };
    return der;
  }

  /** OCSP responses are signed by the CA itself (the same object every time: responses kept for it stay). */
  async ocspResponder(): Promise<ResponderKey> {
    this.responderKey ??= { issuerDer: this.ca.der, signer: this.signer(), delegated: false };
    return this.responderKey;
  }

  private signer(): CrlSigner {
    const { info, key } = this.ca;
    const hash = info.hash.replace('-', '').toLowerCase();
    return {
      caDer: this.ca.der,
      keyId: this.ca.keyId,
      keyType: info.type,
      hash: info.hash,
      sign: (tbs) =>
        new Promise((resolve, reject) =>
          crypto.sign(hash, tbs, key, (err, sig) => (err ? reject(err) : resolve(sig))),
        ),
    };
  }
}
