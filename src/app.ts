import crypto from 'node:crypto';
import fs from 'node:fs';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import client from 'prom-client';
import { EventsRepository } from './audit/repo.js';
import { eventsRoutes } from './audit/routes.js';
import { AuditLog } from './audit/service.js';
import { WebhookSink } from './audit/webhook.js';
import { KeysRepository } from './auth/repo.js';
import { authRoutes } from './auth/routes.js';
import { resolveAuthSecret } from './auth/secret.js';
import { AuthService } from './auth/service.js';
import { TokenCodec } from './auth/tokens.js';
import { BootstrapRepository } from './bootstrap/repo.js';
import { bootstrapRoutes } from './bootstrap/routes.js';
import { BootstrapCipher } from './bootstrap/secure.js';
import { BootstrapService } from './bootstrap/service.js';
import { estRoutes } from './certs/est.js';
import { OcspResponder } from './certs/ocsp.js';
import { ocspRoutes } from './certs/ocsp-routes.js';
import { RenewalService } from './certs/renewal.js';
import { renewalRoutes } from './certs/renewal-routes.js';
import { CertsRepository } from './certs/repo.js';
import { certsRoutes } from './certs/routes.js';
import { CertsService, openPki } from './certs/service.js';
import type { Config } from './config.js';
import { consoleRoutes } from './console/routes.js';
import { openDatabase } from './db/database.js';
import type { Db } from './db/schema.js';
import { EnrollmentsRepository } from './enrollments/repo.js';
import { enrollmentsRoutes } from './enrollments/routes.js';
import { EnrollmentsService } from './enrollments/service.js';
import { EventHub } from './events.js';
import { GroupsRepository } from './groups/repo.js';
import { groupsRoutes } from './groups/routes.js';
import { GroupsService } from './groups/service.js';
import { idempotentRoutes, userScope } from './http/idempotency.js';
import { describeRoute } from './http/operations.js';
import { answerWrongMethods, createHttpServer, drainHttp } from './http/server.js';
import { IdempotencyRepository } from './idempotency/repo.js';
import { IdempotencyService } from './idempotency/service.js';
import { LayoutsRepository } from './layouts/repo.js';
import { layoutsRoutes } from './layouts/routes.js';
import { LayoutsService } from './layouts/service.js';
import { type Bus, InProcessBus, NatsBus } from './messaging/bus.js';
import { messagingRoutes } from './messaging/http-routes.js';
import { MqttBroker } from './messaging/mqtt/broker.js';
import { MessagingService } from './messaging/service.js';
import { opsRoutes } from './ops/routes.js';
import { type Layout, loadLayout } from './provision/layout.js';
import { provisionRoutes } from './provision/routes.js';
import { ProvisionService } from './provision/service.js';
import { persistentSecret } from './secrets.js';
import { ThingAccess } from './things/access.js';
import { ChannelsRepository, ConnectionsRepository, ThingsRepository } from './things/repo.js';
import { thingsRoutes } from './things/routes.js';
import { ThingsService } from './things/service.js';
import { DEFAULT_THROTTLE, FailureThrottle } from './throttle.js';
import { createMailer } from './users/mailer.js';
import { UsersRepository } from './users/repo.js';
import { usersRoutes } from './users/routes.js';
import { UsersService } from './users/service.js';
import { TETHYS_VERSION } from './version.js';

export interface Services {
  db: Db;
  events: EventHub;
  audit: AuditLog;
  /** The events webhook's delivery, when TETHYS_EVENTS_WEBHOOK_URL is set. */
  webhook: WebhookSink | null;
  auth: AuthService;
  users: UsersService;
  things: ThingsService;
  groups: GroupsService;
  certs: CertsService;
  bootstrap: BootstrapService;
  layouts: LayoutsService;
  enrollments: EnrollmentsService;
  provision: ProvisionService;
  messaging: MessagingService;
  idempotency: IdempotencyService;
}

export interface App {
  http: FastifyInstance;
  mqtt: MqttBroker;
  services: Services;
  logger: Logger;
  /** Stops at once: open connections are cut (tests, and the end of shutdown). */
  close(): Promise<void>;
  /**
   * A graceful stop (SIGTERM): no new connections; requests in flight and those that
   * arrive on open connections are answered, each with `Connection: close`; MQTT
   * sessions are closed; buffered messages are flushed; then close(). Connections still
   * open `timeoutMs` after the start are cut.
   */
  shutdown(timeoutMs: number): Promise<void>;
}

