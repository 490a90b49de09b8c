import { randomUUID } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import type net from 'node:net';
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
    parser.on('packet', (packet: { cmd: string }) => {
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
    aedesClient(client).once('connected', () => {
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
        client._keepaliveTimer = setTimeout(() => {
          broker.emit('keepaliveTimeout', c);
          client.emit('error', new Error('keep alive timeout'));
        }, client._keepaliveInterval);
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

function aedesClient(client: AedesClientInternals): EventEmitter {
  return client as unknown as EventEmitter;
}

/** CONNACK (MQTT 3.1/3.1.1): session not present, the return code. */
function writeConnack(client: AedesClientInternals, returnCode: number): void {
  if (client.connecting || client.connected) client.conn.write(Buffer.from([0x20, 0x02, 0x00, returnCode]));
}

/**
 * Once the session is up, corks the socket at its first write and uncorks it once the
 * event loop has handled the input it had (setImmediate: after the poll phase). Under
 * load the messages of every publisher read in one loop iteration leave in one system
 * call per subscriber; when idle, the delay is that of one loop iteration.
 */
export function batchWrites(socket: net.Socket, client: Client): void {
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  socket.write = ((...args: unknown[]) => {
    // Until the session is up (CONNACK) there is one reply at a time: no reason to wait.
    if (!corked && client.connected) {
      corked = true;
      socket.cork();
      setImmediate(uncork);
    }
    return write(...args);
  }) as typeof socket.write;
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

/** A QoS 0 PUBLISH as bytes, made once per message and written to every subscriber. */
const encodedPublishes = new WeakMap<object, Buffer>();

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
    let bytes = encodedPublishes.get(forward);
    if (!bytes) {
      bytes = mqttPacket.generate({
        cmd: 'publish',
        topic: forward.topic,
        payload: forward.payload ?? Buffer.alloc(0),
        qos: 0,
        retain: forward.retain || false,
        dup: false,
      });
      encodedPublishes.set(forward, bytes);
    }
    if (!client.connecting && !client.connected) {
      client._onError(new Error('connection closed'));
      return setImmediate(cb);
    }
    if (!client.conn.write(bytes) && !client.errored) return client.waitForDrain(cb);
    setImmediate(cb);
  };
}

/**
 * mqtt-packet's parser reads the remaining length, then waits for that many bytes: a
 * packet announcing hundreds of megabytes would be buffered whole. Refuse it as soon as
 * its length is known; the parser error closes that connection (aedes), nothing else.
 */
export function limitPacketSize(client: Client, max: number): void {
  const parser = (
    client as unknown as {
      _parser?: { _parseLength(): boolean; _emitError(e: Error): void; packet: { length: number } };
    }
  )._parser;
  if (!parser || typeof parser._parseLength !== 'function') return;
  const parseLength = parser._parseLength.bind(parser);
  parser._parseLength = () => {
    const ok = parseLength();
    if (ok && parser.packet.length > max) {
      parser._emitError(
        new Error(`MQTT packet of ${parser.packet.length} bytes is over the ${max}-byte limit`),
      );
      return false;
    }
    return ok;
  };
}
