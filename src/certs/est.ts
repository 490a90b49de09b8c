import type { FastifyInstance, FastifyReply } from 'fastify';
import { notConfigured } from '../errors.js';
import { Errors, Public } from '../http/schemas.js';
import type { RenewalService } from './renewal.js';
import { peerLeaf } from './renewal-routes.js';
import { tags } from './routes.js';
import type { CertsService } from './service.js';
import { x509 } from './x509.js';

/** RFC 7030 §4.1.3 / §4.2.3: a base64 PKCS#7 certs-only answer. */
const PKCS7 = 'application/pkcs7-mime; smime-type=certs-only';

const Pkcs7Answer = (description: string) => ({
  description,
  content: {
    'application/pkcs7-mime': { schema: { type: 'string', description: 'base64 DER PKCS#7 (certs-only)' } },
  },
});

/** Certificates as EST sends them: base64 DER of a degenerate PKCS#7 SignedData, in lines of 64. */
function certsOnly(pems: string[]): string {
  const bundle = new x509.X509Certificates(pems.map((pem) => new x509.X509Certificate(pem)));
  const b64 = bundle.export('base64');
  return `${b64.match(/.{1,64}/g)?.join('\r\n') ?? ''}\r\n`;
}

function sendCertsOnly(reply: FastifyReply, pems: string[]): void {
  reply.code(200).header('content-transfer-encoding', 'base64').type(PKCS7).send(certsOnly(pems));
}

/** The PKCS#10 request of an EST body (base64 DER, line breaks allowed), as PEM; '' when it is not base64. */
function csrPem(body: unknown): string {
  const text = Buffer.isBuffer(body) ? body.toString('latin1') : '';
  const b64 = text.replace(/\s+/g, '');
  if (!b64 || !/^[A-Za-z0-9+/]+=*$/.test(b64)) return '';
  const lines =
    Buffer.from(b64, 'base64')
      .toString('base64')
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE REQUEST-----\n${lines.join('\n')}\n-----END CERTIFICATE REQUEST-----\n`;
}

/**
 * EST (RFC 7030), the parts a device in the field needs: the CA certificates, and
 * re-enrollment authenticated by its current client certificate (as POST /certs/renew).
 */
export function estRoutes(app: FastifyInstance, certs: CertsService, renewal: RenewalService): void {
  app.get(
    '/.well-known/est/cacerts',
    {
      schema: {
        tags,
        summary: 'EST: the CA certificates (RFC 7030 §4.1; base64 PKCS#7 certs-only)',
        response: { 200: Pkcs7Answer('The issuing CA'), ...Errors },
        ...Public,
      },
    },
    async (_request, reply) => {
      const ca = await certs.issuerPem();
      if (!ca) throw notConfigured('the CA certificate is not known here');
      sendCertsOnly(reply, [ca]);
    },
  );

  app.post(
    '/.well-known/est/simplereenroll',
    {
      config: { unauthenticated: 401, body: 'raw' },
      schema: {
        tags,
        summary:
          'EST: re-enrollment (RFC 7030 §4.2.2): a base64 DER PKCS#10 request in (application/pkcs10), the new certificate out (base64 PKCS#7); authenticated by the current client certificate (HTTPS listener)',
        response: { 200: Pkcs7Answer('The new certificate'), ...Errors },
        ...Public,
      },
    },
    async (request, reply) => {
      const issued = await renewal.renewByDevice(peerLeaf(request), { csr: csrPem(request.body) });
      sendCertsOnly(reply, [issued.cert]);
    },
  );
}
