import crypto from 'node:crypto';
import {
  CertStatus,
  OCSPRequest,
  ResponderID,
  ResponseData,
  RevokedInfo,
  SingleResponse,
} from '@peculiar/asn1-ocsp';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { Certificate, Extension } from '@peculiar/asn1-x509';
import type { EventHub } from '../events.js';
import { Lru } from '../lru.js';
import { type CrlSigner, signatureAlgorithm } from './crl.js';
import { bitString, certificateSubject, explicit, octetString, oid, sequence, tlv } from './der.js';
import type { ResponderKey } from './pki.js';
import type { CertRecord } from './types.js';
import { formatSerial } from './x509.js';

/**
 * An OCSP responder (RFC 6960) for the certificates Tethys issued, with the profile of
 * RFC 5019 where it helps a busy responder: responses signed by the CA itself (the dev
 * CA) or by a delegated OCSP signing certificate the CA issued (Vault, whose CA key is
 * not here: `VaultPki.ocspResponder`), responder named by key, and a response without a nonce kept per serial and served
 * again while it is fresh. A revocation (`cert.revoked`, from any instance) drops the
 * serial's kept response at once.
 *
 * Status: `good` for a serial Tethys recorded and did not revoke, `revoked` with the
 * recorded time, `unknown` for a serial never recorded or a CertID naming another
 * issuer (RFC 6960 §2.2: "unknown … usually because the request indicates an
 * unrecognized issuer that is not served by this responder").
 */

/** OCSPResponseStatus (RFC 6960 §4.2.1). */
export const OcspStatus = {
  successful: 0,
  malformedRequest: 1,
  internalError: 2,
  tryLater: 3,
  unauthorized: 6,
} as const;

const ID_PKIX_OCSP_BASIC = '1.3.6.1.5.5.7.48.1.1';
const ID_PKIX_OCSP_NONCE = '1.3.6.1.5.5.7.48.1.2';
/** CertID hash algorithms a request may use. */
const HASHES: Record<string, string> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};
/** Most requests a single OCSP request may carry. */
const MAX_REQUESTS = 16;

/** An OCSPResponse without responseBytes: the status alone (malformedRequest, unauthorized, …). */
export function statusOnly(status: number): Buffer {
  return sequence(tlv(0x0a, Buffer.from([status])));
}

export interface OcspSettings {
  /** thisUpdate to nextUpdate, in milliseconds. */
  validityMs: number;
  /** How many serials' responses are kept. */
  cacheSize: number;
}

/** What the responder needs of the certs domain: the record of a serial (colon hex). */
export type CertLookup = (serial: string) => Promise<CertRecord | null>;

interface Kept {
  /** CertID hash algorithm the response answers for (its CertID echoes the request's). */
  hashOid: string;
  der: Buffer;
  /** Served until then (half the validity window: a client always gets half a window or more). */
  freshUntil: number;
}

interface Issuer {
  key: ResponderKey;
  signer: CrlSigner;
  /** The delegated signing certificate, carried in every response; empty when the CA signs. */
  certs: Buffer[];
  /** The CA's name and key, as CertIDs hash them. */
  nameDer: Buffer;
  keyBits: Buffer;
  /** SHA-1 of the signing certificate's public key: the responder's byKey id. */
  keyHash: Buffer;
  signatureAlgorithm: Buffer;
  /** hash algorithm → [issuerNameHash, issuerKeyHash]. */
  hashes: Map<string, [Buffer, Buffer]>;
}

export class OcspResponder {
  private issuer: Issuer | null = null;
  private cache: Lru<string, Kept>;

  /**
   * `responderKey` (the PKI's) gives the signer, the same object while it holds; absent,
   * every request is answered `unauthorized`; while it fails, `tryLater`.
   */
  constructor(
    private responderKey: (() => Promise<ResponderKey>) | undefined,
    private lookup: CertLookup,
    private settings: OcspSettings,
    events?: EventHub,
  ) {
    this.cache = new Lru(settings.cacheSize);
    events?.on('cert.revoked', ({ serial }) => this.cache.delete(formatSerial(serial)), {
      everyInstance: true,
    });
    events?.on('caches.stale', () => this.cache.clear(), { everyInstance: true });
  }

