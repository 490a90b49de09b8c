import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { unsupportedContentType } from '../errors.js';
import { Errors } from '../http/schemas.js';
import type { OcspResponder } from './ocsp.js';

const tags = ['certs'];
const OCSP_REQUEST = 'application/ocsp-request';
const OCSP_RESPONSE = 'application/ocsp-response';

/** Every answer is an OCSPResponse, 200 even for a malformed request (RFC 6960 §2.3, RFC 5019 §2.2.3). */
const Answered = {
  200: {
    description:
      'A DER OCSPResponse: successful (a BasicOCSPResponse signed by the CA, each certificate good, revoked or unknown), malformedRequest, or tryLater (Vault has not certified the responder key yet)',
    content: { [OCSP_RESPONSE]: { schema: { type: 'string', format: 'binary', description: 'DER' } } },
  },
};

/**
 * The OCSP responder (RFC 6960 Appendix A): a DER request POSTed, or its base64 in the
 * path (URL-encoded) by GET. No credentials: relying parties ask, as they fetch the CRL.
 */
export function ocspRoutes(app: FastifyInstance, responder: OcspResponder): void {
  app.post(
    '/certs/ocsp',
    {
      config: { body: 'raw' },
      // The body is bytes (checked by the responder); the schema only describes it.
      validatorCompiler: () => () => true,
      schema: {
        tags,
        summary: 'OCSP (RFC 6960): the status of certificates Tethys issued, for a DER request',
        body: {
          content: { [OCSP_REQUEST]: { schema: { type: 'string', format: 'binary', description: 'DER' } } },
        },
        response: { ...Answered, ...Errors },
      },
    },
    async (request, reply) => {
      const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== OCSP_REQUEST) throw unsupportedContentType();
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      reply
        .code(200)
        .type(OCSP_RESPONSE)
        .send(await responder.respond(body));
    },
  );

  app.get<{ Params: { request: string } }>(
    '/certs/ocsp/:request',
    {
      schema: {
        tags,
        summary: 'OCSP (RFC 6960 A.1): the request as URL-encoded base64 DER in the path',
        params: Type.Object({ request: Type.String({ description: 'base64 DER OCSPRequest, URL-encoded' }) }),
        response: { ...Answered, ...Errors },
      },
    },
    async (request, reply) => {
      const der = Buffer.from(request.params.request, 'base64');
      reply
        .code(200)
        .type(OCSP_RESPONSE)
        .send(await responder.respond(der));
    },
  );
}
