import { randomUUID } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Aedes, AedesPublishPacket, Client, ConnectPacket } from 'aedes';
import mqttPacket from 'mqtt-packet';

/*
 * What Tethys changes in aedes 1.2 (pinned in package-lock.json), each measured with
 * `npm run bench` and each keeping aedes' observable behaviour: the same packets on
 * the wire, the same events, the same checks. They reach into aedes' internals, so
 * each one checks that the part it replaces is there and leaves aedes alone if not.
 */

/** The parts of an aedes client these adjustments use. */
interface AedesClientInternals {
  id: string;
  clean: boolean;
  version: number | null;
  closed: boolean;
  connecting: boolean;
  connected: boolean;
  connackSent: boolean;
  errored?: boolean;
  duplicates: Record<string, number>;
  conn: Duplex;
  _will: unknown;
  _authorized: boolean;
  _parsingBatch: number;
  _connectTimer: NodeJS.Timeout | null;
  _keepaliveInterval: number;
  _keepaliveTimer: NodeJS.Timeout | null;
  _parser?: EventEmitter;
  _nextBatch(err?: Error | null): void;
  deliver0: (packet: AedesPublishPacket & { nl?: boolean; clientId?: string }, cb: () => void) => void;
  waitForDrain(cb: () => void): void;
  _onError(err: Error | null): void;
  pause(): void;
  resume(): void;
  close(done?: () => void): void;
  emit(event: string, ...args: unknown[]): boolean;
  once(event: string, listener: () => void): unknown;
}

/** The parts of the aedes broker these adjustments use. */
interface AedesBrokerInternals {
  closed: boolean;
  clients: Record<string, Client>;
  connectedClients: number;
  keepaliveLimit?: number;
  maxClientsIdLength: number;
  persistence: {
    cleanSubscriptions(client: Client): Promise<unknown>;
    delWill(client: Client): Promise<unknown>;
    putWill(client: Client, will: unknown): Promise<unknown>;
    cleanIncoming?(client: Client): Promise<unknown>;
  };
  authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (err: (Error & { returnCode?: number }) | null, ok?: boolean | null) => void,
  ): void;
  registerClient(client: Client): void;
  _finishRegisterClient(client: Client): void;
  unregisterClient(client: Client): void;
  deleteClient(id: string): void;
  emit(event: string, ...args: unknown[]): boolean;
}

const CONNACK_ERRORS = [
  '',
  '',
  'identifier rejected',
  'Server unavailable',
  'bad user name or password',
  'not authorized',
];

/**
 * CONNECT of a clean session, without aedes' offline-queue replay.
 *
 * aedes runs nine steps for every CONNECT; the last one streams the client's offline
 * queue through `stream.pipeline` (an AbortController, end-of-stream watchers, a
 * DOMException when it ends, a transform stream), which for a clean session only
 * drops what a previous persistent session of the same client id left queued. With
 * no such session there is nothing to drop, and that step was 40% of the broker's
 * CPU per connect (measured: 600 → 365 µs a connect, 1,800 → 2,580 connects/s).
 *
 * So a clean-session CONNECT (MQTT 3.1 or 3.1.1, any will) of a client id that has not
 * connected with a persistent session since its last clean connect through aedes takes
 * this path: the same steps in the same order (authenticate with the client paused,
 * keep-alive timer, clean subscriptions, replace the will, register (taking over a
 * session with the same id), clean incoming QoS 2 state, CONNACK, resume), the same
 * CONNACK codes and events, minus the replay. Everything else goes aedes' way: a
 * persistent session, an id with a queue that may need dropping, protocol errors, a
 * CONNECT that is not the first packet.
 */
export class CleanConnects {
  /**
   * Client ids that may have an offline queue: marked at a persistent-session CONNECT,
   * cleared when a later clean CONNECT through aedes (which drops the queue) completes
   * with no persistent CONNECT of the id in between. It holds no more ids than aedes'
   * persistence holds sessions for.
   */
  private queued = new Map<string, number>();
  private marks = 0;

  constructor(private aedes: Aedes) {}

  install(aedesClient: Client): void {
    const client = aedesClient as unknown as AedesClientInternals;
    const parser = client._parser;
    const enqueue = parser?.listeners('packet')[0] as ((this: unknown, packet: unknown) => void) | undefined;
    if (!parser || typeof enqueue !== 'function' || typeof client._nextBatch !== 'function') return;
    parser.removeListener('packet', enqueue);
    // Only the first packet can open the session: aedes' listener takes over after it.
    parser.once('packet', (packet: { cmd: string }) => {
      parser.on('packet', enqueue);
      if (packet.cmd === 'connect' && this.takes(client, packet as ConnectPacket)) {
        this.connect(client, packet as ConnectPacket);
        return;
      }
      enqueue.call(parser, packet);
    });
  }

