import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './server.js';

/**
 * A nats-server (Debian's package) on free loopback ports for the scenarios over NATS,
 * with its monitoring port (for /varz: messages in and out, slow consumers). Started
 * as a child process and killed by its PID, also when the harness exits early.
 */
export interface BenchNats {
  url: string;
  pid: number;
  /** Counters from the monitoring endpoint, or null when it does not answer. */
  varz(): Promise<NatsVarz | null>;
  stop(): Promise<void>;
}

export interface NatsVarz {
  in_msgs: number;
  out_msgs: number;
  in_bytes: number;
  out_bytes: number;
  slow_consumers: number;
  version: string;
}

/** BENCH_NATS_SERVER or TETHYS_NATS_SERVER, else PATH, /usr/bin, /usr/sbin, /usr/local/bin. */
export function natsServerBinary(): string | null {
  const candidates = [process.env.BENCH_NATS_SERVER ?? '', process.env.TETHYS_NATS_SERVER ?? ''];
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/bin', '/usr/sbin', '/usr/local/bin']) {
    if (dir) candidates.push(path.join(dir, 'nats-server'));
  }
  return candidates.find((p) => p && fs.existsSync(p)) ?? null;
}

const running = new Set<ChildProcess>();
let exitHook = false;

/** Kills every nats-server this process started, by PID; for exit paths that cannot wait. */
export function killNatsNow(): void {
  for (const child of running) {
    if (child.pid && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {}
    }
  }
  running.clear();
  for (const dir of stores) fs.rmSync(dir, { recursive: true, force: true });
  stores.clear();
}

/** JetStream store folders, removed when their server stops (or the harness exits). */
const stores = new Set<string>();

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

export async function startNats(): Promise<BenchNats> {
  const bin = natsServerBinary();
  if (!bin) throw new Error('nats-server not found (Debian package nats-server, or set BENCH_NATS_SERVER)');
  if (!exitHook) {
    exitHook = true;
    process.on('exit', killNatsNow);
  }
  let lastError = '';
  // A probed free port may be taken before nats-server binds it: try a few.
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const monitor = await freePort();
    // With JetStream, as Tethys is meant to run (the messages' stream; see src/messaging/bus.ts).
    const storeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tethys-bench-nats-'));
    stores.add(storeDir);
    const child = spawn(
      bin,
      ['-a', '127.0.0.1', '-p', String(port), '-m', String(monitor), '-js', '-sd', storeDir],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    running.add(child);
    let stderr = '';
    child.stderr!.on('data', (d) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const alive = () => child.exitCode === null && child.signalCode === null;
    const deadline = Date.now() + 10_000;
    let ready = false;
    while (!ready && alive() && Date.now() < deadline) {
      ready = await greets(port);
      if (!ready) await new Promise((r) => setTimeout(r, 50));
    }
    if (ready) {
      const pid = child.pid!;
      return {
        url: `nats://127.0.0.1:${port}`,
        pid,
        async varz() {
          try {
            const res = await fetch(`http://127.0.0.1:${monitor}/varz`, {
              signal: AbortSignal.timeout(2000),
            });
            return (await res.json()) as NatsVarz;
          } catch {
            return null;
          }
        },
        async stop() {
          if (alive()) {
            process.kill(pid, 'SIGTERM');
            const timer = setTimeout(() => {
              if (alive()) process.kill(pid, 'SIGKILL');
            }, 3000);
            await exited;
            clearTimeout(timer);
          }
          running.delete(child);
          fs.rmSync(storeDir, { recursive: true, force: true });
          stores.delete(storeDir);
        },
      };
    }
    if (alive()) {
      process.kill(child.pid!, 'SIGKILL');
      await exited;
    }
    running.delete(child);
    lastError = stderr;
  }
  throw new Error(`nats-server did not start: ${lastError}`);
}
