import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { count, Param } from '../http/query.js';
import { Answer, Errors, Opt } from '../http/schemas.js';
import type { CertsService } from './service.js';
import { type CertRecord, DEFAULT_LIMIT, type IssuedCert } from './types.js';

/** Certs is a user-facing service: bad credentials are 403, every error a JSON body. */
const certs = { unauthenticated: 403 as const };

/**
 * The issued certificate under all three names clients know (CONFIG.md §7.1): 0.12.1's,
 * the 0.12.1 SDK's, and the seed document's Go field names. No key fields for a CSR.
 */
export function issuedView(c: IssuedCert) {
  const expire = c.expiresAt.toISOString();
  const withKey = c.key !== '';
  return {
    thing_id: c.thingId,
    cert: c.cert,
    ...(withKey ? { cert_key: c.key } : {}),
    cert_serial: c.serial,
    ca_cert: c.caCert,
    expire,
    client_cert: c.cert,
    ...(withKey ? { client_key: c.key } : {}),
    issuing_ca: c.caCert,
    ThingID: c.thingId,
    ClientCert: c.cert,
    IssuingCA: c.caCert,
    CAChain: c.caChain,
    ...(withKey ? { ClientKey: c.key, PrivateKeyType: c.keyType ?? c.keyType } : {}),
    Serial: c.serial,
    Expire: expire,
  };
}

export const recordView = (r: CertRecord) => ({
  thing_id: r.thingId,
  cert_serial: r.serial,
  key_type: r.keyType,
  expire: r.expiresAt.toISOString(),
  ...(r.revokedAt ? { revoked: true, revocation_time: r.revokedAt.toISOString() } : {}),
});

const IssueBody = Type.Object(
  {
    thing_id: Opt(Type.String()),
    key_bits: Opt(
      Type.Integer({ description: 'RSA: 2048, 3072, 4096; EC: 256, 384; 0 or absent: the default' }),
    ),
    rsa_bits: Opt(Type.Integer({ description: 'the seed document name of key_bits' })),
    key_type: Opt(Type.String({ description: 'rsa (default) or ec' })),
    valid: Opt(
      Type.String({
        description: 'validity as a Go duration such as 8760h; empty: MF_CERTS_SIGN_HOURS_VALID',
      }),
    ),
    csr: Opt(
      Type.String({
        description: 'PEM PKCS#10 request: its public key is certified, no private key is made',
      }),
    ),
  },
  {
    examples: [
      { thing_id: '5b68df78-86f7-4c2b-8a5e-2e1bde5e4b6b', key_type: 'ec', key_bits: 256, valid: '8760h' },
    ],
  },
);

const ThingParam = Type.Object({ thingId: Type.String() });

// ---- answers (issuedView and recordView make them) --------------------------------
const S = Type.String;
export const Issued = Answer(
  "The certificate, under 0.12.1's, its SDK's and the seed document's names (no key fields for a CSR)",
  {
    thing_id: S(),
    cert: S(),
    cert_key: Type.Optional(S()),
    cert_serial: S(),
    ca_cert: S(),
    expire: S({ description: 'RFC 3339' }),
    client_cert: S(),
    client_key: Type.Optional(S()),
    issuing_ca: S(),
    ThingID: S(),
    ClientCert: S(),
    IssuingCA: S(),
    CAChain: Type.Array(S()),
    ClientKey: Type.Optional(S()),
    PrivateKeyType: Type.Optional(S()),
    Serial: S(),
    Expire: S(),
  },
);
export const Records = Answer("A page of the thing's certificate records", {
  total: Type.Integer(),
  offset: Type.Integer(),
  limit: Type.Integer(),
  certs: Type.Array(
    Type.Object(
      {
        thing_id: S(),
        cert_serial: S(),
        key_type: S(),
        expire: S(),
        revoked: Type.Optional(Type.Boolean()),
        revocation_time: Type.Optional(S()),
      },
      { additionalProperties: false },
    ),
  ),
});
const Revoked = Answer('When the certificates were revoked', {
  RevocationTime: S({ description: 'RFC 3339' }),
});

type IssueInput = {
  thing_id?: string | null;
  key_bits?: number | null;
  rsa_bits?: number | null;
  key_type?: string | null;
  valid?: string | null;
  csr?: string | null;
};

/** ?format= says it; else Accept: application/pkix-crl asks for DER; else PEM. */
function crlFormat(format: 'pem' | 'der' | undefined, accept: string | undefined): 'pem' | 'der' {
  return format ?? (accept?.includes('application/pkix-crl') ? 'der' : 'pem');
}

