import crypto from 'node:crypto';
import {
  BasicOCSPResponse,
  CertID,
  OCSPRequest,
  OCSPResponse,
  Request,
  TBSRequest,
} from '@peculiar/asn1-ocsp';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate } from '@peculiar/asn1-x509';
import { deviceCsr } from './enrollment.js';
import type { Scenario } from './types.js';

/** Certificates the ocsp scenario asks about, each of one seeded thing. */
const OCSP_CERTS = 200;
const SHA1 = '1.3.14.3.2.26';

const der = (pem: string) => Buffer.from(pem.replace(/-----[^-]+-----|\s+/g, ''), 'base64');

/** An RFC 5019 request (SHA-1 CertID, no nonce) for one certificate of `ca`. */
function ocspRequest(ca: Certificate, certPem: string): Buffer {
  const cert = AsnConvert.parse(der(certPem), Certificate);
  const sha1 = (data: ArrayBuffer) => crypto.createHash('sha1').update(Buffer.from(data)).digest();
  const certId = new CertID({
    hashAlgorithm: new AlgorithmIdentifier({ algorithm: SHA1, parameters: null }),
    issuerNameHash: new OctetString(sha1(AsnConvert.serialize(ca.tbsCertificate.subject))),
    issuerKeyHash: new OctetString(sha1(ca.tbsCertificate.subjectPublicKeyInfo.subjectPublicKey)),
    serialNumber: cert.tbsCertificate.serialNumber,
  });
  const request = new OCSPRequest({
    tbsRequest: new TBSRequest({ requestList: [new Request({ reqCert: certId })] }),
  });
  return Buffer.from(AsnConvert.serialize(request));
}

/** "good", "revoked", "unknown", or the OCSPResponseStatus when it is not successful. */
function statusOf(response: Buffer): string {
  const outer = AsnConvert.parse(response, OCSPResponse);
  if (!outer.responseBytes) return `responseStatus ${outer.responseStatus}`;
  const basic = AsnConvert.parse(outer.responseBytes.response.buffer, BasicOCSPResponse);
  const status = basic.tbsResponseData.responses[0]!.certStatus;
  return status.good !== undefined ? 'good' : status.revoked ? 'revoked' : 'unknown';
}

/**
 * OCSP: the GET form (RFC 6960 A.1), one of 200 certificates of seeded things a request,
 * no nonce: after the first request for each, the responder serves its kept response.
 */
export const ocsp: Scenario = {
  id: 'ocsp',
  title: `GET /certs/ocsp/{base64 request}, RFC 5019 (no nonce), one of ${OCSP_CERTS} certificates`,
  stage: 'full',
  connections: 32,
  unit: 'req/s',
  target: { minThroughput: 2000 },
  async prepare(ctx) {
    const things = ctx.kept.all().slice(0, OCSP_CERTS);
    const issued: { cert: string; ca: string }[] = [];
    for (const thing of things) {
      const answer = await ctx.api.call('POST', '/certs', {
        token: ctx.main.token,
        body: { thing_id: thing.id, key_type: 'ec' },
        expect: 201,
      });
      issued.push({ cert: answer.cert, ca: answer.ca_cert });
    }
    const ca = AsnConvert.parse(der(issued[0]!.ca), Certificate);
    const paths = issued.map(
      (i) => `/certs/ocsp/${encodeURIComponent(ocspRequest(ca, i.cert).toString('base64'))}`,
    );
    const res = await fetch(`${ctx.api.url}${paths[0]}`);
    const body = Buffer.from(await res.arrayBuffer());
    if (res.status !== 200 || res.headers.get('content-type') !== 'application/ocsp-response')
      throw new Error(
        `ocsp: expected 200 application/ocsp-response, got ${res.status} ${res.headers.get('content-type')}`,
      );
    const status = statusOf(body);
    if (status !== 'good') throw new Error(`ocsp: expected a good status, got ${status}`);
    let next = 0;
    return {
      method: 'GET',
      path: paths[0]!,
      okStatus: 200,
      setupRequest: (req) => ({ ...req, path: paths[next++ % paths.length]! }),
    };
  },
};

/**
 * Renewal by the operator with a CSR: POST /certs/{serial}/renew of one of 100
 * certificates of seeded things in turn (the old one stays valid), one CSR for every
 * request (made once in the harness; the server signs for its key).
 */
export const renew: Scenario = {
  id: 'renew',
  title: 'POST /certs/{serial}/renew with a CSR (EC P-256), one of 100 certificates in turn',
  stage: 'full',
  connections: 16,
  unit: 'req/s',
  target: { minThroughput: 200 },
  async prepare(ctx) {
    const serials: string[] = [];
    for (const thing of ctx.kept.all().slice(0, 100)) {
      const answer = await ctx.api.call('POST', '/certs', {
        token: ctx.main.token,
        body: { thing_id: thing.id, key_type: 'ec' },
        expect: 201,
      });
      serials.push(answer.cert_serial);
    }
    const body = JSON.stringify({ csr: (await deviceCsr()).pem });
    const path = (n: number) => `/certs/${serials[n % serials.length]}/renew`;
    const check = await ctx.api.call('POST', path(0), {
      token: ctx.main.token,
      body: JSON.parse(body),
      expect: 201,
    });
    if (!check.cert || check.cert_key) throw new Error('renew: expected a certificate and no private key');
    let next = 0;
    return {
      method: 'POST',
      path: path(0),
      headers: { 'content-type': 'application/json', authorization: ctx.main.token },
      body,
      okStatus: 201,
      setupRequest: (req) => ({ ...req, path: path(next++) }),
    };
  },
};

export const certsScenarios: Scenario[] = [ocsp, renew];
