import crypto from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import type {
  IConnectPacket,
  IPublishPacket,
  ISubscribePacket,
  IUnsubscribePacket,
  Packet,
  UserProperties,
} from 'mqtt-packet';
import type { Logger } from 'pino';
import client from 'prom-client';
import { createWebSocketStream, WebSocketServer } from 'ws';
import { DomainError } from '../../errors.js';
import type { EventHub } from '../../events.js';
import type { ThingAccess } from '../../things/access.js';
import type { FailureThrottle } from '../../throttle.js';
import { BusError } from '../bus.js';
import { type Message, type MessageProperties, nowNanos, topicOf } from '../message.js';
import type { MessagingService } from '../service.js';
import { parsePublishTopic } from '../topics.js';
import { encode, type ProtocolVersion } from './codec.js';
import { Connection, type PeerCertificate } from './connection.js';
import { Reason, ReturnCode, returnCodeOf } from './reasons.js';
import { type Pending, Session, type Will } from './session.js';
import { groupKey, parseFilter, type Subscription, SubscriptionIndex } from './subscriptions.js';

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
  /** QoS 1 messages a persistent session keeps while its client is away; the oldest go first. */
  queueMax: number;
  /** The longest a session outlives its connection (seconds); MQTT 3.1.1 persistent sessions get this. */
  sessionExpiryMaxSeconds: number;
  tls?: { cert: string; key: string };
  access: ThingAccess;
  messaging: MessagingService;
  events: EventHub;
  certificates?: ClientCertificates;
  /** Slows down key guessing (wrong passwords) per thing and address. */
  throttle: FailureThrottle;
  logger: Logger;
}

/** Sessions checked at once when caches were stale (see revalidate). */
const REVALIDATE_CONCURRENCY = 32;
/** A CONNECT must arrive within this time of the connection. */
const CONNECT_TIMEOUT_MS = 10_000;
/** Topic aliases a client may set (MQTT 5). */
const TOPIC_ALIAS_MAX = 64;
/** Bytes a subscriber may have unsent before it is dropped as too slow to follow. */
const SLOW_SUBSCRIBER_BYTES = 16 * 1024 * 1024;
/** Bytes an MQTT packet may carry besides its payload (topic, properties). */
const PACKET_OVERHEAD = 1024;

const connectionsGauge = new client.Gauge({
  name: 'tethys_mqtt_connections',
  help: 'MQTT connections with an open session',
});
const dropped = new client.Counter({
  name: 'tethys_mqtt_dropped_total',
  help: 'MQTT deliveries not made, by reason (queue_full: a persistent session over its bound; slow: a subscriber that did not read; expired: MQTT 5 message expiry)',
  labelNames: ['reason'],
});

/** One message's encodings for QoS 0 deliveries, made once for all its subscribers. */
interface Encoded {
  message: Message;
  topic: string;
  v4?: Buffer;
  v5?: Buffer;
}

/**
 * The MQTT broker: MQTT 3.1, 3.1.1 and 5.0 over TCP, TLS (client certificates identify
 * the thing) and WebSocket, owned by Tethys on mqtt-packet (the field's own codec). A
 * thing logs in with username = thing id and password = thing key (as Mainflux's
 * adapter), or with a client certificate issued by the certs service; it publishes and
 * subscribes only on `channels/<id>/messages[/…]` of channels it is connected to; its
 * sessions are closed as soon as its access may have been revoked, on every instance.
 */
export class MqttBroker {
  private sessions = new Map<string, Session>();
  /** Every session of a thing, connected or kept. */
  private byThing = new Map<string, Set<Session>>();
  private index = new SubscriptionIndex<Session>();
  /** Shared groups this instance joined on the bus (NATS), by group key: the leave. */
  private joined = new Map<string, () => void>();
  private connections = new Set<Connection>();
  private corkedList: Connection[] = [];
  private uncorkScheduled = false;
  /** Moves whenever sessions are closed for a revocation (see authenticate). */
  private revocations = 0;
  /** The session checks after stale caches, one after the other (see revalidate). */
  private checking: Promise<void> = Promise.resolve();
  private servers: (net.Server | http.Server)[] = [];
  private wss: WebSocketServer;
  private sweeper: NodeJS.Timeout;
  private closing = false;
  now = Date.now();
  readonly ports: { mqtt?: number; mqttTls?: number; mqttWs?: number } = {};

