import {
  bitString,
  certificateSubject,
  explicit,
  extension,
  integerFromNumber,
  NULL,
  oid,
  pem,
  sequence,
  time,
  tlv,
  unsignedInteger,
} from './der.js';

export interface RevokedEntry {
  /** Serial as hex, with or without colons. */
  serial: string;
  revokedAt: Date;
}

export interface CrlSigner {
  /** DER of the issuing CA certificate. */
  caDer: Buffer;
  /** The CA's key identifier (its SubjectKeyIdentifier), for the AuthorityKeyIdentifier extension. */
  keyId: Buffer;
  keyType: 'rsa' | 'ec';
  hash: 'SHA-256' | 'SHA-384' | 'SHA-512';
  /** Signs the to-be-signed bytes: PKCS#1 v1.5 for RSA, DER-encoded ECDSA for EC. */
  sign(tbs: Buffer): Promise<Buffer>;
}

const SIGNATURE_OIDS = {
  rsa: {
    'SHA-256': '1.2.840.113549.1.1.11',
    'SHA-384': '1.2.840.113549.1.1.12',
    'SHA-512': '1.2.840.113549.1.1.13',
  },
  ec: {
    'SHA-256': '1.2.840.10045.4.3.2',
    'SHA-384': '1.2.840.10045.4.3.3',
    'SHA-512': '1.2.840.10045.4.3.4',
  },
} as const;

export function signatureAlgorithm(signer: CrlSigner): Buffer {
  const id = oid(SIGNATURE_OIDS[signer.keyType][signer.hash]);
  // RSA signature algorithms carry an explicit NULL parameter; ECDSA ones carry none.
  return signer.keyType === 'rsa' ? sequence(id, NULL) : sequence(id);
}

/** A v2 X.509 CRL (RFC 5280 §5) in DER: AuthorityKeyIdentifier and CRLNumber extensions. */
export async function buildCrl(
  signer: CrlSigner,
  entries: RevokedEntry[],
  options: { thisUpdate: Date; nextUpdate: Date; number: number },
): Promise<Buffer> {
  const algorithm = signatureAlgorithm(signer);
  const revoked = entries.map((e) =>
    sequence(unsignedInteger(Buffer.from(evenHex(e.serial), 'hex')), time(e.revokedAt)),
  );
  const tbs = sequence(
    integerFromNumber(1), // v2
    algorithm,
    certificateSubject(signer.caDer),
    time(options.thisUpdate),
    time(options.nextUpdate),
    ...(revoked.length > 0 ? [sequence(...revoked)] : []),
    explicit(
      0,
      sequence(
        extension('2.5.29.35', sequence(tlv(0x80, signer.keyId))),
        extension('2.5.29.20', integerFromNumber(options.number)),
      ),
    ),
  );
  const signature = await signer.sign(tbs);
  return sequence(tbs, algorithm, bitString(signature));
}

function evenHex(serial: string): string {
  const hex = serial.replace(/:/g, '');
  return hex.length % 2 ? `0${hex}` : hex;
}

export function crlToPem(der: Buffer): string {
  return `${pem(der, 'X509 CRL')}\n`;
}

/** The DER of the first CRL in a PEM text (`X509 CRL`, as Vault and openssl write it, or `CRL`), or null. */
export function crlFromPem(pem: string): Buffer | null {
  const m = /-----BEGIN (?:X509 )?CRL-----([\s\S]*?)-----END (?:X509 )?CRL-----/.exec(pem);
  if (!m) return null;
  const der = Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
  return der.length > 0 ? der : null;
}
