import type tls from 'node:tls';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { count, Param } from '../http/query.js';
import { Errors, Opt, Public } from '../http/schemas.js';
import type { RenewalService } from './renewal.js';
import { Issued, issuedView, Records, recordView, tags } from './routes.js';
import { DEFAULT_LIMIT } from './types.js';

/** Certs is a user-facing service: bad credentials are 403, every error a JSON body. */
const certs = { unauthenticated: 403 as const };

const RevokeOld = Opt(
  Type.Boolean({
    description: 'revoke the certificate renewed at once (default: it stays valid until it expires)',
  }),
);
const Valid = Opt(
  Type.String({ description: 'validity as a Go duration such as 8760h; empty: MF_CERTS_SIGN_HOURS_VALID' }),
);
const Csr = Opt(
  Type.String({ description: 'PEM PKCS#10 request: its public key is certified, no private key is made' }),
);

const RenewBody = Type.Object(
  {
    csr: Csr,
    key_type: Opt(Type.String({ description: "rsa or ec; default: the renewed certificate's" })),
    key_bits: Opt(
      Type.Integer({ description: 'RSA: 2048, 3072, 4096; EC: 256, 384; 0 or absent: the default' }),
    ),
    valid: Valid,
    revoke_old: RevokeOld,
  },
  { examples: [{ key_type: 'ec', key_bits: 256, valid: '8760h', revoke_old: true }] },
);
const DeviceRenewBody = Type.Object({ csr: Type.String(Csr.anyOf[0]), valid: Valid, revoke_old: RevokeOld });

const ExpiringQuery = Type.Object({
  expiring_within: Param.text(
    'a Go duration such as 720h: certificates expiring within it (absent: all valid ones)',
  ),
  offset: Param.uint('default 0'),
  limit: Param.uint(`default ${DEFAULT_LIMIT}, 1..100`),
});

type RenewInput = Static<typeof RenewBody>;
type DeviceRenewInput = Static<typeof DeviceRenewBody>;

/** The leaf certificate the client presented on the HTTPS listener (DER), if any. */
export function peerLeaf(request: FastifyRequest): Buffer | undefined {
  const socket = request.raw.socket as tls.TLSSocket;
  if (typeof socket.getPeerCertificate !== 'function') return undefined;
  const cert = socket.getPeerCertificate(false);
  return cert?.raw && cert.raw.length > 0 ? cert.raw : undefined;
}

/** Renewal (by the operator, by the device) and the certificates about to expire (issue 20). */
export function renewalRoutes(app: FastifyInstance, service: RenewalService): void {
  app.addHook('onClose', async () => service.close());

  app.post<{ Params: { serial: string }; Body: RenewInput }>(
    '/certs/:serial/renew',
    {
      config: { ...certs, body: 'json-optional' },
      schema: {
        tags,
        summary:
          "Renew one of the caller's certificates, named by serial (cert_serial): a new one for the same thing (201, as POST /certs)",
        params: Type.Object({ serial: Type.String({ description: 'cert_serial, any hex form' }) }),
        body: RenewBody,
        response: { 201: Issued, ...Errors },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const issued = await service.renew(request.headers.authorization, request.params.serial, {
        csr: b.csr ?? undefined,
        keyType: b.key_type ?? undefined,
        keyBits: b.key_bits || undefined,
        valid: b.valid ?? undefined,
        revokeOld: b.revoke_old === true,
      });
      reply.code(201).send(issuedView(issued));
    },
  );

  app.post<{ Body: DeviceRenewInput }>(
    '/certs/renew',
    {
      config: { ...certs, unauthenticated: 401, body: 'json' },
      schema: {
        tags,
        summary:
          'A device renews its own certificate (HTTPS listener; it authenticates with its current client certificate, issued here, valid, not revoked)',
        body: DeviceRenewBody,
        response: { 201: Issued, ...Errors },
        ...Public,
      },
    },
    async (request, reply) => {
      const b = request.body;
      const issued = await service.renewByDevice(peerLeaf(request), {
        csr: b.csr,
        valid: b.valid ?? undefined,
        revokeOld: b.revoke_old === true,
      });
      reply.code(201).send(issuedView(issued));
    },
  );

  app.get<{ Querystring: Static<typeof ExpiringQuery> }>(
    '/certs',
    {
      config: certs,
      schema: {
        tags,
        summary:
          "Valid certificates expiring within a window, soonest first: the caller's (the admin: everyone's)",
        querystring: ExpiringQuery,
        response: { 200: Records, ...Errors },
      },
    },
    async (request) => {
      const page = await service.expiring(
        request.headers.authorization,
        request.query.expiring_within ?? '',
        count(request.query.offset, 0),
        count(request.query.limit, DEFAULT_LIMIT),
      );
      return { total: page.total, offset: page.offset, limit: page.limit, certs: page.certs.map(recordView) };
    },
  );
}