  private constructor(private options: BrokerOptions) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxPayload + PACKET_OVERHEAD,
      handleProtocols: (protocols) =>
        protocols.has('mqtt') ? 'mqtt' : protocols.has('mqttv3.1') ? 'mqttv3.1' : false,
    });
    this.sweeper = setInterval(() => this.sweep(), 1000);
    this.sweeper.unref();
    this.subscribeEvents();
    options.messaging.setLocalDelivery((m) => this.deliver(m, null));
  }

  static async start(options: BrokerOptions): Promise<MqttBroker> {
    const broker = new MqttBroker(options);
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

  /** The filters of the live sessions with this client id (for tests and diagnostics). */
  subscriptionsOf(clientId: string): string[] {
    const out: string[] = [];
    for (const session of this.sessions.values()) {
      if (session.clientId === clientId && session.connection) out.push(...session.subscriptions.keys());
    }
    return out;
  }

  get connectedClients(): number {
    let n = 0;
    for (const c of this.connections) if (c.state === 'open') n++;
    return n;
  }

  // ---- listeners ---------------------------------------------------------------

  private async listen(): Promise<void> {
    const o = this.options;
    const tcp = net.createServer((socket) => this.accept(socket));
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
          this.accept(socket, peer);
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
    if (this.closing || (!anyPath && path !== '/mqtt')) {
      socket.destroy();
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const stream = createWebSocketStream(ws);
      stream.on('error', () => ws.terminate());
      this.accept(stream, undefined, req.socket.remoteAddress);
    });
  }

  private accept(socket: Duplex, peer?: PeerCertificate, remoteAddress?: string): void {
    if (this.closing || this.connections.size >= this.options.maxConnections) {
      socket.destroy();
      return;
    }
    if (socket instanceof net.Socket) {
      // Writes are gathered per loop iteration already; Nagle's algorithm would hold a
      // small PUBLISH back until the previous one is acknowledged.
      socket.setNoDelay(true);
    }
    const address = remoteAddress ?? (socket as net.Socket).remoteAddress ?? '';
    const conn = new Connection(socket, this, this.options.maxPayload + PACKET_OVERHEAD, address, peer);
    this.connections.add(conn);
  }

  // ---- ConnectionHost ------------------------------------------------------------

  corked(conn: Connection): void {
    this.corkedList.push(conn);
    if (this.uncorkScheduled) return;
    this.uncorkScheduled = true;
    // Once the loop has read its input: the messages of every publisher read in one
    // iteration leave in one system call per subscriber.
    setImmediate(() => {
      this.uncorkScheduled = false;
      const list = this.corkedList;
      this.corkedList = [];
      for (const c of list) c.uncork();
    });
  }

  closed(conn: Connection): void {
    this.connections.delete(conn);
    const session = conn.session;
    if (!session || session.connection !== conn) return;
    session.connection = null;
    connectionsGauge.dec();
    const will = session.will;
    const publishWill = will !== null && !conn.noWill && (!conn.disconnected || conn.willOnDisconnect);
    if (publishWill && will) {
      if (will.delaySeconds > 0 && session.expirySeconds > 0) {
        // Published after the delay unless the client is back first, or when the session ends.
        session.willTimer = setTimeout(() => {
          session.willTimer = null;
          session.will = null;
          void this.publishWill(session, will);
        }, Math.min(will.delaySeconds, session.expirySeconds) * 1000);
        session.willTimer.unref();
      } else {
        session.will = null;
        void this.publishWill(session, will);
      }
    }
    if (session.expirySeconds === 0 || this.closing) {
      this.discard(session);
      return;
    }
    session.expiryTimer = setTimeout(() => this.expire(session), session.expirySeconds * 1000);
    session.expiryTimer.unref();
  }

  handle(conn: Connection, packet: Packet): void | Promise<void> {
    if (conn.state === 'new') {
      if (packet.cmd !== 'connect') return conn.close();
      return this.connect(conn, packet);
    }
    if (conn.state !== 'open') return;
    switch (packet.cmd) {
      case 'publish':
        return this.publish(conn, packet);
      case 'puback':
        return this.acknowledged(conn, packet.messageId);
      case 'pubrel':
        conn.qos2?.delete(packet.messageId ?? 0);
        conn.send({ cmd: 'pubcomp', messageId: packet.messageId });
        return;
      case 'pubrec':
      case 'pubcomp':
        // Tethys delivers at QoS 1 at most: no QoS 2 exchange of its own to continue.
        return;
      case 'subscribe':
        return this.subscribe(conn, packet);
      case 'unsubscribe':
        return this.unsubscribe(conn, packet);
      case 'pingreq':
        conn.send({ cmd: 'pingresp' });
        return;
      case 'disconnect':
        conn.disconnected = true;
        conn.willOnDisconnect = packet.reasonCode === Reason.disconnectWithWill;
        if (
          conn.session &&
          packet.properties?.sessionExpiryInterval !== undefined &&
          conn.session.expirySeconds > 0
        ) {
          conn.session.expirySeconds = Math.min(
            packet.properties.sessionExpiryInterval,
            this.options.sessionExpiryMaxSeconds,
          );
        }
        conn.close();
        return;
      case 'connect':
        // A second CONNECT is a protocol violation.
        return conn.close(Reason.protocolError);
      default:
        return conn.close(Reason.protocolError);
    }
  }

  // ---- CONNECT -----------------------------------------------------------------

  private refuse(conn: Connection, reason: number, reasonString?: string): void {
    if (conn.version === 5) {
      conn.send({
        cmd: 'connack',
        reasonCode: reason,
        sessionPresent: false,
        ...(reasonString ? { properties: { reasonString } } : {}),
      });
    } else {
      conn.send({ cmd: 'connack', returnCode: returnCodeOf(reason), sessionPresent: false });
    }
    conn.noWill = true;
    conn.close();
  }

  private async connect(conn: Connection, packet: IConnectPacket): Promise<void> {
    const { throttle, logger } = this.options;
    conn.state = 'connecting';
    const v5 = conn.version === 5;
    const props = packet.properties;
    if (v5 && props?.authenticationMethod) {
      return this.refuse(conn, Reason.badAuthenticationMethod, 'enhanced authentication is not supported');
    }
    if (v5 && props?.receiveMaximum === 0) return this.refuse(conn, Reason.protocolError);
    let clientId = packet.clientId ?? '';
    let assigned = false;
    if (!clientId) {
      if (!v5 && !packet.clean) return this.refuse(conn, Reason.clientIdNotValid);
      clientId = `tethys-${crypto.randomUUID()}`;
      assigned = true;
    } else if (conn.version === 3 && clientId.length > 23) {
      return this.refuse(conn, Reason.clientIdNotValid);
    }
    if (this.closing) return this.refuse(conn, Reason.serverUnavailable);

    let thingId: string | null;
    let credential: Session['credential'];
    const username = packet.username ?? '';
    const key = packet.password ? packet.password.toString() : '';
    try {
      if (!key && conn.peer && this.options.certificates) {
        // A client certificate from our CA: valid, not revoked, of an existing thing.
        if (!conn.peer.authorized) return this.refuse(conn, Reason.notAuthorized);
        const serial = conn.peer.serial;
        thingId = await this.settled(() => this.options.certificates!.activeThing(serial));
        if (!thingId || (username && username !== thingId)) return this.refuse(conn, Reason.notAuthorized);
        credential = { serial };
      } else {
        // Guessing a thing's key: after a few wrong ones from an address, that address is
        // refused for that thing without the key being checked.
        const subject = `mqtt:${username}`;
        if (throttle.retryAfter(subject, conn.address) > 0) {
          return this.refuse(
            conn,
            v5 ? Reason.connectionRateExceeded : Reason.notAuthorized,
            'too many failed attempts',
          );
        }
        thingId = await this.settled(() => this.options.access.identify(key));
        if (!thingId || username !== thingId) {
          throttle.failed(subject, conn.address);
          return this.refuse(conn, Reason.badUserNameOrPassword);
        }
        throttle.succeeded(subject, conn.address);
        credential = { key };
      }
    } catch (err) {
      logFailure(logger, err, 'MQTT authentication failed');
      return this.refuse(conn, Reason.serverUnavailable);
    }
    // Closed while authenticating: nothing to register.
    if (conn.state !== 'connecting') return;

    const sessionKey = Session.keyOf(thingId, clientId);
    let session = this.sessions.get(sessionKey);
    if (session?.connection) {
      // The same client again: the new connection takes the session over (the old one
      // lets go of it first, so its end does not end the session).
      const old = session.connection;
      session.connection = null;
      old.session = null;
      connectionsGauge.dec();
      old.noWill = true;
      old.close(Reason.sessionTakenOver);
    }
    const resume = Boolean(session) && !packet.clean;
    if (session && !resume) {
      this.discard(session);
      session = undefined;
    }
    if (!session) {
      session = new Session(thingId, clientId);
      this.sessions.set(sessionKey, session);
      let set = this.byThing.get(thingId);
      if (!set) {
        set = new Set();
        this.byThing.set(thingId, set);
      }
      set.add(session);
    }
    session.clearTimers();
    session.credential = credential;
    const requestedExpiry = v5
      ? (props?.sessionExpiryInterval ?? 0)
      : packet.clean
        ? 0
        : this.options.sessionExpiryMaxSeconds;
    session.expirySeconds = Math.min(requestedExpiry, this.options.sessionExpiryMaxSeconds);
    session.will = packet.will ? willOf(packet.will) : null;
    session.connection = conn;
    conn.session = session;
    conn.state = 'open';
    connectionsGauge.inc();
    conn.keepaliveMs = (packet.keepalive ?? 0) * 1000;
    if (v5) {
      conn.receiveMaximum = props?.receiveMaximum ?? 65535;
      conn.clientMaxPacket = props?.maximumPacketSize ?? Number.POSITIVE_INFINITY;
    }

    if (v5) {
      conn.send({
        cmd: 'connack',
        reasonCode: Reason.success,
        sessionPresent: resume,
        properties: {
          ...(assigned ? { assignedClientIdentifier: clientId } : {}),
          ...(requestedExpiry !== session.expirySeconds
            ? { sessionExpiryInterval: session.expirySeconds }
            : {}),
          retainAvailable: false,
          maximumPacketSize: this.options.maxPayload + PACKET_OVERHEAD,
          topicAliasMaximum: TOPIC_ALIAS_MAX,
          wildcardSubscriptionAvailable: true,
          subscriptionIdentifiersAvailable: false,
          sharedSubscriptionAvailable: true,
        },
      });
    } else {
      conn.send({ cmd: 'connack', returnCode: ReturnCode.accepted, sessionPresent: resume });
    }
    if (resume) this.resend(session);
  }

  /**
   * A revocation while the answer was read may predate it (the cache is already
   * invalidated then, so asking again reads the new state); a few tries at most.
   */
  private async settled<T>(read: () => Promise<T>): Promise<T> {
    let seen = this.revocations;
    let answer = await read();
    for (let i = 0; i < 3 && seen !== this.revocations; i++) {
      seen = this.revocations;
      answer = await read();
    }
    return answer;
  }

  // ---- PUBLISH -----------------------------------------------------------------

  private publish(conn: Connection, packet: IPublishPacket): void | Promise<void> {
    const session = conn.session!;
    const { access, messaging } = this.options;
    let topic = packet.topic;
    const alias = packet.properties?.topicAlias;
    if (alias !== undefined) {
      if (alias === 0 || alias > TOPIC_ALIAS_MAX) return conn.close(Reason.topicAliasInvalid);
      if (topic) {
        conn.aliases ??= new Map();
        conn.aliases.set(alias, topic);
      } else {
        const known = conn.aliases?.get(alias);
        if (!known) return conn.close(Reason.protocolError);
        topic = known;
      }
    }
    const qos = packet.qos;
    const id = packet.messageId;
    if (qos === 2 && id !== undefined) {
      // A repeat of a QoS 2 publish not yet released: acknowledged again, not delivered twice.
      if (conn.qos2?.has(id)) {
        conn.send({ cmd: 'pubrec', messageId: id });
        return;
      }
      conn.qos2 ??= new Set();
      conn.qos2.add(id);
    }
    const target = parsePublishTopic(topic);
    if (!target) return this.refusePublish(conn, packet, 'topic', Reason.topicNameInvalid);
    const cached = access.peek(target.channel, session.thingId);
    if (cached === false) return this.refusePublish(conn, packet, 'access', Reason.notAuthorized);
    const go = () => {
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
      const message: Message = {
        channel: target.channel,
        subtopic: target.subtopic,
        publisher: session.thingId,
        protocol: 'mqtt',
        payload,
        created: nowNanos(),
        qos,
      };
      if (packet.properties) {
        const properties = messagePropertiesOf(packet.properties, this.now);
        if (properties) message.properties = properties;
      }
      const sent = messaging.accepted(message);
      if (sent instanceof BusError) return this.busRefused(conn, packet, sent);
      if (qos === 0 || sent === null) {
        // Delivered here at once (and to the others when the bus confirms, for QoS 0).
        sent?.catch(() => {});
        if (qos > 0) conn.send({ cmd: qos === 1 ? 'puback' : 'pubrec', messageId: id });
        return this.deliver(message, session, conn);
      }
      // Acknowledged (and delivered anywhere) once the bus has it.
      sent.then(
        () => {
          void this.deliver(message, session);
          if (conn.state === 'open') conn.send({ cmd: qos === 1 ? 'puback' : 'pubrec', messageId: id });
        },
        (err: BusError) => this.busRefused(conn, packet, err),
      );
    };
    if (cached === true) return go();
    return access.isConnected(target.channel, session.thingId).then(
      (allowed) => (allowed ? go() : this.refusePublish(conn, packet, 'access', Reason.notAuthorized)),
      (err) => {
        logFailure(this.options.logger, err, 'MQTT publish: access check failed');
        // MQTT 3.1.1 has no way to say "not now" but closing the connection.
        if (conn.version === 5 && qos > 0)
          return this.ack(conn, packet, Reason.unspecified, 'database unavailable');
        conn.close();
      },
    );
  }

  /** A publish that may not go where it was sent: it reaches nobody. */
  private refusePublish(conn: Connection, packet: IPublishPacket, reason: string, code: number): void {
    this.options.messaging.refused('mqtt', reason);
    // MQTT 3.1.1 has no negative acknowledgement: the publish is acknowledged and dropped,
    // and the connection stays. MQTT 5 says why.
    this.ack(conn, packet, conn.version === 5 ? code : Reason.success);
  }

  private ack(conn: Connection, packet: IPublishPacket, code: number, reasonString?: string): void {
    if (packet.qos === 0) return;
    const cmd = packet.qos === 1 ? 'puback' : 'pubrec';
    if (conn.version === 5) {
      conn.send({
        cmd,
        messageId: packet.messageId,
        reasonCode: code,
        ...(reasonString ? { properties: { reasonString } } : {}),
      });
    } else conn.send({ cmd, messageId: packet.messageId });
  }

  private busRefused(conn: Connection, packet: IPublishPacket, failure: BusError): void {
    const { messaging, logger } = this.options;
    if (failure.tooLarge) {
      // Over the limit every instance can carry: closed like any oversize packet.
      messaging.refused('mqtt', 'too_large');
      logger.debug({ err: failure.message }, 'MQTT publish too large for the bus');
      conn.close(Reason.packetTooLarge);
      return;
    }
    messaging.refused('mqtt', 'bus');
    if (packet.qos === 0) return;
    // No success for a message the bus did not take: MQTT 5 says so, MQTT 3.1.1 has only
    // the close (the client sends it again once connected).
    if (conn.version === 5 && conn.state === 'open')
      this.ack(conn, packet, Reason.unspecified, 'message bus unavailable');
    else conn.close();
  }

  // ---- delivery ----------------------------------------------------------------

  /**
   * Delivers a message to this instance's subscribers of its channel. `origin` is the
   * publishing session (MQTT 5 no-local). When a publisher's connection is given, its
   * next packets wait while a subscriber's socket buffer is full: the flow control a
   * publisher feels when its subscribers read slowly.
   */
  deliver(message: Message, origin: Session | null, publisher?: Connection): void | Promise<void> {
    const { access } = this.options;
    const levels = message.subtopic ? message.subtopic.split('.') : [];
    const matched: Subscription<Session>[] = [];
    const eligible = (sub: Subscription<Session>) =>
      sub.session.connection !== null && access.peek(message.channel, sub.session.thingId) !== false;
    // Across instances the bus chooses which instance serves a shared group (deliverShared).
    this.index.match(
      message.channel,
      levels,
      !this.options.messaging.sharesAcrossInstances,
      eligible,
      matched,
    );
    if (matched.length === 0) return;
    const encoded: Encoded = { message, topic: topicOf(message.channel, message.subtopic) };
    // A session with overlapping subscriptions gets the message once, at the highest QoS
    // of those that match (as MQTT 5 requires and MQTT 3.1.1 allows).
    let best: Map<Session, 0 | 1> | null = null;
    if (matched.length > 1) {
      best = new Map();
      for (const sub of matched) {
        if (sub.noLocal && sub.session === origin) continue;
        const had = best.get(sub.session);
        if (had === undefined || sub.qos > had) best.set(sub.session, sub.qos);
      }
    }
    let full: Connection[] | null = null;
    for (const sub of matched) {
      const session = sub.session;
      let granted = sub.qos;
      if (best) {
        const chosen = best.get(session);
        if (chosen === undefined) continue;
        best.delete(session);
        granted = chosen;
      } else if (sub.noLocal && session === origin) continue;
      // Last line of defence between a change and the session being closed.
      if (access.peek(message.channel, session.thingId) === false) continue;
      const qos = Math.min(message.qos ?? 0, granted) as 0 | 1;
      const conn = session.connection;
      if (qos === 0) {
        if (conn?.state !== 'open') continue;
        this.write0(conn, encoded);
      } else {
        this.send1(session, { message, sent: false });
      }
      if (conn?.state === 'open' && conn.needsDrain) {
        full ??= [];
        full.push(conn);
      }
    }
    if (!full || !publisher) return;
    return Promise.all(full.map((c) => c.drained())).then(() => undefined);
  }

  private write0(conn: Connection, encoded: Encoded): void {
    if (conn.buffered > SLOW_SUBSCRIBER_BYTES) {
      dropped.inc({ reason: 'slow' });
      conn.close(Reason.quotaExceeded, 'not reading fast enough');
      return;
    }
    const m = encoded.message;
    let bytes: Buffer;
    if (conn.version === 5) {
      const remaining = expiryLeft(m, this.now);
      if (remaining !== null && remaining <= 0) {
        dropped.inc({ reason: 'expired' });
        return;
      }
      // With an expiry the interval left is written for this moment; else shared.
      if (remaining !== null) bytes = publishBytes(encoded, 5, 0, undefined, false, this.now);
      else {
        encoded.v5 ??= publishBytes(encoded, 5, 0, undefined, false, this.now);
        bytes = encoded.v5;
      }
    } else {
      // MQTT 3.1 and 3.1.1 PUBLISH packets are the same bytes.
      encoded.v4 ??= publishBytes(encoded, 4, 0, undefined, false, this.now);
      bytes = encoded.v4;
    }
    if (bytes.length > conn.clientMaxPacket) return;
    conn.write(bytes);
  }

  /** A QoS 1 delivery: sent now if the client takes it, else queued (persistent or over its receive maximum). */
  private send1(session: Session, pending: Pending): void {
    const conn = session.connection;
    if (
      conn &&
      conn.state === 'open' &&
      session.inflight.size < conn.receiveMaximum &&
      session.queue.length === 0
    ) {
      this.transmit(conn, session, pending);
      return;
    }
    if (!conn && session.expirySeconds === 0) return;
    if (session.enqueue(pending, this.options.queueMax)) dropped.inc({ reason: 'queue_full' });
  }

  private transmit(conn: Connection, session: Session, pending: Pending): void {
    const m = pending.message;
    const remaining = expiryLeft(m, this.now);
    if (remaining !== null && remaining <= 0) {
      dropped.inc({ reason: 'expired' });
      return;
    }
    const id = session.allocateId();
    const bytes = publishBytes(
      { message: m, topic: topicOf(m.channel, m.subtopic) },
      conn.version,
      1,
      id,
      pending.sent,
      this.now,
    );
    if (bytes.length > conn.clientMaxPacket) return;
    pending.sent = true;
    session.inflight.set(id, pending);
    conn.write(bytes);
  }

  private acknowledged(conn: Connection, id: number | undefined): void {
    const session = conn.session!;
    if (id !== undefined) session.inflight.delete(id);
    this.flushQueue(session);
  }

  /** Sends what the session's queue holds, as far as the client takes it. */
  private flushQueue(session: Session): void {
    const conn = session.connection;
    if (conn?.state !== 'open') return;
    while (session.queue.length > 0 && session.inflight.size < conn.receiveMaximum) {
      this.transmit(conn, session, session.queue.shift()!);
    }
  }

  /** After a persistent session is resumed: unacknowledged messages again (DUP), then the queue. */
  private resend(session: Session): void {
    const unacknowledged = [...session.inflight.values()];
    session.inflight.clear();
    session.queue = [...unacknowledged, ...session.queue];
    this.flushQueue(session);
  }

  private async publishWill(session: Session, will: Will): Promise<void> {
    const { access, messaging, logger } = this.options;
    const target = parsePublishTopic(will.topic);
    if (!target) return;
    try {
      // Only where the thing may publish now.
      if (!(await access.isConnected(target.channel, session.thingId))) {
        messaging.refused('mqtt', 'will');
        return;
      }
    } catch (err) {
      logFailure(logger, err, 'MQTT will: access check failed');
      return;
    }
    const message: Message = {
      channel: target.channel,
      subtopic: target.subtopic,
      publisher: session.thingId,
      protocol: 'mqtt',
      payload: will.payload,
      created: nowNanos(),
      qos: will.qos,
      ...(will.properties ? { properties: will.properties } : {}),
    };
    const sent = messaging.accepted(message);
    if (sent instanceof BusError) return;
    try {
      await sent;
    } catch {
      return;
    }
    void this.deliver(message, session);
  }

  // ---- SUBSCRIBE ---------------------------------------------------------------

  private subscribe(conn: Connection, packet: ISubscribePacket): void | Promise<void> {
    const session = conn.session!;
    const { access, logger } = this.options;
    const checks = packet.subscriptions.map((s) => {
      const parsed = parseFilter(s.topic);
      if (!parsed) return Reason.topicFilterInvalid;
      // MQTT 5: no-local on a shared subscription is a protocol error.
      if (parsed.group !== null && s.nl) return -1;
      const channel = parsed.channel.toLowerCase();
      const cached = access.peek(channel, session.thingId);
      if (cached !== undefined) return cached ? Reason.success : Reason.notAuthorized;
      return access.isConnected(channel, session.thingId).then(
        (ok) => (ok ? Reason.success : Reason.notAuthorized),
        (err) => {
          logFailure(logger, err, 'MQTT subscribe: access check failed');
          return Reason.unspecified;
        },
      );
    });
    const finish = (results: number[]) => {
      if (results.includes(-1)) return conn.close(Reason.protocolError);
      if (conn.state !== 'open') return;
      const granted = packet.subscriptions.map((s, i) => {
        const result = results[i]!;
        if (result !== Reason.success) return conn.version === 5 ? result : 0x80;
        const qos = Math.min(s.qos, 1) as 0 | 1;
        this.addSubscription(session, s.topic, qos, Boolean(s.nl));
        return qos;
      });
      conn.send({ cmd: 'suback', messageId: packet.messageId, granted });
    };
    if (checks.every((c) => typeof c === 'number')) return finish(checks as number[]);
    return Promise.all(checks).then(finish);
  }

  private addSubscription(session: Session, filter: string, qos: 0 | 1, noLocal: boolean): void {
    const parsed = parseFilter(filter)!;
    const existing = session.subscriptions.get(filter);
    if (existing) this.removeSubscription(existing);
    const sub: Subscription<Session> = {
      session,
      filter,
      channel: parsed.channel,
      levels: parsed.levels,
      qos,
      noLocal,
      group: parsed.group,
    };
    session.subscriptions.set(filter, sub);
    this.index.add(sub);
    if (sub.group !== null && this.options.messaging.sharesAcrossInstances) {
      const key = groupKey(sub.group, filter);
      if (!this.joined.has(key)) {
        const group = sub.group;
        this.joined.set(
          key,
          this.options.messaging.joinShared(group, parsed.channel, parsed.levels, (m) =>
            this.deliverShared(group, filter, m),
          ),
        );
      }
    }
  }

  /** The index lost a subscription: a shared group with no member left here is left on the bus. */
  private removeSubscription(sub: Subscription<Session>): void {
    this.index.remove(sub);
    if (sub.group === null) return;
    const key = groupKey(sub.group, sub.filter);
    if (this.index.groupMembers(sub.group, sub.filter).length > 0) return;
    this.joined.get(key)?.();
    this.joined.delete(key);
  }

  /** A message the bus chose this instance for, for one member of a shared group. */
  private deliverShared(group: string, filter: string, message: Message): void {
    const { access } = this.options;
    const eligible = (sub: Subscription<Session>) =>
      sub.session.connection !== null && access.peek(message.channel, sub.session.thingId) !== false;
    const sub = this.index.pick(groupKey(group, filter), eligible);
    if (!sub) return;
    const qos = Math.min(message.qos ?? 0, sub.qos) as 0 | 1;
    if (qos === 1) {
      this.send1(sub.session, { message, sent: false });
      return;
    }
    const conn = sub.session.connection;
    if (conn && conn.state === 'open')
      this.write0(conn, { message, topic: topicOf(message.channel, message.subtopic) });
  }

  private unsubscribe(conn: Connection, packet: IUnsubscribePacket): void {
    const session = conn.session!;
    const codes = packet.unsubscriptions.map((filter) => {
      const sub = session.subscriptions.get(filter);
      if (!sub) return 0x11; // no subscription existed
      session.subscriptions.delete(filter);
      this.removeSubscription(sub);
      return Reason.success;
    });
    if (conn.version === 5) conn.send({ cmd: 'unsuback', messageId: packet.messageId, granted: codes });
    else conn.send({ cmd: 'unsuback', messageId: packet.messageId } as never);
  }

  // ---- sessions ------------------------------------------------------------------

  /** Forgets a session: its subscriptions, its queue, its timers. */
  private discard(session: Session): void {
    session.clearTimers();
    for (const sub of session.subscriptions.values()) this.removeSubscription(sub);
    session.subscriptions.clear();
    session.queue = [];
    session.inflight.clear();
    if (this.sessions.get(session.key) === session) this.sessions.delete(session.key);
    const set = this.byThing.get(session.thingId);
    set?.delete(session);
    if (set && set.size === 0) this.byThing.delete(session.thingId);
  }

  private expire(session: Session): void {
    session.expiryTimer = null;
    if (session.connection) return;
    const will = session.will;
    session.will = null;
    if (session.willTimer) {
      clearTimeout(session.willTimer);
      session.willTimer = null;
      if (will) void this.publishWill(session, will);
    }
    this.discard(session);
  }

  /** Keep-alive and CONNECT timeouts, checked once a second for every connection. */
  private sweep(): void {
    this.now = Date.now();
    for (const conn of this.connections) {
      if (conn.state === 'new' || conn.state === 'connecting') {
        if (this.now - conn.openedAt > CONNECT_TIMEOUT_MS) conn.destroy();
      } else if (conn.keepaliveMs > 0 && this.now - conn.lastSeen > conn.keepaliveMs * 1.5) {
        conn.close(Reason.keepAliveTimeout);
      }
    }
  }

  // ---- revocation ----------------------------------------------------------------

  private subscribeEvents(): void {
    const { events } = this.options;
    const every = { everyInstance: true };
    events.on('thing.removed', ({ id }) => this.revoke(id, 'thing removed'), every);
    events.on('thing.key_changed', ({ id }) => this.revoke(id, 'thing key changed'), every);
    events.on(
      'connection.removed',
      ({ thingId, channelId }) => this.revoke(thingId, 'disconnected from a channel', { channel: channelId }),
      every,
    );
    events.on(
      'cert.revoked',
      ({ thingId, serial }) => this.revoke(thingId, 'certificate revoked', { serial }),
      every,
    );
    events.on(
      'caches.stale',
      () => {
        this.revocations++;
        // One check of every session at a time: a second waits for the first.
        this.checking = this.checking
          .then(() => this.revalidate())
          .catch((err) => this.options.logger.error({ err }, 'checking MQTT sessions again failed'));
      },
      every,
    );
  }

  /**
   * A thing's access may have been revoked: its live sessions end at once (no will),
   * with MQTT 5's "not authorized" and why. Kept sessions forget what they may no longer
   * receive: all of it, or the channel's subscriptions and queued messages.
   */
  private revoke(thingId: string, why: string, only: { channel?: string; serial?: string } = {}): void {
    this.revocations++;
    // Events may carry the id as the caller typed it (PATCH /things/{ID}/key); sessions hold it lower-cased.
    const sessions = this.byThing.get(thingId.toLowerCase());
    if (!sessions) return;
    for (const session of [...sessions]) {
      if (only.serial && sameSerial(session.credential.serial, only.serial) === false) continue;
      const conn = session.connection;
      if (conn) {
        conn.noWill = true;
        conn.close(Reason.notAuthorized, why);
      }
      if (only.channel) {
        const channel = only.channel.toLowerCase();
        for (const [filter, sub] of session.subscriptions) {
          if (sub.channel.toLowerCase() !== channel) continue;
          session.subscriptions.delete(filter);
          this.removeSubscription(sub);
        }
        session.queue = session.queue.filter((p) => p.message.channel !== channel);
        for (const [id, p] of session.inflight)
          if (p.message.channel === channel) session.inflight.delete(id);
        if (session.will && parsePublishTopic(session.will.topic)?.channel === channel) session.will = null;
      } else {
        session.will = null;
        this.discard(session);
      }
    }
  }

  /** Resolves once the checks of every session started so far (caches went stale) are done. */
  sessionsChecked(): Promise<void> {
    return this.checking;
  }

  /**
   * Revocations made elsewhere while the bus was down never arrived: every session is
   * checked as at CONNECT and SUBSCRIBE (key or certificate, then each channel it
   * subscribed to), and those that no longer pass are revoked. A session whose check
   * cannot be made now (the database is away too) stays.
   */
  private async revalidate(): Promise<void> {
    const { access, certificates, logger } = this.options;
    const sessions = [...this.sessions.values()];
    let closed = 0;
    const check = async (s: Session) => {
      try {
        const thingId = s.credential.serial
          ? await certificates?.activeThing(s.credential.serial)
          : s.credential.key
            ? await access.identify(s.credential.key)
            : null;
        if (thingId !== s.thingId) {
          closed++;
          this.revoke(
            s.thingId,
            'access changed while the bus was away',
            s.credential.serial ? { serial: s.credential.serial } : {},
          );
          return;
        }
        for (const sub of [...s.subscriptions.values()]) {
          if (!(await access.isConnected(sub.channel.toLowerCase(), s.thingId))) {
            closed++;
            this.revoke(s.thingId, 'disconnected from a channel', { channel: sub.channel });
            return;
          }
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

  // ---- shutdown ------------------------------------------------------------------

  /** Stops listening and ends every session (MQTT 5: "server shutting down"); wills are not published. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearInterval(this.sweeper);
    const servers = Promise.all(
      this.servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            if ('closeAllConnections' in s) (s as http.Server).closeAllConnections();
          }),
      ),
    );
    for (const conn of [...this.connections]) {
      conn.noWill = true;
      conn.close(Reason.serverShuttingDown);
    }
    for (const ws of this.wss.clients) ws.terminate();
    for (const session of [...this.sessions.values()]) this.discard(session);
    // Sockets that do not close their side are destroyed a second after their end.
    await Promise.race([servers, new Promise((r) => setTimeout(r, 1500))]);
    for (const conn of [...this.connections]) conn.destroy();
  }
}

function willOf(will: NonNullable<IConnectPacket['will']>): Will {
  const payload = Buffer.isBuffer(will.payload) ? Buffer.from(will.payload) : Buffer.from(will.payload ?? '');
  const out: Will = {
    topic: will.topic,
    payload,
    qos: (will.qos ?? 0) as 0 | 1 | 2,
    delaySeconds: will.properties?.willDelayInterval ?? 0,
  };
  const properties = will.properties ? messagePropertiesOf(will.properties, Date.now()) : undefined;
  if (properties) out.properties = properties;
  return out;
}

/** The MQTT 5 properties Tethys forwards, from a PUBLISH (or a will). */
function messagePropertiesOf(
  p: {
    contentType?: string;
    payloadFormatIndicator?: boolean;
    userProperties?: UserProperties;
    messageExpiryInterval?: number;
    responseTopic?: string;
    correlationData?: Buffer;
  },
  now: number,
): MessageProperties | undefined {
  const out: MessageProperties = {};
  if (p.contentType !== undefined) out.contentType = p.contentType;
  if (p.payloadFormatIndicator !== undefined) out.payloadFormatIndicator = p.payloadFormatIndicator;
  if (p.userProperties) {
    const pairs: [string, string][] = [];
    for (const [name, value] of Object.entries(p.userProperties)) {
      for (const v of Array.isArray(value) ? value : [value]) pairs.push([name, String(v)]);
    }
    out.userProperties = pairs;
  }
  if (p.messageExpiryInterval !== undefined) out.expiresAt = now + p.messageExpiryInterval * 1000;
  if (p.responseTopic !== undefined) out.responseTopic = p.responseTopic;
  if (p.correlationData !== undefined) out.correlationData = Buffer.from(p.correlationData);
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Seconds left before a message expires (rounded up), or null when it does not. */
function expiryLeft(m: Message, now: number): number | null {
  const at = m.properties?.expiresAt;
  return at === undefined ? null : Math.ceil((at - now) / 1000);
}

/** A PUBLISH as bytes for a client of this version: MQTT 5 clients get the forwarded properties. */
function publishBytes(
  e: Encoded,
  version: ProtocolVersion,
  qos: 0 | 1,
  messageId: number | undefined,
  dup: boolean,
  now: number,
): Buffer {
  const packet: IPublishPacket = {
    cmd: 'publish',
    topic: e.topic,
    payload: e.message.payload,
    qos,
    dup,
    retain: false,
    ...(messageId !== undefined ? { messageId } : {}),
  };
  const p = e.message.properties;
  if (version === 5 && p) {
    const props: NonNullable<IPublishPacket['properties']> = {};
    if (p.contentType !== undefined) props.contentType = p.contentType;
    if (p.payloadFormatIndicator !== undefined) props.payloadFormatIndicator = p.payloadFormatIndicator;
    if (p.responseTopic !== undefined) props.responseTopic = p.responseTopic;
    if (p.correlationData !== undefined) props.correlationData = p.correlationData;
    if (p.expiresAt !== undefined)
      props.messageExpiryInterval = Math.max(0, Math.ceil((p.expiresAt - now) / 1000));
    if (p.userProperties?.length) {
      const user: UserProperties = {};
      for (const [name, value] of p.userProperties) {
        const had = user[name];
        user[name] = had === undefined ? value : Array.isArray(had) ? [...had, value] : [had, value];
      }
      props.userProperties = user;
    }
    packet.properties = props;
  }
  return encode(packet, version);
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