let defaultMetrics = false;

/** Builds the server from the services; nothing else. */
export async function buildApp(config: Config, options: { logger?: Logger } = {}): Promise<App> {
  const logger =
    options.logger ?? pino({ level: config.logLevel, redact: ['req.headers.authorization', '*.password'] });
  if (!defaultMetrics) {
    client.collectDefaultMetrics();
    defaultMetrics = true;
  }
  // Everything that can refuse the configuration is read before anything is opened.
  const layout = loadLayout(config.provision);
  const tlsFiles = config.tls.cert
    ? { cert: fs.readFileSync(config.tls.cert, 'utf8'), key: fs.readFileSync(config.tls.key, 'utf8') }
    : undefined;
  const db = await openConfiguredDatabase(config, logger);
  try {
    return await assemble(config, logger, db, layout, tlsFiles);
  } catch (err) {
    await db.close().catch(() => {});
    throw err;
  }
}

/** The database the settings name (SQLite in the data folder unless a URL is given), migrated. */
export function openConfiguredDatabase(config: Config, logger: Logger): Promise<Db> {
  return openDatabase({
    url: config.db.url,
    dataDir: config.dataDir,
    limits: {
      poolSize: config.db.poolSize,
      connectTimeoutMs: config.db.connectTimeoutMs,
      queryTimeoutMs: config.db.queryTimeoutMs,
      queueMax: config.db.queueMax,
    },
    logger,
  });
}

/**
 * The services the others build on: identity (auth), accounts (users), things and
 * channels with their access cache, and the throttle of guesses they share. Exported for
 * the services' unit tests, which run them on a real database without the servers.
 */
export function coreServices(config: Config, db: Db, logger: Logger, events: EventHub) {
  const secret = resolveAuthSecret(config.auth.secret, config.dataDir, (msg) => logger.warn(msg));
  const throttle = new FailureThrottle({
    ...DEFAULT_THROTTLE,
    freeFailures: config.throttle.freeFailures,
    freeFailuresPerSource: 10 * config.throttle.freeFailures,
    maxDelayMs: config.throttle.maxDelayMs,
    forgetAfterMs: config.throttle.maxDelayMs,
  });
  const eventsRepo = new EventsRepository(db);
  const audit = new AuditLog(
    eventsRepo,
    { retentionMs: config.eventsRetentionMs, adminEmail: config.users.adminEmail },
    logger,
  );
  const auth = new AuthService(
    new KeysRepository(db),
    new TokenCodec(secret),
    events,
    config.cacheSize,
    db,
    audit,
  );
  const usersRepo = new UsersRepository(db);
  const users = new UsersService(
    usersRepo,
    auth,
    createMailer(config.email),
    {
      passRegex: config.users.passRegex,
      resetEndpoint: config.users.resetEndpoint,
      adminEmail: config.users.adminEmail,
      argon2: config.argon2,
    },
    throttle,
    db,
    audit,
  );
  const thingsRepo = new ThingsRepository(db, eventsRepo);
  const channelsRepo = new ChannelsRepository(db, eventsRepo);
  const connections = new ConnectionsRepository(db, eventsRepo);
  const access = new ThingAccess(thingsRepo, connections, events, config.cacheSize);
  const singleUser =
    config.things.singleUserEmail && config.things.singleUserToken
      ? { email: config.things.singleUserEmail, token: config.things.singleUserToken }
      : undefined;
  const things = new ThingsService(
    db,
    auth,
    thingsRepo,
    channelsRepo,
    connections,
    access,
    events,
    audit,
    singleUser,
  );
  return {
    throttle,
    audit,
    auth,
    users,
    access,
    things,
    repositories: { usersRepo, thingsRepo, channelsRepo },
  };
}

