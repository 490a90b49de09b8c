import crypto from 'node:crypto';
import type tls from 'node:tls';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ConfigChannel, DeviceConfig } from '../bootstrap/routes.js';
import type { IssuedCert } from '../certs/types.js';
import { count, Param } from '../http/query.js';
import { Answer, DeviceKey, Errors, Metadata, NoBody, Opt, PageAnswer } from '../http/schemas.js';
import { empty } from '../http/server.js';
import type { EnrollmentsService, Registered } from './service.js';
import type { Enrollment, Registration } from './types.js';

/** Operators: a user's token or API key (bad credentials 401, as /mapping). */
const operator = { unauthenticated: 401 as const };
const tags = ['enrollments'];
const IdParam = Type.Object({ id: Type.String() });
const PageQuery = Type.Object({
  offset: Param.uint('default 0'),
  limit: Param.uint('default 10, 1..100'),
});
type PageQuery = Static<typeof PageQuery>;

export function enrollmentView(e: Enrollment) {
  return {
    id: e.id,
    name: e.name,
    attestation: e.attestation,
    ...(e.groupKey ? { group_key: e.groupKey } : {}),
    ...(e.caCert ? { ca_cert: e.caCert } : {}),
    layout: e.layout,
    parameters: e.parameters,
    registration_id_pattern: e.registrationIdPattern,
    max_devices: e.maxDevices,
    ...(e.certificate
      ? {
          certificate: {
            key_type: e.certificate.keyType,
            key_bits: e.certificate.keyBits,
            valid: e.certificate.valid,
          },
        }
      : {}),
    enabled: e.enabled,
    registered: e.registered,
    created_at: e.createdAt,
    updated_at: e.updatedAt,
  };
}

const CertificateSetting = Type.Object(
  { key_type: Type.String(), key_bits: Type.Integer(), valid: Type.String() },
  { additionalProperties: false },
);
const EnrollmentView = Answer('An enrollment group (group_key: symmetric_key groups, shown to the owner)', {
  id: Type.String(),
  name: Type.String(),
  attestation: Type.String({ enum: ['symmetric_key', 'x509'] }),
  group_key: Type.Optional(Type.String({ description: '32 random bytes, base64' })),
  ca_cert: Type.Optional(Type.String({ description: 'x509: the CA device certificates chain to (PEM)' })),
  layout: Type.String(),
  parameters: Metadata,
  registration_id_pattern: Type.String({ description: "'' lets every registration id in" }),
  max_devices: Type.Union([Type.Integer(), Type.Null()], { description: 'null: no limit' }),
  certificate: Type.Optional(CertificateSetting),
  enabled: Type.Boolean(),
  registered: Type.Integer({ description: 'devices registered now' }),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});
const EnrollmentsPage = PageAnswer('A page of enrollment groups', 'enrollments', EnrollmentView);
const RegistrationView = Answer('A registered device', {
  registration_id: Type.String(),
  thing_id: Type.String(),
  first_enrolled: Type.String({ format: 'date-time' }),
  last_enrolled: Type.String({ format: 'date-time' }),
  count: Type.Integer({ description: 'registrations so far' }),
});
const RegistrationsPage = PageAnswer("A page of a group's devices", 'registrations', RegistrationView);
const DeviceCertificate = Answer('The certificate made for the device', {
  client_cert: Type.String({ description: 'PEM' }),
  client_key: Type.Optional(Type.String({ description: 'PEM; only when the server made the key (no CSR)' })),
  issuing_ca: Type.String({ description: 'PEM' }),
  serial: Type.String(),
  expire: Type.String({ format: 'date-time' }),
});
const RegisteredView = Answer('What a device gets: its thing, channels, bootstrap config and certificate', {
  registration_id: Type.String(),
  thing_id: Type.String(),
  thing_key: Type.String(),
  channels: Type.Array(ConfigChannel),
  bootstrap: DeviceConfig,
  certificate: Type.Optional(DeviceCertificate),
});

