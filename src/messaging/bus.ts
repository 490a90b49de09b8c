import crypto from 'node:crypto';
import {
  type ConsumerMessages,
  DeliverPolicy,
  DiscardPolicy,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import {
  connect,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  headers as natsHeaders,
} from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { AuditEvent } from '../audit/types.js';
import type { DomainEvents, EventHub } from '../events.js';

/** What the bus needs of the audit trail (AuditLog). */
export interface AuditStream {
  stream?: (events: AuditEvent[]) => void;
  deliver(events: AuditEvent[]): void;
}

import { decodeMessage, encodeMessage, type Message, type MessageProperties, subjectOf } from './message.js';

/**
 * What travels between Tethys instances: accepted messages (so a subscriber on any
 * instance gets them) and domain events (so every instance's caches and live sessions
 * follow a change made on another). One instance needs neither: the in-process bus
 * delivers nothing anywhere else.
 */
export interface Bus {
  readonly instanceId: string;
  /**
   * Hands a message to the other instances. Returns a BusError at once when the bus
   * cannot take it (too large, not connected); null when there is nothing to wait for
   * (no other instance); otherwise a promise that resolves once the bus has it (for
   * NATS: the server answered a PING sent after it), or rejects with a BusError when
   * that is not confirmed (the connection broke, no answer in time).
   */
  publish(message: Message): BusError | Promise<void> | null;
  onMessage(handler: (message: Message) => void): void;
  /**
   * Streams the audit trail's committed events to NATS (`tethys.events.<action>`) and
   * hands other instances' events to this one's listeners. In-process: nothing to do,
   * the trail's listeners are this process's.
   */
  carryAudit(audit: AuditStream): void;
  /** The largest message payload the bus carries (bytes), or null when it has no limit of its own. */
  payloadLimit(): number | null;
  /** What /health reports: `in-process`, or whether the connection to NATS is up. */
  state(): 'in-process' | 'connected' | 'disconnected';
  /**
   * True when shared subscription groups span instances (NATS): each message of a group's
   * filter goes to one instance that joined the group (joinShared), which hands it to
   * one of its members. False: the broker shares among its own members.
   */
  readonly sharesAcrossInstances: boolean;
  /**
   * Joins a shared subscription group (`$share/<group>/<filter>`) for this instance: the
   * handler gets the group's messages this instance was chosen for. Returns the leave.
   */
  joinShared(
    group: string,
    channel: string,
    levels: string[],
    handler: (message: Message) => void,
  ): () => void;
  close(): Promise<void>;
}

/** The bus refused a message: too large for it, or not connected. */
export class BusError extends Error {
  constructor(
    message: string,
    readonly tooLarge: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BusError';
  }
}

export const BUS_UNAVAILABLE = 'message bus unavailable';

export class InProcessBus implements Bus {
  readonly instanceId = crypto.randomUUID();
  readonly sharesAcrossInstances = false;
  joinShared(): () => void {
    return () => {};
  }
  publish(): null {
    return null;
  }
  onMessage(): void {}
  carryAudit(): void {}
  state(): 'in-process' {
    return 'in-process';
  }
  payloadLimit(): number | null {
    return null;
  }
  async close(): Promise<void> {}
}

/**
 * Bytes a message takes on NATS besides its payload: the protobuf fields (channel and
 * publisher ids, protocol, time, a subtopic of ordinary length) and the origin header.
 */
const ENVELOPE_ALLOWANCE = 1024;

const ORIGIN = 'Tethys-Origin';
/** The QoS a message was published with (absent: 0). */
const QOS = 'Tethys-Qos';
/** MQTT 5 properties, as base64 JSON (see propertiesHeader). */
const PROPERTIES = 'Tethys-Properties';
/** Changes that caches of other instances must learn of (DomainEvents). */
const EVENTS_SUBJECT = 'tethys.internal.changes';
/** The audit trail's stream: `tethys.events.<entity_type>.<verb>`, JSON as GET /events answers each. */
const AUDIT_PREFIX = 'tethys.events.';

/**
 * How long after a reconnect this instance refuses publishes: every instance's client
 * retries every RECONNECT_WAIT_MS (plus up to RECONNECT_JITTER_MS), so once NATS is
 * back the others have resubscribed within that time. A message accepted earlier could
 * reach NATS before another instance's subscription and be lost for its subscribers.
 */
const RECONNECT_WAIT_MS = 250;
const RECONNECT_JITTER_MS = 100;
const RESUBSCRIBE_GRACE_MS = 2 * (RECONNECT_WAIT_MS + RECONNECT_JITTER_MS) + 300;
/** How long a pull request of the stream's consumer lasts (see consumeStream). */
const PULL_EXPIRES_MS = 2000;
/** A publish not confirmed by NATS within this time answers 503. */
const CONFIRM_TIMEOUT_MS = 2000;
/** PINGs every PING_INTERVAL_MS; MAX_PINGS_OUT unanswered ones mean a hung server: reconnect. */
const PING_INTERVAL_MS = 2000;
const MAX_PINGS_OUT = 2;

interface Batch {
  messages: { subject: string; data: Uint8Array; headers: MsgHdrs }[];
  confirmed: Promise<void>;
  resolve(): void;
  reject(err: BusError): void;
}

/** The JetStream stream that keeps messages for instances that were away (see NatsBus). */
export const STREAM = {
  name: 'TETHYS_MESSAGES',
  /** Long enough for an instance to reconnect; the disk it may take is bounded too. */
  maxAgeNs: 2 * 60 * 1e9,
  maxBytes: 1024 ** 3,
  /** A retried publish with the same id within this time is stored once. */
  duplicateWindowNs: 2 * 60 * 1e9,
};

/**
 * NATS: messages on `channels.<id>[.<subtopic>]` as Mainflux's protobuf (readable by
 * Mainflux-style consumers), domain events as JSON on `tethys.internal.changes`, audit events on `tethys.events.>`. Each carries its
 * instance in a header, and an instance ignores its own.
 *
 * With JetStream on the server (nats-server -js), messages go to a stream on
 * `channels.>` (STREAM; created when missing) and a publish is acknowledged once the
 * stream stored it: the messages of one loop iteration are published in order and the
 * last one with a PubAck, which the stream sends once it stored it and, storing one
 * connection's messages in order, all before it. Each instance reads the stream with an
 * ordered consumer,
 * which after a disconnect, or a crash of nats-server, resumes after the last message it
 * had: nothing acknowledged is lost. Plain NATS subscribers see every message as before.
 *
 * Without JetStream, core NATS: a message is acknowledged once NATS has it (the messages
 * of one loop iteration go out together followed by a PING, and are confirmed by its
 * PONG: NATS handles a connection's commands in order). nats.js drops what it holds
 * unsent when a connection breaks and does not say so; while disconnected (and for a
 * moment after reconnecting, see RESUBSCRIBE_GRACE_MS) publishes are refused, and a
 * batch whose PONG does not come is refused too. Core NATS keeps nothing: a message it
 * confirmed and had not yet written to another instance is lost if it crashes.
 *
 * Invalidations (domain events) sent while the connection was down are lost the same
 * way, here or on the other side: when it is back, this instance and every other one
 * forget their caches and check their live sessions again ('caches.stale').
 */
export class NatsBus implements Bus {
  readonly instanceId = crypto.randomUUID();
  private handlers: ((m: Message) => void)[] = [];
  /** The origin header of every message and event of this instance, and its encoded size. */
  private origin: MsgHdrs;
  private originBytes: number;
  /** Messages accepted in this loop iteration, published together (see publish). */
  private batch: Batch | null = null;
  private connected = true;
  /** Publishes are taken from this time on (after a reconnect: see RESUBSCRIBE_GRACE_MS). */
  private acceptFrom = 0;
  private closing = false;

  readonly sharesAcrossInstances = true;
  /** The stream's client when the server has JetStream, else null (core NATS). */
  private js: JetStreamClient | null = null;
  private consumed: ConsumerMessages | null = null;

  private constructor(
    private nc: NatsConnection,
    /** A second connection, with echo: shared subscription groups (joinShared). */
    private shared: NatsConnection,
    private events: EventHub,
    private log: Logger,
  ) {
    this.origin = natsHeaders();
    this.origin.set(ORIGIN, this.instanceId);
    // NATS/1.0 header block as nats.js encodes it for HPUB.
    this.originBytes = Buffer.byteLength(`NATS/1.0\r\n${ORIGIN}: ${this.instanceId}\r\n\r\n`);
  }

  static async connect(
    url: string,
    events: EventHub,
    log: Logger,
    mode: 'auto' | 'on' | 'off' = 'auto',
  ): Promise<NatsBus> {
    // noEcho: NATS does not send this connection's own publications back to it.
    const options = {
      servers: url,
      maxReconnectAttempts: -1,
      reconnectTimeWait: RECONNECT_WAIT_MS,
      reconnectJitter: RECONNECT_JITTER_MS,
      pingInterval: PING_INTERVAL_MS,
      maxPingOut: MAX_PINGS_OUT,
    };
    const nc = await connect({ ...options, name: 'tethys', noEcho: true });
    const shared = await connect({ ...options, name: 'tethys-shared' });
    const bus = new NatsBus(nc, shared, events, log);
    const stream = mode === 'off' ? null : await openStream(nc, log);
    if (mode === 'on' && !stream) {
      await Promise.all([nc.close(), shared.close()]);
      throw new Error(
        'TETHYS_NATS_JETSTREAM=on, but the NATS server has no JetStream (run nats-server with -js)',
      );
    }
    if (stream) {
      bus.js = stream;
      await bus.consumeStream();
    } else {
      bus.subscribeMessages();
    }
    bus.bridgeEvents();
    void bus.followStatus();
    log.info({ url, jetstream: Boolean(stream) }, 'message bus: NATS');
    return bus;
  }

  /** `jetstream` (messages kept in a stream) or `core` (see the class comment). */
  get mode(): 'jetstream' | 'core' {
    return this.js ? 'jetstream' : 'core';
  }

  /**
   * Reads the stream from now on with an ordered consumer: nats.js recreates it after a
   * reconnect or a lost consumer, starting after the last message delivered here.
   */
  private async consumeStream(): Promise<void> {
    const consumer = await this.js!.consumers.get(STREAM.name, { deliver_policy: DeliverPolicy.New });
    // Pull requests that expire quickly (and heartbeats within them): after nats-server
    // restarts, the request it lost is noticed and made again within a couple of seconds.
    const messages = await consumer.consume({ expires: PULL_EXPIRES_MS });
    this.consumed = messages;
    void (async () => {
      for await (const m of messages) {
        if (m.headers?.get(ORIGIN) === this.instanceId) continue;
        const message = this.read(m as unknown as Msg);
        if (message) for (const h of this.handlers) h(message);
      }
    })().catch((err) => this.log.error({ err }, 'reading the message stream failed'));
  }

  state(): 'connected' | 'disconnected' {
    return this.available() ? 'connected' : 'disconnected';
  }

  private available(): boolean {
    return this.connected && !this.nc.isClosed() && Date.now() >= this.acceptFrom;
  }

  private async followStatus(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === 'disconnect') {
        if (!this.connected) continue;
        this.connected = false;
        this.log.warn(
          { server: status.server },
          'message bus disconnected: publishes answer 503 until it is back',
        );
        this.failBatch();
        // Caches filled from now on may miss changes made elsewhere; forgotten again on reconnect.
        this.staleLocally();
      } else if (status.type === 'reconnect') {
        this.connected = true;
        // The stream's consumers resume where they were; core subscriptions need a moment.
        this.acceptFrom = this.js ? 0 : Date.now() + RESUBSCRIBE_GRACE_MS;
        this.log.info({ server: status.server }, 'message bus reconnected');
        this.staleLocally();
        // The others may have missed this instance's invalidations (or NATS did not see them).
        this.sendEvent('caches.stale', {});
      } else if (status.type === 'close') {
        this.connected = false;
        this.failBatch();
      }
    }
  }

  private staleLocally(): void {
    this.events
      .applyRemote('caches.stale', {})
      .catch((err) => this.log.error({ err }, 'forgetting the caches failed'));
  }

  /**
   * Checks now what nats.js would refuse (no connection, a message over the server's
   * max_payload), so the caller can refuse the message; hands it to nats.js once the
   * loop has read its input, with every other message of this iteration: one socket
   * write and one PING for all of them.
   */
  publish(message: Message): BusError | Promise<void> {
    const data = encodeMessage(message);
    const max = this.nc.info?.max_payload;
    const headers = this.headersOf(message);
    const headerBytes = headers === this.origin ? this.originBytes : headerSize(headers);
    if (max !== undefined && data.length + headerBytes > max) {
      return new BusError(
        `a ${message.payload.length}-byte message is over the message bus limit (nats-server max_payload ${max})`,
        true,
      );
    }
    if (!this.available()) return new BusError(BUS_UNAVAILABLE, false);
    const subject = subjectOf(message.channel, message.subtopic);
    let batch = this.batch;
    if (!batch) {
      let resolve!: () => void;
      let reject!: (err: BusError) => void;
      const confirmed = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      // Publishers that do not wait (MQTT QoS 0) must not make an unhandled rejection.
      confirmed.catch(() => {});
      batch = { messages: [], confirmed, resolve, reject };
      this.batch = batch;
      setImmediate(() => this.send());
    }
    batch.messages.push({ subject, data, headers });
    return batch.confirmed;
  }

  private send(): void {
    const batch = this.batch;
    this.batch = null;
    if (!batch) return;
    if (!this.available() && !this.closing) {
      batch.reject(new BusError(BUS_UNAVAILABLE, false));
      return;
    }
    const js = this.js;
    if (js) {
      // The stream stores one connection's messages in the order it sent them: the last
      // one's PubAck says every one before it is stored too.
      const last = batch.messages.length - 1;
      try {
        for (let i = 0; i < last; i++) {
          const m = batch.messages[i]!;
          this.nc.publish(m.subject, m.data, { headers: m.headers });
        }
      } catch (err) {
        batch.reject(new BusError(BUS_UNAVAILABLE, false, { cause: err }));
        return;
      }
      const m = batch.messages[last]!;
      js.publish(m.subject, m.data, { headers: m.headers, timeout: CONFIRM_TIMEOUT_MS }).then(
        () => batch.resolve(),
        (err) => batch.reject(new BusError(BUS_UNAVAILABLE, false, { cause: err })),
      );
      return;
    }
    try {
      for (const m of batch.messages) this.nc.publish(m.subject, m.data, { headers: m.headers });
    } catch (err) {
      batch.reject(new BusError(BUS_UNAVAILABLE, false, { cause: err }));
      return;
    }
    const timer = setTimeout(
      () => batch.reject(new BusError(`${BUS_UNAVAILABLE}: no confirmation in time`, false)),
      CONFIRM_TIMEOUT_MS,
    );
    this.nc.flush().then(
      () => {
        clearTimeout(timer);
        batch.resolve();
      },
      (err) => {
        clearTimeout(timer);
        batch.reject(new BusError(BUS_UNAVAILABLE, false, { cause: err }));
      },
    );
  }

  /** The batch not yet sent when the connection broke: nats.js would drop it unsent. */
  private failBatch(): void {
    const batch = this.batch;
    this.batch = null;
    batch?.reject(new BusError(BUS_UNAVAILABLE, false));
  }

  payloadLimit(): number | null {
    const max = this.nc.info?.max_payload;
    return max ? Math.max(0, max - ENVELOPE_ALLOWANCE) : null;
  }

  onMessage(handler: (message: Message) => void): void {
    this.handlers.push(handler);
  }

  private subscribeMessages(): void {
    this.nc.subscribe('channels.>', {
      callback: (err, msg) => {
        if (err || msg.headers?.get(ORIGIN) === this.instanceId) return;
        const message = this.read(msg);
        if (message) for (const h of this.handlers) h(message);
      },
    });
  }

  /** A message from the bus, with its QoS and properties, or null when undecodable. */
  private read(msg: Msg): Message | null {
    let message: Message;
    try {
      message = decodeMessage(Buffer.from(msg.data));
      const qos = msg.headers?.get(QOS);
      if (qos === '1' || qos === '2') message.qos = Number(qos) as 1 | 2;
      const properties = msg.headers?.get(PROPERTIES);
      if (properties) message.properties = parseProperties(properties);
    } catch (e) {
      this.log.warn({ subject: msg.subject, err: (e as Error).message }, 'undecodable message on the bus');
      return null;
    }
    return message;
  }

  /** The headers of a message: the shared origin block, or its own when it carries QoS or properties. */
  private headersOf(message: Message): MsgHdrs {
    const qos = message.qos ?? 0;
    if (qos === 0 && !message.properties) return this.origin;
    const h = natsHeaders();
    h.set(ORIGIN, this.instanceId);
    if (qos > 0) h.set(QOS, String(qos));
    if (message.properties) h.set(PROPERTIES, propertiesHeader(message.properties));
    return h;
  }

  joinShared(
    group: string,
    channel: string,
    levels: string[],
    handler: (message: Message) => void,
  ): () => void {
    // A queue group per (group, filter): NATS hands each message to one member of it, and
    // every instance with members of the group joins it. On the echoing connection, so
    // that this instance's own messages take part in the choice too.
    const queue = `tethys.share.${crypto
      .createHash('sha256')
      .update(`${group}\u0000${channel}\u0000${levels.join('/')}`)
      .digest('hex')
      .slice(0, 24)}`;
    const subjects = natsSubjects(channel, levels);
    const subs = subjects.map((subject) =>
      this.shared.subscribe(subject, {
        queue,
        callback: (err, msg) => {
          if (err) return;
          const message = this.read(msg);
          if (message) handler(message);
        },
      }),
    );
    return () => {
      for (const sub of subs) sub.unsubscribe();
    };
  }

  private sendEvent(name: keyof DomainEvents, event: unknown): void {
    try {
      this.nc.publish(EVENTS_SUBJECT, JSON.stringify({ name, event }), { headers: this.origin });
    } catch (err) {
      this.log.error({ err, event: name }, 'could not tell the other instances of a change');
    }
  }

  carryAudit(audit: AuditStream): void {
    audit.stream = (events) => {
      for (const event of events)
        this.nc.publish(`${AUDIT_PREFIX}${event.action}`, JSON.stringify(event), { headers: this.origin });
    };
    this.nc.subscribe(`${AUDIT_PREFIX}>`, {
      callback: (err, msg) => {
        if (err || msg.headers?.get(ORIGIN) === this.instanceId) return;
        try {
          audit.deliver([JSON.parse(Buffer.from(msg.data).toString()) as AuditEvent]);
        } catch {
          this.log.warn({ subject: msg.subject }, 'undecodable audit event on the bus');
        }
      },
    });
  }

  private bridgeEvents(): void {
    // The change is committed: failing the request now would not undo it. An event
    // lost with a broken connection is covered by 'caches.stale' when it is back.
    this.events.forward = async (name, event) => this.sendEvent(name, event);
    this.nc.subscribe(EVENTS_SUBJECT, {
      callback: (err, msg) => {
        if (err || msg.headers?.get(ORIGIN) === this.instanceId) return;
        try {
          const { name, event } = JSON.parse(Buffer.from(msg.data).toString()) as {
            name: keyof DomainEvents;
            event: never;
          };
          this.events
            .applyRemote(name, event)
            .catch((e) => this.log.error({ err: e }, 'applying a remote event failed'));
        } catch {
          this.log.warn('undecodable event on the bus');
        }
      },
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    this.send();
    await this.consumed?.close().catch(() => {});
    await Promise.all([this.nc, this.shared].map(finish));
  }
}

/**
 * The stream's client, creating the stream when it is missing (an existing one is left
 * as its operator set it); null when the server has no JetStream.
 */
async function openStream(nc: NatsConnection, log: Logger): Promise<JetStreamClient | null> {
  let jsm: JetStreamManager;
  try {
    jsm = await jetstreamManager(nc, { timeout: CONFIRM_TIMEOUT_MS });
  } catch (err) {
    log.warn(
      { err: (err as Error).message },
      'NATS has no JetStream: core NATS (a crash of nats-server can lose messages it confirmed)',
    );
    return null;
  }
  try {
    await jsm.streams.info(STREAM.name);
  } catch {
    try {
      await jsm.streams.add({
        name: STREAM.name,
        subjects: ['channels.>'],
        storage: StorageType.File,
        retention: RetentionPolicy.Limits,
        discard: DiscardPolicy.Old,
        max_age: STREAM.maxAgeNs,
        max_bytes: STREAM.maxBytes,
        duplicate_window: STREAM.duplicateWindowNs,
      });
    } catch (err) {
      // Another instance made it meanwhile.
      await jsm.streams.info(STREAM.name).catch(() => {
        throw err;
      });
    }
  }
  return jetstream(nc, { timeout: CONFIRM_TIMEOUT_MS });
}

/** How long a closing connection may take to drain before it is closed as it is. */
const DRAIN_TIMEOUT_MS = 2000;

/**
 * Drains a connection (its subscriptions finish, what was published is flushed), then
 * closes it. A connection that cannot drain (it is reconnecting to a server that is
 * gone) is closed anyway: left open, nats.js would go on dialling forever.
 */
async function finish(nc: NatsConnection): Promise<void> {
  if (nc.isClosed()) return;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, DRAIN_TIMEOUT_MS);
  });
  await Promise.race([nc.drain().catch(() => {}), late]);
  clearTimeout(timer);
  if (!nc.isClosed()) await nc.close().catch(() => {});
}