async function assemble(
  config: Config,
  logger: Logger,
  db: Db,
  layout: Layout,
  tlsFiles: { cert: string; key: string } | undefined,
): Promise<App> {
  const events = new EventHub();
  const { throttle, audit, auth, users, access, things, repositories } = coreServices(
    config,
    db,
    logger,
    events,
  );
  const { usersRepo, thingsRepo, channelsRepo } = repositories;
  const groups = new GroupsService(
    db,
    auth,
    new GroupsRepository(db, thingsRepo, usersRepo),
    events,
    config.users.adminEmail,
    audit,
  );
  const certsRepo = new CertsRepository(db, thingsRepo);
  const pki = await openPki(config.certs, config.dataDir, certsRepo, logger);
  const certs = new CertsService(
    db,
    certsRepo,
    pki,
    things,
    audit,
    {
      cnFromKey: config.certs.cnFromKey,
      defaultValidityMs: config.certs.defaultValidityMs,
      defaultRsaBits: config.certs.defaultRsaBits,
    },
    logger,
    events,
  );
  await certs.start();
  // Signed with the dev CA's key, or with a delegated OCSP signing certificate Vault issued.
  const ocsp = new OcspResponder(
    pki.ocspResponder ? () => pki.ocspResponder!() : undefined,
    (serial) => certsRepo.bySerial(serial),
    { validityMs: config.certs.ocspValidityMs, cacheSize: config.cacheSize },
    events,
  );

  const encryptKey =
    config.bootstrap.encryptKey ||
    persistentSecret(
      config.dataDir,
      'bootstrap-key',
      () => crypto.randomBytes(32).toString('hex'),
      (m) => logger.warn(m),
      'MF_BOOTSTRAP_ENCRYPT_KEY',
    );
  if (!/^([0-9a-fA-F]{32}|[0-9a-fA-F]{48}|[0-9a-fA-F]{64})$/.test(encryptKey)) {
    throw new Error(
      'the bootstrap encryption key (MF_BOOTSTRAP_ENCRYPT_KEY or data/bootstrap-key) must be 32, 48 or 64 hex digits',
    );
  }
  const bootstrap = new BootstrapService(
    db,
    auth,
    things,
    new BootstrapRepository(db, thingsRepo, channelsRepo),
    new BootstrapCipher(Buffer.from(encryptKey, 'hex')),
    events,
    throttle,
    audit,
  );

  const renewal = new RenewalService(
    db,
    certs,
    certsRepo,
    things,
    bootstrap,
    config.users.adminEmail,
    logger,
  );

  logger.info(
    { layout: layout.source, things: layout.things.length, channels: layout.channels.length },
    'provision layout loaded',
  );
  const layouts = new LayoutsService(db, auth, new LayoutsRepository(db), layout, config.provision, audit);
  const provision = new ProvisionService(db, auth, users, things, bootstrap, certs, layout, layouts, logger);
  const enrollments = new EnrollmentsService(
    db,
    auth,
    new EnrollmentsRepository(db),
    provision,
    bootstrap,
    certs,
    throttle,
    events,
    audit,
  );

  const bus: Bus = config.messaging.natsUrl
    ? await NatsBus.connect(config.messaging.natsUrl, events, logger, config.messaging.jetstream)
    : new InProcessBus();
  bus.carryAudit(audit);
  audit.start();
  const webhook = config.eventsWebhook
    ? new WebhookSink(new EventsRepository(db), config.eventsWebhook, logger)
    : null;
  webhook?.start();
  const messaging = new MessagingService(access, bus);
  const idempotency = new IdempotencyService(new IdempotencyRepository(db), logger);
  idempotency.start();

  if (await users.ensureAdmin(config.users.adminEmail, config.users.adminPassword)) {
    logger.info({ email: config.users.adminEmail }, 'created the admin account');
  }

  const http = createHttpServer({
    logger,
    bodyLimit: config.http.bodyLimit,
    trustProxy: config.trustProxy,
    headersTimeoutMs: config.http.headersTimeoutMs,
    requestTimeoutMs: config.http.requestTimeoutMs,
    maxConnections: config.http.maxConnections,
    // A client may present a certificate (a device of an x509 enrollment group proves
    // itself with it); nothing is refused at the handshake: the route that reads one
    // checks it against its own CA.
    https: tlsFiles
      ? {
          cert: Buffer.from(tlsFiles.cert),
          key: Buffer.from(tlsFiles.key),
          requestCert: true,
          rejectUnauthorized: false,
        }
      : undefined,
  });
  await http.register(swagger, {
    openapi: {
      // 3.1: its schemas are JSON Schema, as the routes' TypeBox schemas are (`null` included).
      openapi: '3.1.0',
      info: {
        title: 'Tethys',
        version: TETHYS_VERSION,
        description: 'IoT platform core speaking the Mainflux 0.12 HTTP API',
        license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      },
      servers: [{ url: '/', description: 'this server' }],
      components: {
        securitySchemes: {
          userToken: {
            type: 'apiKey',
            in: 'header',
            name: 'Authorization',
            description:
              "A user's token (POST /tokens) or API key (POST /keys); a `Bearer ` prefix is accepted",
          },
          thingKey: {
            type: 'apiKey',
            in: 'header',
            name: 'Authorization',
            description: "A thing's key (`Thing ` prefix accepted)",
          },
          externalKey: {
            type: 'apiKey',
            in: 'header',
            name: 'Authorization',
            description: "A gateway's external key (its bootstrap config's)",
          },
          deviceKey: {
            type: 'apiKey',
            in: 'header',
            name: 'Authorization',
            description:
              'An enrolling device of a symmetric_key group: `SharedKey <base64(HMAC-SHA256(base64-decoded group key, registration id))>`. A device of an x509 group sends none: it presents a TLS client certificate (HTTPS listener) chaining to the group CA, CN = the registration id',
          },
        },
      },
      security: [{ userToken: [] }],
    },
    transform: describeRoute,
  });
  await http.register(swaggerUi, { routePrefix: '/docs' });
  const routes: { method: string | string[]; url: string }[] = [];
  http.addHook('onRoute', (r) => {
    routes.push({ method: r.method, url: r.url });
  });
  // Before the routes: it adds its hooks to those that opt in.
  idempotentRoutes(http, {
    service: idempotency,
    scope: async (request) => userScope(await things.identify(request.headers.authorization)),
  });
  messagingRoutes(http, messaging, config.messaging.maxPayload, logger);
  bootstrapRoutes(http, bootstrap);
  provisionRoutes(http, provision);
  layoutsRoutes(http, layouts);
  enrollmentsRoutes(http, enrollments);
  usersRoutes(http, users);
  authRoutes(http, auth);
  groupsRoutes(http, groups, auth);
  thingsRoutes(http, things);
  eventsRoutes(http, audit, things);
  certsRoutes(http, certs);
  ocspRoutes(http, ocsp);
  renewalRoutes(http, renewal);
  estRoutes(http, certs, renewal);
  opsRoutes(http, db, () => messaging.busState(), TETHYS_VERSION);
  consoleRoutes(http, undefined, config.users.resetEndpoint);
  await http.after();
  answerWrongMethods(http, routes);

  const mqtt = await MqttBroker.start({
    host: config.http.host,
    port: config.messaging.mqttPort,
    tlsPort: config.messaging.mqttTlsPort,
    wsPort: config.messaging.mqttWsPort,
    maxPayload: config.messaging.maxPayload,
    maxConnections: config.messaging.maxConnections,
    queueMax: config.messaging.queueMax,
    sessionExpiryMaxSeconds: config.messaging.sessionExpiryMaxSeconds,
    tls: tlsFiles,
    access,
    messaging,
    events,
    certificates: { caPem: async () => certs.caPem, activeThing: (serial) => certs.activeThing(serial) },
    throttle,
    logger,
  });
  http.server.on('upgrade', (req, socket, head) =>
    mqtt.upgrade(req, socket as import('node:net').Socket, head),
  );
  logger.info({ ports: mqtt.ports }, 'MQTT broker listening');

  const close = async () => {
    await mqtt.close();
    await http.close();
    certs.close();
    idempotency.close();
    audit.close();
    webhook?.close();
    await bus.close();
    await db.close();
  };
  return {
    http,
    mqtt,
    logger,
    services: {
      db,
      events,
      audit,
      webhook,
      auth,
      users,
      things,
      groups,
      certs,
      bootstrap,
      provision,
      messaging,
      layouts,
      enrollments,
      idempotency,
    },
    close,
    async shutdown(timeoutMs: number) {
      const started = Date.now();
      // A fifth of the time is kept for closing the bus and the database after the drain.
      const deadline = started + Math.max(0, timeoutMs * 0.8);
      await Promise.all([drainHttp(http, deadline), mqtt.close()]);
      logger.info({ ms: Date.now() - started }, 'connections drained');
      await close();
    },
  };
}
