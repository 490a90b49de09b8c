import type { FastifySchema } from 'fastify';
import { IdempotencyKeyHeader } from './schemas.js';

/**
 * The name of every operation in the OpenAPI description (`operationId`): what a client
 * generated from it calls the method. One table, so names stay consistent; a route
 * missing here stops the start (describeRoute, below), so none goes unnamed.
 */
export const OPERATION_IDS: Record<string, string> = {
  // messages (the /http prefix is how Mainflux's gateway exposes the adapter)
  'POST /http/channels/{chanId}/messages': 'publishMessage',
  'POST /http/channels/{chanId}/messages/{subtopic}': 'publishMessageToSubtopic',
  'POST /channels/{chanId}/messages': 'publishMessageUnprefixed',
  'POST /channels/{chanId}/messages/{subtopic}': 'publishMessageToSubtopicUnprefixed',
  // bootstrap
  'POST /things/configs': 'createConfig',
  'GET /things/configs': 'listConfigs',
  'GET /things/configs/{id}': 'getConfig',
  'PUT /things/configs/{id}': 'updateConfig',
  'DELETE /things/configs/{id}': 'removeConfig',
  'PATCH /things/configs/certs/{id}': 'updateConfigCerts',
  'PUT /things/configs/connections/{id}': 'updateConfigChannels',
  'PUT /things/state/{id}': 'changeConfigState',
  'GET /things/bootstrap/{externalId}': 'fetchBootstrapConfig',
  'GET /things/bootstrap/secure/{externalId}': 'fetchBootstrapConfigSecure',
  'GET /things/bootstrap/sealed/{externalId}': 'fetchBootstrapConfigSealed',
  // provision
  'POST /mapping': 'provisionGateway',
  'GET /mapping': 'getProvisionContent',
  // named layouts
  'POST /layouts': 'createLayout',
  'GET /layouts': 'listLayouts',
  'GET /layouts/{name}': 'getLayout',
  'PUT /layouts/{name}': 'updateLayout',
  'DELETE /layouts/{name}': 'removeLayout',
  // users
  'POST /users': 'registerUser',
  'GET /users': 'listUsers',
  'PUT /users': 'updateUser',
  'POST /tokens': 'login',
  'GET /users/profile': 'getProfile',
  'GET /users/{userId}': 'getUser',
  'PATCH /password': 'changePassword',
  'POST /password/reset-request': 'requestPasswordReset',
  'PUT /password/reset': 'resetPassword',
  // API keys
  'POST /keys': 'issueKey',
  'GET /keys/{keyId}': 'getKey',
  'DELETE /keys/{keyId}': 'revokeKey',
  // groups
  'POST /groups': 'createGroup',
  'GET /groups': 'listGroups',
  'GET /groups/{id}': 'getGroup',
  'PUT /groups/{id}': 'updateGroup',
  'DELETE /groups/{id}': 'removeGroup',
  'GET /groups/{id}/children': 'listGroupChildren',
  'GET /groups/{id}/parents': 'listGroupParents',
  'POST /groups/{id}/members': 'assignGroupMembers',
  'DELETE /groups/{id}/members': 'unassignGroupMembers',
  'GET /groups/{id}/members': 'listGroupMembers',
  'GET /members/{memberId}/groups': 'listMemberships',
  'GET /groups/things/{id}': 'listGroupThings',
  'GET /groups/users/{id}': 'listGroupUsers',
  // things
  'POST /things': 'createThing',
  'GET /things': 'listThings',
  'POST /things/bulk': 'createThings',
  'GET /things/{id}': 'getThing',
  'PUT /things/{id}': 'updateThing',
  'DELETE /things/{id}': 'removeThing',
  'PATCH /things/{id}/key': 'updateThingKey',
  'POST /things/search': 'searchThings',
  'GET /things/{id}/channels': 'listThingChannels',
  // channels
  'POST /channels': 'createChannel',
  'GET /channels': 'listChannels',
  'POST /channels/bulk': 'createChannels',
  'GET /channels/{id}': 'getChannel',
  'PUT /channels/{id}': 'updateChannel',
  'DELETE /channels/{id}': 'removeChannel',
  'GET /channels/{id}/things': 'listChannelThings',
  // connections
  'POST /connect': 'connect',
  'PUT /channels/{chanId}/things/{thingId}': 'connectThing',
  'DELETE /channels/{chanId}/things/{thingId}': 'disconnectThing',
  // identify (the internal thing-auth API)
  'POST /identify': 'identifyThing',
  'POST /identify/channels/{chanId}/access-by-key': 'canAccessByKey',
  'POST /identify/channels/{chanId}/access-by-id': 'canAccessById',
  // enrollment groups
  'POST /enrollments': 'createEnrollment',
  'GET /enrollments': 'listEnrollments',
  'GET /enrollments/{id}': 'getEnrollment',
  'PATCH /enrollments/{id}': 'updateEnrollment',
  'DELETE /enrollments/{id}': 'removeEnrollment',
  'POST /enrollments/{id}/rotate-key': 'rotateEnrollmentKey',
  'GET /enrollments/{id}/registrations': 'listRegistrations',
  'POST /enrollments/{id}/register': 'registerDevice',
  // certs
  'POST /certs': 'issueCert',
  'GET /certs/crl': 'getCrl',
  'GET /certs/{thingId}': 'listCerts',
  'DELETE /certs/{thingId}': 'revokeCerts',
  'DELETE /certs/revoke': 'revokeCertsByBody',
  'POST /certs/ocsp': 'ocspPost',
  'GET /certs/ocsp/{request}': 'ocspGet',
  'POST /certs/{serial}/renew': 'renewCert',
  'POST /certs/renew': 'renewOwnCert',
  'GET /certs': 'listExpiringCerts',
  'GET /.well-known/est/cacerts': 'estCaCerts',
  'POST /.well-known/est/simplereenroll': 'estSimpleReenroll',
  // the audit trail
  'GET /events': 'listEvents',
  'GET /things/{id}/events': 'listThingEvents',
  'GET /channels/{id}/events': 'listChannelEvents',
  // operations
  'GET /version': 'getVersion',
  'GET /health': 'getHealth',
  'GET /metrics': 'getMetrics',
};