  /** The DER OCSPResponse for a DER OCSPRequest. */
  async respond(body: Buffer): Promise<Buffer> {
    if (!this.responderKey) return statusOnly(OcspStatus.unauthorized);
    let request: OCSPRequest;
    try {
      request = AsnConvert.parse(body, OCSPRequest);
    } catch {
      return statusOnly(OcspStatus.malformedRequest);
    }
    const list = request.tbsRequest.requestList;
    if (list.length === 0 || list.length > MAX_REQUESTS) return statusOnly(OcspStatus.malformedRequest);
    const nonce = request.tbsRequest.requestExtensions?.find((e) => e.extnID === ID_PKIX_OCSP_NONCE);
    const single = list.length === 1 && !nonce;
    if (single) {
      const certId = list[0]!.reqCert;
      const kept = this.cache.get(formatSerial(hex(certId.serialNumber)));
      if (kept && kept.hashOid === certId.hashAlgorithm.algorithm && Date.now() < kept.freshUntil)
        return kept.der;
    }
    let issuer: Issuer;
    try {
      issuer = await this.currentIssuer(this.responderKey);
    } catch {
      return statusOnly(OcspStatus.tryLater);
    }
    const now = new Date(Math.floor(Date.now() / 1000) * 1000);
    const answers = await Promise.all(list.map((r) => this.single(issuer, r.reqCert, now)));
    const der = await this.sign(
      issuer,
      answers.map((a) => a.response),
      now,
      nonce,
    );
    if (single && answers[0]!.record) {
      this.cache.set(answers[0]!.serial, {
        hashOid: list[0]!.reqCert.hashAlgorithm.algorithm,
        der,
        freshUntil: now.getTime() + this.settings.validityMs / 2,
      });
    }
    return der;
  }

  /** The issuer as the responder key says it now (a new delegated certificate drops kept responses). */
  private async currentIssuer(source: () => Promise<ResponderKey>): Promise<Issuer> {
    const key = await source();
    if (this.issuer?.key !== key) {
      this.issuer = issuerOf(key);
      this.cache.clear();
    }
    return this.issuer;
  }

  private async single(
    issuer: Issuer,
    certId: SingleResponse['certID'],
    now: Date,
  ): Promise<{ response: SingleResponse; serial: string; record: CertRecord | null }> {
    const serial = formatSerial(hex(certId.serialNumber));
    const ours = matchesIssuer(issuer, certId);
    const record = ours && serial ? await this.lookup(serial) : null;
    const certStatus = !record
      ? new CertStatus({ unknown: null })
      : record.revokedAt
        ? new CertStatus({
            revoked: new RevokedInfo({
              revocationTime: new Date(Math.floor(record.revokedAt.getTime() / 1000) * 1000),
            }),
          })
        : new CertStatus({ good: null });
    const response = new SingleResponse({
      certID: certId,
      certStatus,
      thisUpdate: now,
      nextUpdate: new Date(now.getTime() + this.settings.validityMs),
    });
    return { response, serial, record };
  }

  /** OCSPResponse { successful, BasicOCSPResponse signed by the CA }, the nonce echoed. */
  private async sign(
    issuer: Issuer,
    responses: SingleResponse[],
    producedAt: Date,
    nonce: Extension | undefined,
  ): Promise<Buffer> {
    const data = new ResponseData({
      responderID: new ResponderID({ byKey: new OctetString(issuer.keyHash) }),
      producedAt,
      responses,
      ...(nonce
        ? { responseExtensions: [new Extension({ extnID: nonce.extnID, extnValue: nonce.extnValue })] }
        : {}),
    });
    const tbs = Buffer.from(AsnConvert.serialize(data));
    const signature = await issuer.signer.sign(tbs);
    const certs = issuer.certs.length > 0 ? [explicit(0, sequence(...issuer.certs))] : [];
    const basic = sequence(tbs, issuer.signatureAlgorithm, bitString(signature), ...certs);
    return sequence(
      tlv(0x0a, Buffer.from([OcspStatus.successful])),
      explicit(0, sequence(oid(ID_PKIX_OCSP_BASIC), octetString(basic))),
    );
  }
}

function matchesIssuer(issuer: Issuer, certId: SingleResponse['certID']): boolean {
  const algorithm = HASHES[certId.hashAlgorithm.algorithm];
  if (!algorithm) return false;
  let hashes = issuer.hashes.get(algorithm);
  if (!hashes) {
    hashes = [
      crypto.createHash(algorithm).update(issuer.nameDer).digest(),
      crypto.createHash(algorithm).update(issuer.keyBits).digest(),
    ];
    issuer.hashes.set(algorithm, hashes);
  }
  return (
    hashes[0].equals(Buffer.from(certId.issuerNameHash.buffer)) &&
    hashes[1].equals(Buffer.from(certId.issuerKeyHash.buffer))
  );
}

const publicKeyBits = (certDer: Buffer) =>
  Buffer.from(AsnConvert.parse(certDer, Certificate).tbsCertificate.subjectPublicKeyInfo.subjectPublicKey);

function issuerOf(key: ResponderKey): Issuer {
  const { signer } = key;
  return {
    key,
    signer,
    certs: key.delegated ? [signer.caDer] : [],
    nameDer: certificateSubject(key.issuerDer),
    keyBits: publicKeyBits(key.issuerDer),
    keyHash: crypto.createHash('sha1').update(publicKeyBits(signer.caDer)).digest(),
    signatureAlgorithm: signatureAlgorithm(signer),
    hashes: new Map(),
  };
}

/** An INTEGER's content octets as hex without leading zero bytes. */
function hex(serial: ArrayBuffer): string {
  return Buffer.from(serial).toString('hex');
}
