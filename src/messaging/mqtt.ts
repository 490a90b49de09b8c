import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { Aedes, type AedesPublishPacket, type Client } from 'aedes';
import type { Logger } from 'pino';
import { createWebSocketStream, WebSocketServer } from 'ws';
import { DomainError } from '../errors.js';
import type { EventHub } from '../events.js';
import type { ThingAccess } from '../things/access.js';
import type { FailureThrottle } from '../throttle.js';
import {
  batchWrites,
  CleanConnects,
  closeOnSocketClose,
  limitPacketSize,
  plainBufferLists,
  quietSessionNotices,
  shareQos0Deliveries,
} from './aedes-tuning.js';
import { BusError } from './bus.js';
import { type Message, nowNanos, topicOf } from './message.js';
import type { MessagingService } from './service.js';
import { parsePublishTopic, parseSubscribeTopic } from './topics.js';

/** What the broker needs of the certs domain for client-certificate logins. */
export interface ClientCertificates {
  /** The CA that signs thing certificates (PEM), trusted for client certificates. */
  caPem(): Promise<string | null>;
  /** The thing a certificate with this serial (hex, any case, colons or not) identifies, while valid and not revoked. */
  activeThing(serial: string): Promise<string | null>;
}

export interface BrokerOptions {
  host: string;
  port: number;
  tlsPort: number;
  wsPort: number | null;
  maxPayload: number;
  /** Open connections over every listener; more are closed as they come. */
  maxConnections: number;
  tls?: { cert: string; key: string };
  access: ThingAccess;
  messaging: MessagingService;
  events: EventHub;
  certificates?: ClientCertificates;
  /** Slows down key guessing (wrong passwords) per thing and address. */
  throttle: FailureThrottle;
  logger: Logger;
}

interface Session {
  thingId: string;
  /** The key it authenticated with, or the serial of its client certificate. */
  key?: string;
  serial?: string;
  /** Channels it subscribed to (never forgotten on unsubscribe: checked again after a resync). */
  channels?: Set<string>;
}

/** Sessions checked at once when caches were stale (see revalidate). */
const REVALIDATE_CONCURRENCY = 32;

interface PeerCertificate {
  serial: string;
  authorized: boolean;
}

/** Messages that may not go where they were sent are re-addressed here: nobody can subscribe. */
const DROPPED = '$tethys/dropped';

/**
 * The MQTT broker (aedes) over TCP, TLS (with client certificates) and WebSocket.
 * CONNECT: username = thing id, password = thing key (as Mainflux's adapter), or a
 * client certificate issued by the certs service. Publish and subscribe only on
 * `channels/<id>/messages[/…]` of a channel the thing is connected to. Sessions of a
 * thing are closed as soon as its access may have been revoked, on every instance.
 */
export class MqttBroker {
  readonly aedes: Aedes;
  private sessions = new WeakMap<Client, Session>();
  private byThing = new Map<string, Set<Client>>();
  /** Moves whenever sessions are closed for a revocation (see authenticate). */
  private revocations = 0;
  private peers = new WeakMap<object, PeerCertificate>();
  /** The remote address of each connection (of the HTTP request for WebSocket), for throttling. */
  private addresses = new WeakMap<object, string>();
  /** Connections open over every listener. */
  private open = 0;
  private servers: (net.Server | http.Server)[] = [];
  private wss: WebSocketServer;
  private cleanConnects: CleanConnects;
  readonly ports: { mqtt?: number; mqttTls?: number; mqttWs?: number } = {};