  /** Whether this CONNECT goes this way; notes the ids that go aedes' way with a queue. */
  private takes(client: AedesClientInternals, packet: ConnectPacket): boolean {
    const broker = this.aedes as unknown as AedesBrokerInternals;
    const id = packet.clientId;
    if (!packet.clean) {
      if (id) this.queued.set(id, ++this.marks);
      return false;
    }
    const first = client._parsingBatch === 0 && !client.connecting && !client.connected && !client.closed;
    const version = packet.protocolVersion;
    const valid =
      (version === 4 || (version === 3 && id.length <= broker.maxClientsIdLength)) && !broker.keepaliveLimit;
    if (!first || !valid) return false;
    const mark = id ? this.queued.get(id) : undefined;
    if (mark === undefined) return true;
    // aedes drops the queue; forget the id unless a persistent CONNECT came since.
    client.once('connected', () => {
      if (this.queued.get(id) === mark) this.queued.delete(id);
    });
    return false;
  }

  private connect(client: AedesClientInternals, packet: ConnectPacket): void {
    const broker = this.aedes as unknown as AedesBrokerInternals;
    const persistence = broker.persistence;
    const c = client as unknown as Client;
    // As aedes' enqueue and handleConnect: the packet counts as being handled.
    client._parsingBatch++;
    if (client._connectTimer) clearTimeout(client._connectTimer);
    client._connectTimer = null;
    client.connecting = true;
    client.id = packet.clientId || `aedes_${randomUUID()}`;
    client.clean = true;
    client.version = packet.protocolVersion ?? null;
    client._will = packet.will;
    client.pause();
    const done = (err: Error | null) => {
      client.connecting = false;
      if (!err) {
        client.connected = true;
        broker.emit('clientReady', c);
        client.emit('connected');
      }
      client._nextBatch(err);
    };
    const refuse = (returnCode: number, err: Error & { errorCode?: number }) => {
      err.errorCode = returnCode;
      if (!err.message) err.message = CONNACK_ERRORS[returnCode] ?? 'not authorized';
      writeConnack(client, returnCode);
      setImmediate(() => client.close(() => done(err)));
    };
    broker.authenticate(c, packet.username, packet.password as Buffer | undefined, (err, ok) => {
      // Closed while authenticating (aedes' own check): nothing to register.
      if (client.closed || broker.closed) return;
      if (err || ok !== true) {
        const code = err?.returnCode;
        return refuse(code && code >= 2 && code <= 5 ? code : 5, err ?? new Error(CONNACK_ERRORS[5]));
      }
      client._authorized = true;
      const keepalive = packet.keepalive ?? 0;
      if (keepalive > 0) {
        client._keepaliveInterval = keepalive * 1500 + 1;
        // No closure: a session keeps its timer, and a closure here would keep this scope.
        client._keepaliveTimer = setTimeout(keepaliveTimeout, client._keepaliveInterval, broker, client);
      }
      (async () => {
        await persistence.cleanSubscriptions(c);
        const will = client._will;
        (c as unknown as { will: unknown }).will = will;
        await persistence.delWill(c).catch(() => {});
        if (will) await persistence.putWill(c, will);
        if (client.closed || broker.closed) return;
        broker.registerClient(c);
        if (typeof persistence.cleanIncoming === 'function') await persistence.cleanIncoming(c);
        if (client.closed) return;
        writeConnack(client, 0);
        broker.emit('connackSent', { cmd: 'connack', returnCode: 0, sessionPresent: false }, c);
        client.connackSent = true;
        client.resume();
        done(null);
      })().catch((e: Error) => done(e));
    });
  }
}

/** As aedes' own keep-alive timeout. */
function keepaliveTimeout(broker: AedesBrokerInternals, client: AedesClientInternals): void {
  broker.emit('keepaliveTimeout', client);
  client.emit('error', new Error('keep alive timeout'));
}

/** CONNACK (MQTT 3.1/3.1.1): session not present, the return code. */
function writeConnack(client: AedesClientInternals, returnCode: number): void {
  if (client.connecting || client.connected) client.conn.write(Buffer.from([0x20, 0x02, 0x00, returnCode]));
}

/** What batchWrites keeps on a socket. */
interface BatchedSocket extends net.Socket {
  tethysClient?: AedesClientInternals;
  tethysCorked?: boolean;
}

