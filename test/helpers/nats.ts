import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/**
 * A real nats-server (Debian's package) on a free loopback port, for the tests of the
 * bus between instances. Started per test file and stopped by its PID.
 */
export interface NatsServer {
  url: string;
  port: number;
  pid: number;
  /** SIGTERM, then SIGKILL after 3 s. */
  stop(): Promise<void>;
  /** SIGKILL at once: a crash. */
  kill(): Promise<void>;
  /** JetStream's store, when started with it (give it again to bring the server back with its data). */
  storeDir?: string;
}

/** The nats-server binary: TETHYS_NATS_SERVER, else the PATH, /usr/bin and /usr/sbin. */
export function natsServerBinary(): string | null {
  const candidates = [process.env.TETHYS_NATS_SERVER ?? ''];
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/bin', '/usr/sbin', '/usr/local/bin']) {
    if (dir) candidates.push(path.join(dir, 'nats-server'));
  }
  return candidates.find((p) => p && fs.existsSync(p)) ?? null;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves once the server greets a client with its INFO line. */
function greets(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('data', (d) => done(d.toString().startsWith('INFO')));
    socket.once('error', () => done(false));
  });
}

const running = new Set<ChildProcess>();
let exitHook = false;

function killOnExit(child: ChildProcess): void {
  running.add(child);
  if (exitHook) return;
  exitHook = true;
  // A test process that dies early must not leave servers behind.
  process.on('exit', () => {
    for (const c of running) if (c.pid && c.exitCode === null) process.kill(c.pid, 'SIGKILL');
  });
}

/**
 * Starts nats-server on a free port, or on `port` (to bring one back where it was); with
 * JetStream when `jetstream` (its store in `storeDir`, a fresh folder by default).
 */
export async function startNats(
  options: { port?: number; jetstream?: boolean; storeDir?: string } = {},
): Promise<NatsServer> {
  const storeDir =
    options.jetstream || options.storeDir
      ? (options.storeDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'tethys-nats-js-')))
      : undefined;
  const bin = natsServerBinary();
  if (!bin)
    throw new Error('nats-server not found (install Debian package nats-server, or set TETHYS_NATS_SERVER)');
  let lastError = '';
  // The free port may be taken between probing and binding: try a few.
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = options.port ?? (await freePort());
    const args = ['-a', '127.0.0.1', '-p', String(port), ...(storeDir ? ['-js', '-sd', storeDir] : [])];
    const child = spawn(bin, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    killOnExit(child);
    let stderr = '';
    child.stderr!.on('data', (d) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const deadline = Date.now() + 10_000;
    let ready = false;
    while (!ready && child.exitCode === null && Date.now() < deadline) {
      ready = await greets(port);
      if (!ready) await new Promise((r) => setTimeout(r, 50));
    }
    if (ready) {
      const pid = child.pid!;
      return {
        url: `nats://127.0.0.1:${port}`,
        port,
        pid,
        ...(storeDir ? { storeDir } : {}),
        async kill() {
          if (child.exitCode === null && child.signalCode === null) {
            process.kill(pid, 'SIGKILL');
            await exited;
          }
          running.delete(child);
        },
        async stop() {
          if (child.exitCode === null && child.signalCode === null) {
            process.kill(pid, 'SIGTERM');
            const timer = setTimeout(() => {
              if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGKILL');
            }, 3000);
            await exited;
            clearTimeout(timer);
          }
          running.delete(child);
        },
      };
    }
    if (child.exitCode === null) {
      process.kill(child.pid!, 'SIGKILL');
      await exited;
    }
    running.delete(child);
    lastError = stderr;
  }
  throw new Error(`nats-server did not start: ${lastError}`);
}