  private constructor(
    aedes: Aedes,
    private options: BrokerOptions,
  ) {
    this.aedes = aedes;
    this.cleanConnects = new CleanConnects(aedes);
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxPayload + 16,
      handleProtocols: (protocols) =>
        protocols.has('mqtt') ? 'mqtt' : protocols.has('mqttv3.1') ? 'mqttv3.1' : false,
    });
    this.install();
  }

  static async start(options: BrokerOptions): Promise<MqttBroker> {
    const aedes = await Aedes.createBroker({
      heartbeatInterval: 60_000,
      // A connection must send its CONNECT within this time, as HTTP its headers.
      connectTimeout: 10_000,
      drainTimeout: 30_000,
      concurrency: 1000,
    });
    quietSessionNotices(aedes);
    plainBufferLists();
    const broker = new MqttBroker(aedes, options);
    await broker.listen();
    const busLimit = options.messaging.busPayloadLimit();
    if (busLimit !== null && busLimit < options.maxPayload) {
      options.logger.warn(
        { maxPayload: options.maxPayload, busLimit },
        'TETHYS_MQTT_MAX_PAYLOAD is larger than the message bus carries: larger messages are refused (HTTP 413, MQTT connection closed); raise max_payload in nats-server or lower TETHYS_MQTT_MAX_PAYLOAD',
      );
    }
    return broker;
  }

  /**
   * Hands a connection to the broker as it is (no wrapper streams: a session costs
   * less memory), with the adjustments of aedes-tuning.ts: writes gathered per loop
   * iteration, the packet-size limit, QoS 0 deliveries serialised once, the clean-session
   * CONNECT path, one close listener instead of a stream watcher. (Every MQTT parser
   * gets a plain buffer list: plainBufferLists, once at start.)
   */
  private handle(socket: Duplex, peer?: PeerCertificate, request?: http.IncomingMessage): void {
    if (this.open >= this.options.maxConnections) {
      socket.destroy();
      return;
    }
    this.open++;
    socket.once('close', () => this.open--);
    if (peer) this.peers.set(socket, peer);
    const address = request?.socket.remoteAddress ?? (socket as net.Socket).remoteAddress;
    if (address) this.addresses.set(socket, address);
    if (socket instanceof net.Socket) {
      // Writes are already gathered per tick (batchWrites); Nagle's algorithm would hold
      // a small PUBLISH back until the previous one is acknowledged: tens of ms of latency.
      socket.setNoDelay(true);
    }
    const client = this.aedes.handle(socket, request);
    if (socket instanceof net.Socket) batchWrites(socket, client);
    limitPacketSize(client, this.options.maxPayload + 1024);
    shareQos0Deliveries(this.aedes, client);
    this.cleanConnects.install(client);
    closeOnSocketClose(client);
  }

  private async listen(): Promise<void> {
    const o = this.options;
    const tcp = net.createServer((socket) => this.handle(socket));
    this.ports.mqtt = await listenOn(tcp, o.port, o.host);
    this.servers.push(tcp);
    if (o.tls) {
      const ca = (await o.certificates?.caPem()) ?? undefined;
      const secure = tls.createServer(
        {
          cert: o.tls.cert,
          key: o.tls.key,
          ca: ca ? [ca] : undefined,
          requestCert: Boolean(ca),
          rejectUnauthorized: false,
        },
        (socket) => {
          const cert = socket.getPeerCertificate();
          const peer = cert?.serialNumber
            ? { serial: cert.serialNumber, authorized: socket.authorized }
            : undefined;
          this.handle(socket, peer);
        },
      );
      this.ports.mqttTls = await listenOn(secure, o.tlsPort, o.host);
      this.servers.push(secure);
    }
    if (o.wsPort !== null) {
      const server = http.createServer((_req, res) => {
        res.writeHead(426).end('MQTT over WebSocket only\n');
      });
      server.on('upgrade', (req, socket, head) => this.upgrade(req, socket as net.Socket, head, true));
      this.ports.mqttWs = await listenOn(server, o.wsPort, o.host);
      this.servers.push(server);
    }
  }

  /** WebSocket upgrade: at /mqtt on the HTTP port, anywhere on the dedicated port. */
  upgrade(req: http.IncomingMessage, socket: net.Socket, head: Buffer, anyPath = false): void {
    const path = (req.url ?? '').split('?')[0];
    if (!anyPath && path !== '/mqtt') {
      socket.destroy();
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const stream = createWebSocketStream(ws);
      stream.on('error', () => ws.terminate());
      this.handle(stream, undefined, req);
    });
  }

  private session(client: Client | null): Session | undefined {
    return client ? this.sessions.get(client) : undefined;
  }

  /**
   * Remembers a session under its thing from the moment it is authenticated, not only
   * once aedes reports it ready: a revocation in between must close it too.
   */
  private track(client: Client, session: Session): void {
    this.sessions.set(client, session);
    const set = this.byThing.get(session.thingId) ?? new Set();
    set.add(client);
    this.byThing.set(session.thingId, set);
    // A connection that ends before aedes registers it gets no clientDisconnect.
    (client.conn as Duplex).once('close', () => this.untrack(client));
  }

  private untrack(client: Client): void {
    const s = this.sessions.get(client);
    if (!s) return;
    const set = this.byThing.get(s.thingId);
    set?.delete(client);
    if (set && set.size === 0) this.byThing.delete(s.thingId);
  }

  private install(): void {
    const { access, messaging, events, certificates, throttle, logger } = this.options;
    const aedes = this.aedes;

    aedes.authenticate = (client, username, password, done) => {
      const peer = this.peers.get(client.conn as object);
      const key = password ? password.toString() : '';
      const fail = (code = 4) => {
        const err = Object.assign(new Error('bad user name or password'), { returnCode: code });
        done(err as never, false);
      };
      (async () => {
        // A revocation while the answer was read may predate it (the cache is already
        // invalidated then, so asking again reads the new state); a few tries at most.
        const settled = async <T>(read: () => Promise<T>): Promise<T> => {
          let seen = this.revocations;
          let answer = await read();
          for (let i = 0; i < 3 && seen !== this.revocations; i++) {
            seen = this.revocations;
            answer = await read();
          }
          return answer;
        };
        if (!key && peer && certificates) {
          // A client certificate from our CA: valid, not revoked, of an existing thing.
          if (!peer.authorized) return fail(5);
          const thingId = await settled(() => certificates.activeThing(peer.serial));
          if (!thingId || (username && username !== thingId)) return fail(5);
          this.track(client, { thingId, serial: peer.serial });
          return done(null, true);
        }
        // Guessing a thing's key: after a few wrong ones from an address, that address
        // is refused for that thing ("not authorized") without the key being checked.
        const subject = `mqtt:${username ?? ''}`;
        const source = this.addresses.get(client.conn as object) ?? '';
        if (throttle.retryAfter(subject, source) > 0) return fail(5);
        const thingId = await settled(() => access.identify(key));
        if (!thingId || username !== thingId) {
          throttle.failed(subject, source);
          return fail(4);
        }
        throttle.succeeded(subject, source);
        this.track(client, { thingId, key });
        done(null, true);
      })().catch((err) => {
        logFailure(logger, err, 'MQTT authentication failed');
        fail(3);
      });
    };

    aedes.on('clientDisconnect', (client) => this.untrack(client));

    aedes.authorizePublish = (client, packet, done) => {
      const s = this.session(client);
      if (!s) return done(new Error('not authenticated'));
      const target = parsePublishTopic(packet.topic);
      const drop = (reason: string) => {
        messaging.refused('mqtt', reason);
        packet.topic = DROPPED;
        packet.retain = false;
        done(null);
      };
      if (!target) return drop('topic');
      access
        .isConnected(target.channel, s.thingId)
        .then(
          (ok) => {
            if (!ok) return drop('access');
            const sent = messaging.accepted({
              channel: target.channel,
              subtopic: target.subtopic,
              publisher: s.thingId,
              protocol: 'mqtt',
              payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
              created: nowNanos(),
            });
            const refuse = (failure: BusError) => {
              if (failure.tooLarge) {
                // Over the limit every instance can carry: closed like any oversize packet.
                messaging.refused('mqtt', 'too_large');
                logger.debug(
                  { thing: s.thingId, err: failure.message },
                  'MQTT publish too large for the bus',
                );
                return done(failure);
              }
              // QoS 1: no PUBACK for a message the bus did not take; the connection closes
              // and the client sends it again when it reconnects. QoS 0 promises nothing.
              if (packet.qos === 0) return drop('bus');
              messaging.refused('mqtt', 'bus');
              done(failure);
            };
            const accept = () => {
              packet.topic = topicOf(target.channel, target.subtopic);
              // Retained messages would outlive the connection that allowed them.
              packet.retain = false;
              done(null);
            };
            if (sent instanceof BusError) return refuse(sent);
            if (packet.qos === 0) {
              // Nothing to acknowledge: delivered here at once, to the others when the bus confirms.
              sent.catch(() => {});
              return accept();
            }
            sent.then(accept, refuse);
          },
          (err) => {
            logFailure(logger, err, 'MQTT publish: access check failed');
            done(err);
          },
        )
        .catch((err) => logger.error({ err }, 'MQTT publish authorization failed'));
    };

    aedes.authorizeSubscribe = (client, sub, done) => {
      const s = this.session(client);
      const channel = parseSubscribeTopic(sub.topic);
      if (!s || !channel) return done(null, null as never);
      access
        .isConnected(channel, s.thingId)
        .then(
          (ok) => {
            if (ok) {
              s.channels ??= new Set();
              s.channels.add(channel);
            }
            done(null, ok ? sub : (null as never));
          },
          (err) => {
            logFailure(logger, err, 'MQTT subscribe: access check failed');
            done(err, null as never);
          },
        )
        .catch((err) => logger.error({ err }, 'MQTT subscribe authorization failed'));
    };

    // Last line of defence between a change and the session being closed. Called for
    // every subscriber of a message with the same topic: its channel is parsed once.
    let lastTopic = '';
    let lastChannel: string | null = null;
    aedes.authorizeForward = (client, packet) => {
      const s = this.session(client);
      if (!s) return null as never;
      if (packet.topic !== lastTopic) {
        lastTopic = packet.topic;
        lastChannel = parseSubscribeTopic(packet.topic);
      }
      const channel = lastChannel;
      if (channel && access.peek(channel, s.thingId) === false) return null as never;
      return packet;
    };

    messaging.setLocalDelivery((m: Message) => {
      const packet = {
        cmd: 'publish',
        topic: topicOf(m.channel, m.subtopic),
        payload: m.payload,
        qos: 0,
        retain: false,
        dup: false,
      } as AedesPublishPacket;
      aedes.publish(packet, () => {});
    });

    const closeThing = (thingId: string, serial?: string) => {
      this.revocations++;
      // Events may carry the id as the caller typed it (PATCH /things/{ID}/key); sessions hold it lower-cased.
      for (const client of this.byThing.get(thingId.toLowerCase()) ?? []) {
        if (serial && sameSerial(this.session(client)?.serial, serial) === false) continue;
        client.close();
      }
    };
    const every = { everyInstance: true };
    events.on('thing.removed', ({ id }) => closeThing(id), every);
    events.on('thing.key_changed', ({ id }) => closeThing(id), every);
    events.on('connection.removed', ({ thingId }) => closeThing(thingId), every);
    events.on('cert.revoked', ({ thingId, serial }) => closeThing(thingId, serial), every);
    events.on(
      'caches.stale',
      () => {
        this.revocations++;
        this.revalidate().catch((err) => logger.error({ err }, 'checking MQTT sessions again failed'));
      },
      every,
    );
  }

  /**
   * Revocations made elsewhere while the bus was down never arrived: every live session
   * is checked as at CONNECT and SUBSCRIBE (key or certificate, then each channel it
   * subscribed to) and closed if it no longer passes. A session whose check cannot be
   * made now (the database is away too) stays.
   */
  private async revalidate(): Promise<void> {
    const { access, certificates, logger } = this.options;
    const sessions: [Client, Session][] = [];
    for (const set of this.byThing.values()) {
      for (const client of set) {
        const s = this.sessions.get(client);
        if (s) sessions.push([client, s]);
      }
    }
    let closed = 0;
    const check = async ([client, s]: [Client, Session]) => {
      try {
        const thingId = s.serial
          ? await certificates?.activeThing(s.serial)
          : s.key
            ? await access.identify(s.key)
            : null;
        let allowed = thingId === s.thingId;
        for (const channel of s.channels ?? []) {
          if (!allowed) break;
          allowed = await access.isConnected(channel, s.thingId);
        }
        if (!allowed) {
          closed++;
          client.close();
        }
      } catch (err) {
        logFailure(logger, err, 'MQTT session could not be checked again');
      }
    };
    for (let i = 0; i < sessions.length; i += REVALIDATE_CONCURRENCY) {
      await Promise.all(sessions.slice(i, i + REVALIDATE_CONCURRENCY).map(check));
    }
    if (sessions.length > 0)
      logger.info({ sessions: sessions.length, closed }, 'MQTT sessions checked again');
  }

  get connectedClients(): number {
    return this.aedes.connectedClients;
  }

  async close(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
    await Promise.all(
      this.servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            if ('closeAllConnections' in s) (s as http.Server).closeAllConnections();
          }),
      ),
    );
  }
}

/** An outage (database unavailable) is expected and logged where it is noticed; anything else is a fault. */
function logFailure(logger: Logger, err: unknown, message: string): void {
  if (err instanceof DomainError && err.kind === 'unavailable') logger.debug({ err: err.message }, message);
  else logger.error({ err }, message);
}

/** Serials as hex digits only: TLS gives `0A1B…`, the certs service `0a:1b:…`. */
function sameSerial(a: string | undefined, b: string): boolean {
  const norm = (x: string) =>
    x
      .replace(/[^0-9a-fA-F]/g, '')
      .toLowerCase()
      .replace(/^0+/, '');
  return a !== undefined && norm(a) === norm(b);
}

function listenOn(server: net.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}