const socketWrite = net.Socket.prototype.write as (this: net.Socket, ...args: unknown[]) => boolean;

function uncorkBatch(socket: BatchedSocket): void {
  socket.tethysCorked = false;
  socket.uncork();
}

/** net.Socket's write, corking first once the session is up (see batchWrites). */
function batchedWrite(this: BatchedSocket, ...args: unknown[]): boolean {
  // Until the session is up (CONNACK) there is one reply at a time: no reason to wait.
  if (!this.tethysCorked && this.tethysClient?.connected) {
    this.tethysCorked = true;
    this.cork();
    setImmediate(uncorkBatch, this);
  }
  return socketWrite.apply(this, args);
}

/**
 * Once the session is up, corks the socket at its first write and uncorks it once the
 * event loop has handled the input it had (setImmediate: after the poll phase). Under
 * load the messages of every publisher read in one loop iteration leave in one system
 * call per subscriber; when idle, the delay is that of one loop iteration. One shared
 * function and two fields a socket: 10,000 sessions carry no closures for it.
 */
export function batchWrites(socket: net.Socket, client: Client): void {
  const s = socket as BatchedSocket;
  s.tethysClient = client as unknown as AedesClientInternals;
  s.tethysCorked = false;
  s.write = batchedWrite as typeof socket.write;
}

function noop(): void {}

/**
 * Closes the aedes client of a socket that has closed (aedes sets `conn.client`).
 * aedes' close makes an Error on every call, for write callbacks still waiting for
 * 'drain' (there are none once a session has ended in order). Capturing its stack cost
 * more than a tenth of the close of a session under a CONNECT load; nobody reads it, so
 * the close runs with stacks off. Whatever else the close makes (its unsubscribe and will
 * steps) has no stack either; those errors go to callbacks, not to the log.
 */