/** fastify's route URL as the description writes it: `:id` → `{id}`, the trailing `*` → `{subtopic}`. */
export function describedPath(url: string): string {
  return url.replace(/:(\w+)/g, '{$1}').replace(/\/\*$/, '/{subtopic}');
}

/**
 * How a route appears in the description. Its name comes from OPERATION_IDS (a route
 * missing there stops the start). fastify's catch-all segment (`/messages/*`, a
 * message's subtopic) is a path parameter named `*`, which OpenAPI cannot name: the
 * description calls it `{subtopic}`, marked as spanning slashes (`x-wildcard`). Only the
 * description changes; the route stays as is.
 */
export function describeRoute({
  schema,
  url,
  route,
}: {
  schema: FastifySchema;
  url: string;
  route: { method: string | string[]; config?: { idempotent?: unknown } };
}): { schema: FastifySchema; url: string } {
  if ((schema as { hide?: boolean } | undefined)?.hide) return { schema, url };
  const method = Array.isArray(route.method) ? route.method.join(',') : route.method;
  const key = `${method} ${describedPath(url)}`;
  const operationId = OPERATION_IDS[key];
  if (!operationId) throw new Error(`route ${key} has no name in src/http/operations.ts`);
  const named = { ...schema, operationId } as FastifySchema;
  // Described, not validated: the idempotency hooks read the header themselves.
  if (route.config?.idempotent) named.headers = IdempotencyKeyHeader;
  const params = schema?.params as { properties?: Record<string, object>; required?: string[] } | undefined;
  if (!url.endsWith('/*') || !params?.properties?.['*']) return { schema: named, url };
  const { '*': wildcard, ...others } = params.properties;
  return {
    schema: {
      ...named,
      params: {
        ...params,
        properties: { ...others, subtopic: { ...wildcard, 'x-wildcard': true } },
        required: (params.required ?? []).map((name) => (name === '*' ? 'subtopic' : name)),
      },
    },
    url: `${url.slice(0, -1)}:subtopic`,
  };
}