const CertificateBody = Type.Object({
  key_type: Opt(Type.String({ description: 'rsa (default) or ec' })),
  key_bits: Opt(Type.Integer({ description: 'RSA: 2048 (default), 3072, 4096; EC: 256 (default), 384' })),
  valid: Opt(Type.String({ description: 'a Go duration; default 8760h' })),
});
const NewEnrollmentBody = Type.Object(
  {
    name: Type.String(),
    attestation: Type.String({ enum: ['symmetric_key', 'x509'] }),
    ca_cert: Opt(Type.String()),
    layout: Opt(Type.String({ description: 'a layout of the owner, or default (the default)' })),
    parameters: Opt(Metadata),
    registration_id_pattern: Opt(Type.String()),
    max_devices: Opt(Type.Integer()),
    certificate: Opt(CertificateBody),
    enabled: Opt(Type.Boolean()),
  },
  {
    examples: [
      {
        name: 'line-3',
        attestation: 'symmetric_key',
        layout: 'sensor-v2',
        parameters: { site: 'plant-a' },
        registration_id_pattern: '^SN[0-9]{8}$',
        max_devices: 10000,
        certificate: { key_type: 'ec', key_bits: 256, valid: '8760h' },
      },
    ],
  },
);
const ChangeBody = Type.Object(
  {
    enabled: Opt(Type.Boolean()),
    max_devices: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
    parameters: Opt(Metadata),
    registration_id_pattern: Opt(Type.String()),
  },
  { additionalProperties: false },
);
const RegisterBody = Type.Object(
  {
    registration_id: Type.String(),
    csr: Opt(Type.String({ description: 'PEM PKCS#10: the certificate is made for its key' })),
    parameters: Opt(Metadata),
  },
  { examples: [{ registration_id: 'SN00000042', csr: '-----BEGIN CERTIFICATE REQUEST-----…' }] },
);

function registrationView(r: Registration) {
  return {
    registration_id: r.registrationId,
    thing_id: r.thingId,
    first_enrolled: r.firstEnrolled,
    last_enrolled: r.lastEnrolled,
    count: r.count,
  };
}

function certificateView(c: IssuedCert) {
  return {
    client_cert: c.cert,
    ...(c.key ? { client_key: c.key } : {}),
    issuing_ca: c.caCert,
    serial: c.serial,
    expire: c.expiresAt.toISOString(),
  };
}

function registeredView(r: Registered) {
  const bootstrap = r.bootstrap as { mainflux_key: string; mainflux_channels: unknown[] | null };
  return {
    registration_id: r.registrationId,
    thing_id: r.thingId,
    thing_key: bootstrap.mainflux_key,
    channels: bootstrap.mainflux_channels ?? [],
    bootstrap: r.bootstrap,
    ...(r.certificate ? { certificate: certificateView(r.certificate) } : {}),
  };
}

/** The client's certificate chain on the HTTPS listener (DER, the leaf first), or none. */
function peerChain(request: FastifyRequest): Buffer[] {
  const socket = request.raw.socket as tls.TLSSocket;
  if (typeof socket.getPeerCertificate !== 'function') return [];
  const chain: Buffer[] = [];
  let cert = socket.getPeerCertificate(true) as tls.DetailedPeerCertificate | undefined;
  while (cert?.raw && chain.length < 8) {
    chain.push(cert.raw);
    if (!cert.issuerCertificate || cert.issuerCertificate === cert) break;
    cert = cert.issuerCertificate;
  }
  return chain;
}

/** Who a device is before it is checked: its group and a digest of its credential (key or certificate). */
function deviceScope(request: FastifyRequest): string {
  const credential = request.headers.authorization ?? peerChain(request)[0]?.toString('base64') ?? '';
  const digest = crypto.createHash('sha256').update(credential).digest('base64url');
  return `device:${(request.params as { id: string }).id}:${digest}`;
}

/** Enrollment groups (the operator's) and a device's registration (the device's own credential). */
export function enrollmentsRoutes(app: FastifyInstance, service: EnrollmentsService): void {
  groupRoutes(app, service);
  groupKeyRoutes(app, service);
  registerRoute(app, service);
}

type NewEnrollmentInput = Static<typeof NewEnrollmentBody>;