/** The NATS subjects of an MQTT filter on a channel: `+` is `*`; a trailing `#` is `>` and the parent level. */
function natsSubjects(channel: string, levels: string[]): string[] {
  const base = `channels.${channel}`;
  const mapped = levels.map((l) => (l === '+' ? '*' : l === '#' ? '>' : l));
  if (mapped.length === 0) return [base];
  if (mapped[mapped.length - 1] === '>') {
    const parent = mapped.slice(0, -1);
    return [[base, ...mapped].join('.'), [base, ...parent].join('.')];
  }
  return [[base, ...mapped].join('.')];
}

/** The header block's size as nats.js encodes it for HPUB. */
function headerSize(h: MsgHdrs): number {
  let n = 'NATS/1.0\r\n\r\n'.length;
  for (const [k, values] of h) for (const v of values) n += Buffer.byteLength(`${k}: ${v}\r\n`);
  return n;
}

/** MQTT 5 properties in one header: base64 of a JSON object (header values are one line of ASCII). */
function propertiesHeader(p: MessageProperties): string {
  const json = {
    ...p,
    ...(p.correlationData ? { correlationData: p.correlationData.toString('base64') } : {}),
  };
  return Buffer.from(JSON.stringify(json)).toString('base64');
}

function parseProperties(header: string): MessageProperties {
  const raw = JSON.parse(Buffer.from(header, 'base64').toString()) as Record<string, unknown>;
  const out: MessageProperties = {};
  if (typeof raw.contentType === 'string') out.contentType = raw.contentType;
  if (typeof raw.payloadFormatIndicator === 'boolean')
    out.payloadFormatIndicator = raw.payloadFormatIndicator;
  if (Array.isArray(raw.userProperties)) {
    out.userProperties = raw.userProperties
      .filter((x): x is [string, string] => Array.isArray(x) && x.length === 2)
      .map(([k, v]) => [String(k), String(v)]);
  }
  if (typeof raw.expiresAt === 'number') out.expiresAt = raw.expiresAt;
  if (typeof raw.responseTopic === 'string') out.responseTopic = raw.responseTopic;
  if (typeof raw.correlationData === 'string')
    out.correlationData = Buffer.from(raw.correlationData, 'base64');
  return out;
}