function closeClientOfSocket(this: Duplex & { client?: { close(): void; closed?: boolean } }): void {
  const client = this.client;
  if (!client || client.closed) return;
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    client.close();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * aedes watches each connection with stream.finished, which keeps seven closures and
 * its state per session (a fifth of a session's heap) and makes an error object each
 * time a connection closes without an orderly end. aedes already closes the client on
 * 'end' and 'error'; the one case left, 'close', takes one shared listener.
 */
export function closeOnSocketClose(aedesClient: Client): void {
  const client = aedesClient as unknown as AedesClientInternals & { _eos?: () => void };
  if (typeof client._eos !== 'function') return;
  client._eos();
  // The watcher's cleanup function would keep all of its closures alive.
  client._eos = noop;
  client.conn.on('close', closeClientOfSocket);
}

/**
 * aedes announces every session start and end as a publish on `$SYS/<broker>/…/clients`,
 * which runs the whole publish path (topic matching, the offline-queue lookup) twice per
 * connection. Only brokers sharing one aedes emitter read them (to close a client id
 * taken over on another broker); Tethys instances share messages over their own bus,
 * and no client may subscribe to `$SYS`. So sessions are registered without notice.
 */
export function quietSessionNotices(broker: Aedes): void {
  const b = broker as unknown as AedesBrokerInternals;
  if (typeof b._finishRegisterClient !== 'function' || typeof b.unregisterClient !== 'function') return;
  b._finishRegisterClient = (client) => {
    b.connectedClients++;
    b.clients[client.id] = client;
    b.emit('client', client);
  };
  b.unregisterClient = (client) => {
    b.deleteClient(client.id);
    b.emit('clientDisconnect', client);
  };
}

/**
 * A QoS 0 PUBLISH as bytes, made once per message and written to every subscriber.
 * Keyed by the payload buffer: aedes hands each subscriber its own copy of the packet
 * (`new Packet(…)` in its subscription handler), but every copy carries the same
 * payload object; the topic and retain flag are checked too.
 */
const encodedPublishes = new WeakMap<object, { topic: string; retain: boolean; bytes: Buffer }>();

export function encodedPublish(packet: { topic: string; payload?: unknown; retain?: boolean }): Buffer {
  const payload = (packet.payload ?? EMPTY) as Buffer;
  const retain = packet.retain || false;
  const known = encodedPublishes.get(payload);
  if (known && known.topic === packet.topic && known.retain === retain) return known.bytes;
  const bytes = mqttPacket.generate({
    cmd: 'publish',
    topic: packet.topic,
    payload,
    qos: 0,
    retain,
    dup: false,
  });
  if (typeof payload === 'object') encodedPublishes.set(payload, { topic: packet.topic, retain, bytes });
  return bytes;
}

const EMPTY = Buffer.alloc(0);

/**
 * aedes delivers a QoS 0 message by copying it for each subscriber and serialising the
 * copy in five stream writes; with 10 subscribers that is most of the broker's time.
 * The bytes are the same for every subscriber (aedes 1.2 speaks MQTT 3.1/3.1.1 only,
 * and QoS 0 carries no packet id), so they are made once and written as one buffer.
 * Everything else is as aedes' own deliverQoS0: no-local, the broker-level duplicate
 * check, authorizeForward, only to connected clients, waiting for drain when the
 * socket's buffer is full (the flow control every publisher feels).
 */
export function shareQos0Deliveries(broker: Aedes, aedesClient: Client): void {
  const client = aedesClient as unknown as AedesClientInternals;
  if (typeof client.deliver0 !== 'function') return;
  client.deliver0 = (packet, cb) => {
    if (packet.clientId === client.id && packet.nl) return setImmediate(cb);
    const id = packet.brokerId;
    if (id) {
      if ((client.duplicates[id] ?? 0) >= packet.brokerCounter) return setImmediate(cb);
      client.duplicates[id] = packet.brokerCounter;
    }
    const forward = broker.authorizeForward(aedesClient, packet);
    if (!forward) return setImmediate(cb);
    const bytes = encodedPublish(forward);
    if (!client.connecting && !client.connected) {
      client._onError(new Error('connection closed'));
      return setImmediate(cb);
    }
    if (!client.conn.write(bytes) && !client.errored) return client.waitForDrain(cb);
    setImmediate(cb);
  };
}

interface LimitedParser {
  tethysMaxPacket?: number;
  _emitError(e: Error): void;
  packet: { length: number };
}

let parseLengthPatched = false;

/**
 * mqtt-packet's parser reads the remaining length, then waits for that many bytes: a
 * packet announcing hundreds of megabytes would be buffered whole. Refuse it as soon as
 * its length is known; the parser error closes that connection (aedes), nothing else.
 * The parser's prototype is wrapped once; each parser carries its limit.
 */
export function limitPacketSize(client: Client, max: number): void {
  const parser = (client as unknown as { _parser?: LimitedParser })._parser;
  if (!parser) return;
  const proto = Object.getPrototypeOf(parser) as { _parseLength?: (this: LimitedParser) => boolean };
  if (typeof proto._parseLength !== 'function') return;
  if (!parseLengthPatched) {
    parseLengthPatched = true;
    const parseLength = proto._parseLength;
    proto._parseLength = function (this: LimitedParser) {
      const ok = parseLength.call(this);
      const limit = this.tethysMaxPacket;
      if (ok && limit !== undefined && this.packet.length > limit) {
        this._emitError(
          new Error(`MQTT packet of ${this.packet.length} bytes is over the ${limit}-byte limit`),
        );
        return false;
      }
      return ok;
    };
  }
  parser.tethysMaxPacket = max;
}

interface ListParser {
  packet: unknown;
  error: unknown;
  _list: { length: number; constructor: { BufferList?: new () => unknown } };
  _stateCounter: number;
  _resetState(): void;
}

let plainListsInstalled = false;

/**
 * mqtt-packet buffers a connection's input in a BufferListStream: a duplex stream with
 * its own readable and writable state, of which the parser uses only the buffer-list
 * methods (append, consume, slice, readUInt*). bl's plain BufferList has the same
 * methods without the stream: a tenth of a session's heap less, and one stream fewer to
 * build and collect for every connection. The parser makes its list in `_resetState`
 * (from its constructor, and after a parse error); once per process, before the first
 * client, that method makes the same state with a plain list. Checked on a parser made
 * here: if mqtt-packet's state is not what this expects, it is left alone.
 */
export function plainBufferLists(): void {
  if (plainListsInstalled) return;
  plainListsInstalled = true;
  const probe = mqttPacket.parser() as unknown as ListParser;
  const proto = Object.getPrototypeOf(probe) as ListParser;
  const List = probe._list?.constructor?.BufferList;
  const Packet = (probe.packet as { constructor?: new () => unknown } | undefined)?.constructor;
  const expected =
    typeof proto._resetState === 'function' &&
    typeof List === 'function' &&
    typeof Packet === 'function' &&
    probe.error === null &&
    probe._stateCounter === 0 &&
    probe._list.length === 0;
  if (!expected) return;
  proto._resetState = function (this: ListParser) {
    this.packet = new Packet();
    this.error = null;
    this._list = new List() as ListParser['_list'];
    this._stateCounter = 0;
  };
}