function groupRoutes(app: FastifyInstance, service: EnrollmentsService): void {
  app.post<{ Body: NewEnrollmentInput }>(
    '/enrollments',
    {
      config: { ...operator, body: 'json' },
      schema: {
        tags,
        summary: 'Create an enrollment group',
        body: NewEnrollmentBody,
        response: { 201: EnrollmentView, ...Errors },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const group = await service.create(request.headers.authorization, {
        name: b.name,
        attestation: b.attestation,
        caCert: b.ca_cert ?? undefined,
        layout: b.layout ?? undefined,
        parameters: b.parameters ?? undefined,
        registrationIdPattern: b.registration_id_pattern ?? undefined,
        maxDevices: b.max_devices ?? null,
        certificate: b.certificate
          ? {
              keyType: b.certificate.key_type ?? undefined,
              keyBits: b.certificate.key_bits ?? undefined,
              valid: b.certificate.valid ?? undefined,
            }
          : null,
        enabled: b.enabled ?? undefined,
      });
      reply.code(201).header('Location', `/enrollments/${group.id}`).send(enrollmentView(group));
    },
  );

  app.get<{ Querystring: PageQuery }>(
    '/enrollments',
    {
      config: operator,
      schema: {
        tags,
        summary: "The caller's enrollment groups",
        querystring: PageQuery,
        response: { 200: EnrollmentsPage, ...Errors },
      },
    },
    async (request) => {
      const page = await service.list(
        request.headers.authorization,
        count(request.query.offset, 0),
        count(request.query.limit, 10),
      );
      return {
        total: page.total,
        offset: page.offset,
        limit: page.limit,
        enrollments: page.items.map(enrollmentView),
      };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/enrollments/:id',
    {
      config: operator,
      schema: {
        tags,
        summary: 'An enrollment group',
        params: IdParam,
        response: { 200: EnrollmentView, ...Errors },
      },
    },
    async (request) => enrollmentView(await service.view(request.headers.authorization, request.params.id)),
  );

  app.patch<{ Params: { id: string }; Body: Static<typeof ChangeBody> }>(
    '/enrollments/:id',
    {
      config: { ...operator, body: 'json' },
      schema: {
        tags,
        summary: 'Change enabled, max_devices, parameters or registration_id_pattern',
        params: IdParam,
        body: ChangeBody,
        response: { 200: EnrollmentView, ...Errors },
      },
    },
    async (request) => {
      const b = request.body;
      const group = await service.update(request.headers.authorization, request.params.id, {
        enabled: b.enabled ?? undefined,
        maxDevices: b.max_devices,
        parameters: b.parameters ?? undefined,
        registrationIdPattern: b.registration_id_pattern ?? undefined,
      });
      return enrollmentView(group);
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/enrollments/:id',
    {
      config: operator,
      schema: {
        tags,
        summary: 'Remove an enrollment group (its devices stay as they are)',
        params: IdParam,
        response: { 204: NoBody('Removed'), ...Errors },
      },
    },
    async (request, reply) => {
      await service.remove(request.headers.authorization, request.params.id);
      empty(reply, 204);
    },
  );
}

function groupKeyRoutes(app: FastifyInstance, service: EnrollmentsService): void {
  app.post<{ Params: { id: string } }>(
    '/enrollments/:id/rotate-key',
    {
      config: operator,
      schema: {
        tags,
        summary: 'A new group key; the old one stops working at once',
        params: IdParam,
        response: { 200: Answer('The new key', { group_key: Type.String() }), ...Errors },
      },
    },
    async (request) => ({
      group_key: await service.rotateKey(request.headers.authorization, request.params.id),
    }),
  );

  app.get<{ Params: { id: string }; Querystring: PageQuery }>(
    '/enrollments/:id/registrations',
    {
      config: operator,
      schema: {
        tags,
        summary: "A group's registered devices",
        params: IdParam,
        querystring: PageQuery,
        response: { 200: RegistrationsPage, ...Errors },
      },
    },
    async (request) => {
      const page = await service.registrations(
        request.headers.authorization,
        request.params.id,
        count(request.query.offset, 0),
        count(request.query.limit, 10),
      );
      return {
        total: page.total,
        offset: page.offset,
        limit: page.limit,
        registrations: page.items.map(registrationView),
      };
    },
  );
}

function registerRoute(app: FastifyInstance, service: EnrollmentsService): void {
  app.post<{ Params: { id: string }; Body: Static<typeof RegisterBody> }>(
    '/enrollments/:id/register',
    {
      config: {
        unauthenticated: 401,
        body: 'json',
        // Keys are the device's: scoped by the group and the credential it presents.
        idempotent: { scope: async (request) => deviceScope(request) },
      },
      schema: {
        tags: ['enrollments (device)'],
        summary:
          "A device registers itself: Authorization: SharedKey <base64(HMAC-SHA256(group key, registration_id))>, or a client certificate from the group's CA on the HTTPS listener",
        params: IdParam,
        body: RegisterBody,
        response: {
          200: { ...RegisteredView, description: 'Registered before: the same thing' },
          201: { ...RegisteredView, description: 'Registered now: a new thing' },
          ...Errors,
        },
        ...DeviceKey,
      },
    },
    async (request, reply) => {
      const b = request.body;
      const registered = await service.register(
        request.params.id,
        { registrationId: b.registration_id, csr: b.csr ?? undefined, parameters: b.parameters ?? undefined },
        { authorization: request.headers.authorization, chain: peerChain(request), source: request.ip },
      );
      reply.code(registered.created ? 201 : 200).send(registeredView(registered));
    },
  );
}
