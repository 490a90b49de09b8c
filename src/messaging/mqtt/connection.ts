import type { Duplex } from 'node:stream';
import type { Packet } from 'mqtt-packet';
import { decode, encode, type ProtocolVersion } from './codec.js';
import { Framer } from './framer.js';
import { Reason } from './reasons.js';
import type { Session } from './session.js';

/** What a connection needs of its broker. */
export interface ConnectionHost {
  /** Handles one packet; a promise holds back the connection's next packets until it settles. */
  handle(conn: Connection, packet: Packet): void | Promise<void>;
  closed(conn: Connection): void;
  /** Registers a connection whose socket is corked until the current loop iteration ends. */
  corked(conn: Connection): void;
  /** The broker's clock (ms), refreshed every second. */
  readonly now: number;
}

/** A client certificate presented over TLS. */
export interface PeerCertificate {
  serial: string;
  authorized: boolean;
}

export type ConnectionState = 'new' | 'connecting' | 'open' | 'closed';

/** Packets read ahead while an earlier one is being handled, before the socket is paused. */
const READ_AHEAD = 64;

/**
 * One network connection speaking MQTT: frames its bytes into packets, decodes them
 * with its protocol version, hands them to the broker one at a time and in order (a
 * packet whose handling is asynchronous, such as a CONNECT, holds back the ones after
 * it), and writes packets, gathering the writes of one loop iteration into one.
 */
export class Connection {
  version: ProtocolVersion = 4;
  state: ConnectionState = 'new';
  session: Session | null = null;
  /** When a packet last arrived (the broker's clock). */
  lastSeen: number;
  readonly openedAt: number;
  /** Keep-alive in ms (0: none); closed after 1.5 × this without a packet. */
  keepaliveMs = 0;
  /** MQTT 5: the largest packet the client takes. */
  clientMaxPacket = Number.POSITIVE_INFINITY;
  /** MQTT 5: QoS 1 messages the client takes unacknowledged at once. */
  receiveMaximum = 65535;
  /** MQTT 5: topic aliases the client set (alias → topic). */
  aliases: Map<number, string> | null = null;
  /** QoS 2 packet ids received and not yet released (PUBREL): a repeat is not delivered twice. */
  qos2: Set<number> | null = null;
  /** The client ended the connection with DISCONNECT (no will, unless it asked for it). */
  disconnected = false;
  /** MQTT 5 DISCONNECT with reason 0x04: publish the will all the same. */
  willOnDisconnect = false;
  /** The will is not published when this connection ends (a revocation, a take-over, a shutdown). */
  noWill = false;
  private framer: Framer;
  private seenBytes = false;
  private packets: Packet[] = [];
  private busy = false;
  private paused = false;
  private isCorked = false;
  private drainWait: Promise<void> | null = null;

  constructor(
    readonly socket: Duplex,
    private host: ConnectionHost,
    maxPacket: number,
    readonly address: string,
    readonly peer?: PeerCertificate,
  ) {
    this.framer = new Framer(maxPacket);
    this.lastSeen = host.now;
    this.openedAt = host.now;
    socket.on('data', (chunk: Buffer) => this.read(chunk));
    socket.on('error', () => this.destroy());
    socket.on('end', () => this.destroy());
    socket.on('close', () => this.destroy());
  }

  private read(chunk: Buffer): void {
    if (this.state === 'closed') return;
    // A connection opens with CONNECT: anything else (an HTTP request, noise) ends it at once.
    if (this.state === 'new' && !this.seenBytes && chunk.length > 0) {
      this.seenBytes = true;
      if (chunk[0] !== 0x10) {
        this.destroy();
        return;
      }
    }
    this.lastSeen = this.host.now;
    const error = this.framer.push(chunk, (bytes) => {
      let packet: Packet;
      try {
        packet = decode(bytes, this.version);
      } catch {
        this.close(Reason.malformed);
        return false;
      }
      // A CONNECT says how every later packet of the connection is encoded.
      if (packet.cmd === 'connect' && this.state === 'new')
        this.version = (packet.protocolVersion ?? 4) as ProtocolVersion;
      this.packets.push(packet);
      return true;
    });
    if (error) {
      this.close(error === 'too-large' ? Reason.packetTooLarge : Reason.malformed);
      return;
    }
    this.pump();
  }

  /** Handles queued packets in order until one is asynchronous. */
  private pump(): void {
    while (!this.busy && this.packets.length > 0 && this.state !== 'closed') {
      const packet = this.packets.shift()!;
      let result: void | Promise<void>;
      try {
        result = this.host.handle(this, packet);
      } catch {
        this.close(Reason.unspecified);
        return;
      }
      if (result instanceof Promise) {
        this.busy = true;
        result.then(
          () => {
            this.busy = false;
            this.pump();
          },
          () => this.close(Reason.unspecified),
        );
      }
    }
    const holdBack = this.busy && this.packets.length >= READ_AHEAD;
    if (holdBack && !this.paused) {
      this.paused = true;
      this.socket.pause();
    } else if (!holdBack && this.paused && this.state !== 'closed') {
      this.paused = false;
      this.socket.resume();
    }
  }

  /** Writes bytes, gathered with the others of this loop iteration. False when the socket's buffer is full. */
  write(bytes: Buffer): boolean {
    if (this.state === 'closed') return true;
    if (!this.isCorked && this.state === 'open') {
      this.isCorked = true;
      this.socket.cork();
      this.host.corked(this);
    }
    return this.socket.write(bytes);
  }

  uncork(): void {
    if (!this.isCorked) return;
    this.isCorked = false;
    this.socket.uncork();
  }

  send(packet: Packet): boolean {
    return this.write(encode(packet, this.version));
  }

  /** Bytes waiting in the socket's buffer. */
  get buffered(): number {
    return this.socket.writableLength;
  }

  get needsDrain(): boolean {
    return this.socket.writableNeedDrain;
  }

  /** Resolves once the socket's buffer has room again, or it closed; one wait shared by all who ask. */
  drained(): Promise<void> {
    if (!this.drainWait) {
      this.drainWait = new Promise((resolve) => {
        const done = () => {
          this.socket.off('drain', done);
          this.socket.off('close', done);
          this.drainWait = null;
          resolve();
        };
        this.socket.on('drain', done);
        this.socket.on('close', done);
      });
    }
    return this.drainWait;
  }

  /**
   * Ends the connection: MQTT 5 clients first get a DISCONNECT with the reason (a server
   * may send one only once the session is open; before, a refused CONNECT gets its
   * CONNACK instead). The socket is ended after what is buffered, and destroyed if the
   * client does not close its side in time.
   */
  close(reason?: number, reasonString?: string): void {
    if (this.state === 'closed') return;
    if (reason !== undefined && this.version === 5 && this.state === 'open') {
      this.uncork();
      this.socket.write(
        encode(
          {
            cmd: 'disconnect',
            reasonCode: reason,
            ...(reasonString ? { properties: { reasonString } } : {}),
          },
          5,
        ),
      );
    }
    this.finish();
    this.uncork();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  /** The socket is gone (or being destroyed): the broker forgets the connection. */
  destroy(): void {
    this.finish();
    this.socket.destroy();
  }

  private finish(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.packets = [];
    this.host.closed(this);
  }
}