const CrlQuery = Type.Object({
  format: Param.oneOf(['pem', 'der'], 'pem (default) or der', 'format must be pem or der'),
});
const ListQuery = Type.Object({
  offset: Param.uint('default 0'),
  limit: Param.uint(`default ${DEFAULT_LIMIT}, 1..100`),
});

export const tags = ['certs'];

/** Certificates of things (API.md §6): issue, the CRL, a thing's records, revocation. */
export function certsRoutes(app: FastifyInstance, service: CertsService): void {
  app.addHook('onClose', async () => service.close());
  issueRoute(app, service);
  crlRoute(app, service);
  recordsRoute(app, service);
  revokeRoutes(app, service);
}

/** Issue a certificate (and its key, unless a CSR is given). */
function issueRoute(app: FastifyInstance, service: CertsService): void {
  app.post<{ Body: IssueInput }>(
    '/certs',
    {
      config: { ...certs, body: 'json-exact' },
      schema: {
        tags,
        summary: "Issue a certificate for one of the caller's things",
        body: IssueBody,
        response: { 201: Issued, ...Errors },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const issued = await service.issue(request.headers.authorization, {
        thingId: b.thing_id ?? undefined,
        keyType: b.key_type ?? undefined,
        keyBits: b.key_bits || b.rsa_bits || undefined,
        valid: b.valid ?? undefined,
        csr: b.csr ?? undefined,
      });
      reply.code(201).send(issuedView(issued));
    },
  );
}

/** The revocation list, PEM or DER. */
function crlRoute(app: FastifyInstance, service: CertsService): void {
  app.get<{ Querystring: Static<typeof CrlQuery> }>(
    '/certs/crl',
    {
      config: certs,
      schema: {
        tags,
        summary:
          'The certificate revocation list (PEM; DER with Accept: application/pkix-crl or ?format=der)',
        querystring: CrlQuery,
        response: {
          200: {
            description: 'The CRL',
            content: {
              'application/x-pem-file': { schema: { type: 'string', description: 'PEM' } },
              'application/pkix-crl': { schema: { type: 'string', format: 'binary', description: 'DER' } },
            },
          },
          ...Errors,
        },
      },
    },
    async (request, reply) => {
      const format = crlFormat(request.query.format, request.headers.accept);
      const crl = await service.crl(format);
      reply
        .code(200)
        .type(format === 'der' ? 'application/pkix-crl' : 'application/x-pem-file')
        .send(crl);
    },
  );
}

/** A thing's certificate records, a page at a time. */
function recordsRoute(app: FastifyInstance, service: CertsService): void {
  app.get<{ Params: { thingId: string }; Querystring: Static<typeof ListQuery> }>(
    '/certs/:thingId',
    {
      config: certs,
      schema: {
        tags,
        summary: "A thing's certificate records (201, as 0.12.1 answers)",
        params: ThingParam,
        querystring: ListQuery,
        response: { 201: Records, ...Errors },
      },
    },
    async (request, reply) => {
      const page = await service.list(
        request.headers.authorization,
        request.params.thingId,
        count(request.query.offset, 0),
        count(request.query.limit, DEFAULT_LIMIT),
      );
      reply.code(201).send({
        total: page.total,
        offset: page.offset,
        limit: page.limit,
        certs: page.certs.map(recordView),
      });
    },
  );
}

/** Revoke a thing's certificates, named in the body (the seed document) or the path. */
function revokeRoutes(app: FastifyInstance, service: CertsService): void {
  const revoke = async (token: string | undefined, thingId: string) => ({
    RevocationTime: (await service.revokeThing(token, thingId)).toISOString(),
  });

  app.delete<{ Body: { thing_id?: string | null } }>(
    '/certs/revoke',
    {
      config: { ...certs, body: 'json' },
      schema: {
        tags,
        summary: "Revoke a thing's certificates (the seed document's form)",
        body: Type.Object({ thing_id: Opt(Type.String()) }),
        response: { 200: Revoked, ...Errors },
      },
    },
    async (request) => revoke(request.headers.authorization, request.body.thing_id ?? ''),
  );

  app.delete<{ Params: { thingId: string } }>(
    '/certs/:thingId',
    {
      config: certs,
      schema: {
        tags,
        summary: "Revoke a thing's certificates",
        params: ThingParam,
        response: { 200: Revoked, ...Errors },
      },
    },
    async (request) => revoke(request.headers.authorization, request.params.thingId),
  );
}
