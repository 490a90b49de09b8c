import crypto from 'node:crypto';
import { type CrlSigner, signatureAlgorithm } from './crl.js';
import {
  bitString,
  certificateSubject,
  explicit,
  extension,
  integerFromNumber,
  octetString,
  oid,
  readTlv,
  sequence,
  time,
  tlv,
  unsignedInteger,
} from './der.js';

/**
 * A thing's X.509 v3 certificate (RFC 5280 §4.1) encoded directly in DER and signed
 * with Node's crypto. @peculiar/x509 builds the same through a generic ASN.1 schema
 * layer that cost ~8 ms of main-thread time a certificate; this is a few hundred µs.
 */
export interface ThingCertificate {
  /** Serial as hex: a positive INTEGER's magnitude. */
  serialHex: string;
  /** The subject's RDNs in order, e.g. O, OU, CN. */
  subject: [attribute: 'O' | 'OU' | 'CN', value: string][];
  notBefore: Date;
  notAfter: Date;
  /** The subject's public key as SubjectPublicKeyInfo DER. */
  spki: Buffer;
  /** digitalSignature, plus keyEncipherment for RSA subject keys. */
  keyEncipherment: boolean;
  /** Where relying parties ask: the OCSP responder (AIA) and the DER CRL (CDP); absent: neither extension. */
  urls?: { ocsp: string; crl: string };
}

const ATTRIBUTE_OIDS = { CN: '2.5.4.3', O: '2.5.4.10', OU: '2.5.4.11' } as const;
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

function name(rdns: ThingCertificate['subject']): Buffer {
  // One attribute per RDN; PrintableString when the value allows it (as certificates
  // issued before this encoder were), else UTF8String.
  return sequence(
    ...rdns.map(([attribute, value]) =>
      tlv(
        0x31,
        sequence(
          oid(ATTRIBUTE_OIDS[attribute]),
          PRINTABLE.test(value)
            ? tlv(0x13, Buffer.from(value, 'ascii'))
            : tlv(0x0c, Buffer.from(value, 'utf8')),
        ),
      ),
    ),
  );
}

/** RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING's bits. */
export function keyIdentifier(spki: Buffer): Buffer {
  const outer = readTlv(spki, 0);
  const algorithm = readTlv(spki, outer.contentStart);
  const key = readTlv(spki, algorithm.end);
  return crypto
    .createHash('sha1')
    .update(spki.subarray(key.contentStart + 1, key.end))
    .digest();
}

const uri = (url: string) => tlv(0x86, Buffer.from(url, 'ascii')); // GeneralName [6] uniformResourceIdentifier

/**
 * RFC 5280 §4.2.2.1 Authority Information Access (one id-ad-ocsp AccessDescription) and
 * §4.2.1.13 CRL Distribution Points (one DistributionPoint whose fullName is the URL).
 */
function locationExtensions(urls: { ocsp: string; crl: string }): Buffer[] {
  return [
    extension('1.3.6.1.5.5.7.1.1', sequence(sequence(oid('1.3.6.1.5.5.7.48.1'), uri(urls.ocsp)))),
    // DistributionPoint { distributionPoint [0] { fullName [0] GeneralNames } }
    extension('2.5.29.31', sequence(sequence(tlv(0xa0, tlv(0xa0, uri(urls.crl)))))),
  ];
}

/** The certificate in DER, issued by the signer's CA. */
export async function buildCertificate(signer: CrlSigner, cert: ThingCertificate): Promise<Buffer> {
  const algorithm = signatureAlgorithm(signer);
  // keyUsage BIT STRING: digitalSignature is bit 0, keyEncipherment bit 2; DER drops
  // trailing zero bits and says how many bits of the last byte are unused.
  const keyUsage = cert.keyEncipherment
    ? Buffer.from([0x03, 0x02, 0x05, 0xa0])
    : Buffer.from([0x03, 0x02, 0x07, 0x80]);
  const tbs = sequence(
    explicit(0, integerFromNumber(2)), // v3
    unsignedInteger(Buffer.from(cert.serialHex, 'hex')),
    algorithm,
    certificateSubject(signer.caDer),
    sequence(time(cert.notBefore), time(cert.notAfter)),
    name(cert.subject),
    cert.spki,
    explicit(
      3,
      sequence(
        extension('2.5.29.19', sequence(), true), // basicConstraints: CA:FALSE
        extension('2.5.29.15', keyUsage, true),
        extension('2.5.29.37', sequence(oid('1.3.6.1.5.5.7.3.2'))), // clientAuth
        extension('2.5.29.35', sequence(tlv(0x80, signer.keyId))),
        extension('2.5.29.14', octetString(keyIdentifier(cert.spki))),
        ...(cert.urls ? locationExtensions(cert.urls) : []),
      ),
    ),
  );
  const signature = await signer.sign(tbs);
  return sequence(tbs, algorithm, bitString(signature));
}
