import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { formatSerial, randomSerial, x509 } from '../../src/certs/x509.js';
import { parseGoDuration } from '../../src/durations.js';

const generateKeyPair = promisify(crypto.generateKeyPair);

/**
 * A small stand-in for Vault's PKI secrets engine on a real loopback socket: the
 * endpoints Tethys calls (issue, sign, sign-verbatim, revoke, crl/pem) with real certificates from its
 * own CA, X-Vault-Token checked, and every call recorded.
 */
export interface VaultCall {
  method: string;
  path: string;
  token: string | undefined;
  body: any;
}

export interface FakeVault {
  url: string;
  token: string;
  pkiPath: string;
  role: string;
  caPem: string;
  calls: VaultCall[];
  /** Serial (colon hex) → revocation time (unix seconds). */
  revoked: Map<string, number>;
  /** When set, every request is answered 503 (a sealed Vault). */
  sealed: boolean;
  /** Vault's default for roles: the CSR's own CN wins over common_name. */
  useCsrCommonName: boolean;
  close(): Promise<void>;
}

export async function startVault(
  options: { token?: string; pkiPath?: string; role?: string } = {},
): Promise<FakeVault> {
  const token = options.token ?? 'vault-root-token';
  const pkiPath = options.pkiPath ?? 'pki_int';
  const role = options.role ?? 'mainflux';

  const caKeys = (await crypto.webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const caName = 'CN=Fake Vault Intermediate CA, O=Vault Test';
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: caName,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 365 * 24 * 3_600_000),
    keys: caKeys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  const caPem = ca.toString('pem');

  async function certify(
    spki: Uint8Array<ArrayBuffer>,
    commonName: string,
    ttl: string,
    extendedUsages: string[] = [x509.ExtendedKeyUsage.clientAuth],
  ) {
    const ms = parseGoDuration(ttl || '72h') ?? 72 * 3_600_000;
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: new x509.Name([{ CN: [commonName] }]),
      issuer: ca.subjectName,
      notBefore: new Date(Date.now() - 30_000),
      notAfter: new Date(Date.now() + ms),
      publicKey: spki,
      signingKey: caKeys.privateKey,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams,
      extensions: [new x509.ExtendedKeyUsageExtension(extendedUsages)],
    });
    return {
      certificate: cert.toString('pem'),
      issuing_ca: caPem,
      ca_chain: [caPem],
      serial_number: formatSerial(cert.serialNumber),
      expiration: Math.floor(cert.notAfter.getTime() / 1000),
    };
  }

  const issued = new Set<string>();

  async function handle(method: string, path: string, body: any): Promise<[number, unknown, string?]> {
    const prefix = `/v1/${pkiPath}/`;
    if (!path.startsWith(prefix)) return [404, { errors: [`no handler for route "${path}"`] }];
    const rest = path.slice(prefix.length);
    if (method === 'POST' && rest === `issue/${role}`) {
      const keyType = body.key_type || 'rsa';
      const keys =
        keyType === 'ec'
          ? await generateKeyPair('ec', { namedCurve: (body.key_bits || 256) === 384 ? 'P-384' : 'P-256' })
          : await generateKeyPair('rsa', { modulusLength: body.key_bits || 2048 });
      const data = await certify(
        new Uint8Array(keys.publicKey.export({ type: 'spki', format: 'der' })),
        body.common_name,
        body.ttl,
      );
      issued.add(data.serial_number);
      // Vault returns PKCS#1 / SEC1 keys by default.
      const privateKey = keys.privateKey.export({
        type: keyType === 'ec' ? 'sec1' : 'pkcs1',
        format: 'pem',
      }) as string;
      return [200, { data: { ...data, private_key: privateKey, private_key_type: keyType } }];
    }
    if (method === 'POST' && rest === `sign/${role}`) {
      let csr: x509.Pkcs10CertificateRequest;
      try {
        csr = new x509.Pkcs10CertificateRequest(body.csr);
      } catch {
        return [400, { errors: ['certificate request could not be parsed'] }];
      }
      const cn = vault.useCsrCommonName ? (csr.subjectName.getField('CN')[0] ?? '') : body.common_name;
      const data = await certify(new Uint8Array(csr.publicKey.rawData), cn, body.ttl);
      issued.add(data.serial_number);
      return [200, { data }];
    }
    // sign-verbatim: the CSR's own subject, and the extended key usages the caller names
    // (`ext_key_usage_oids`, as Vault takes them: a list or comma-separated text).
    if (method === 'POST' && rest === `sign-verbatim/${role}`) {
      let csr: x509.Pkcs10CertificateRequest;
      try {
        csr = new x509.Pkcs10CertificateRequest(body.csr);
      } catch {
        return [400, { errors: ['certificate request could not be parsed'] }];
      }
      const oids: string[] = Array.isArray(body.ext_key_usage_oids)
        ? body.ext_key_usage_oids
        : String(body.ext_key_usage_oids ?? '')
            .split(',')
            .filter(Boolean);
      const cn = csr.subjectName.getField('CN')[0] ?? '';
      const data = await certify(new Uint8Array(csr.publicKey.rawData), cn, body.ttl, oids);
      issued.add(data.serial_number);
      return [200, { data }];
    }
    if (method === 'POST' && rest === 'revoke') {
      const serial = String(body.serial_number ?? '');
      if (!issued.has(serial)) return [400, { errors: [`certificate with serial ${serial} not found`] }];
      const at = vault.revoked.get(serial) ?? Math.floor(Date.now() / 1000);
      vault.revoked.set(serial, at);
      return [
        200,
        { data: { revocation_time: at, revocation_time_rfc3339: new Date(at * 1000).toISOString() } },
      ];
    }
    if (method === 'GET' && rest === 'ca/pem') {
      return [200, caPem, 'application/pem-certificate-chain'];
    }
    if (method === 'GET' && rest === 'crl/pem') {
      const crl = await x509.X509CrlGenerator.create({
        issuer: ca.subjectName,
        signingKey: caKeys.privateKey,
        signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams,
        nextUpdate: new Date(Date.now() + 72 * 3_600_000),
        entries: [...vault.revoked].map(([serial, at]) => ({
          serialNumber: serial.replace(/:/g, ''),
          revocationDate: new Date(at * 1000),
        })),
      });
      // Vault writes the openssl header, X509 CRL.
      return [200, x509.PemConverter.encode(crl.rawData, 'X509 CRL'), 'application/pem-certificate-chain'];
    }
    return [405, { errors: [`unsupported operation ${method} ${path}`] }];
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: any;
      try {
        body = raw ? JSON.parse(raw) : undefined;
      } catch {
        body = raw;
      }
      const path = (req.url ?? '').split('?')[0]!;
      const presented = req.headers['x-vault-token'] as string | undefined;
      vault.calls.push({ method: req.method ?? '', path, token: presented, body });
      const send = (status: number, payload: unknown, type = 'application/json') => {
        res.writeHead(status, { 'content-type': type });
        res.end(typeof payload === 'string' ? payload : JSON.stringify(payload));
      };
      if (vault.sealed) return send(503, { errors: ['Vault is sealed'] });
      // Like Vault, the CRL is public; everything else needs the token.
      if (!path.endsWith('/crl/pem') && !path.endsWith('/ca/pem') && presented !== token)
        return send(403, { errors: ['permission denied'] });
      try {
        const [status, payload, type] = await handle(req.method ?? '', path, body ?? {});
        send(status, payload, type);
      } catch (err) {
        send(500, { errors: [(err as Error).message] });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const vault: FakeVault = {
    url: `http://127.0.0.1:${port}`,
    token,
    pkiPath,
    role,
    caPem,
    calls: [],
    revoked: new Map(),
    sealed: false,
    useCsrCommonName: false,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return vault;
}
