import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * How to start the server: the compiled build when it exists and is not older than the
 * sources (a stale build would measure old code), else the sources through tsx.
 */
export function serverCommand(): { args: string[]; label: string } {
  const built = path.join(ROOT, 'dist/src/main.js');
  if (fs.existsSync(built)) {
    if (fs.statSync(built).mtimeMs >= newestMtime(path.join(ROOT, 'src'))) {
      return { args: [built, 'serve'], label: 'node dist/src/main.js serve' };
    }
    console.error(
      'bench: dist/ is older than src/ (run `npm run build`); starting the sources through tsx instead',
    );
  }
  return {
    args: ['--import', 'tsx', path.join(ROOT, 'src/main.ts'), 'serve'],
    label: 'node --import tsx src/main.ts serve',
  };
}

/** Peak and current resident memory of one process, sampled from /proc (or ps). */
export class RssSampler {
  private timer: NodeJS.Timeout;
  private overallPeak = 0;
  private windowPeak = 0;

  constructor(
    private pid: number,
    intervalMs = 250,
  ) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
    this.sample();
  }

  /** Resident set size in KiB now, and the kernel's high-water mark when known. */
  read(): { rss: number; hwm: number } | null {
    try {
      const status = fs.readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const field = (name: string) =>
        Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
      return { rss: field('VmRSS'), hwm: field('VmHWM') };
    } catch {
      try {
        const rss = Number(
          execFileSync('ps', ['-o', 'rss=', '-p', String(this.pid)], { encoding: 'utf8' }).trim(),
        );
        return Number.isFinite(rss) && rss > 0 ? { rss, hwm: 0 } : null;
      } catch {
        return null;
      }
    }
  }

  sample(): void {
    const r = this.read();
    if (!r) return;
    this.overallPeak = Math.max(this.overallPeak, r.rss, r.hwm);
    this.windowPeak = Math.max(this.windowPeak, r.rss);
  }

  /** Peak RSS (KiB) since the previous call; starts a new window. */
  takeWindow(): number {
    this.sample();
    const peak = this.windowPeak;
    this.windowPeak = this.read()?.rss ?? 0;
    return peak;
  }

  /** Peak RSS (KiB) over the process's life so far (VmHWM where /proc exists). */
  peak(): number {
    this.sample();
    return this.overallPeak;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** What the server logged at warn level or above (it runs with TETHYS_LOG_LEVEL=warn). */
export interface ServerLogSummary {
  warnings: number;
  errors: number;
  /** The first few distinct messages, for the report. */
  samples: string[];
}

export interface BenchServer {
  url: string;
  pid: number;
  command: string;
  dataDir: string;
  rss: RssSampler;
  /** Log lines counted since the previous call. */
  takeLog(): ServerLogSummary;
  /** The last lines the server printed, for failure messages. */
  tail(): string;
  /** Resolves when the process has exited, with its code (null when a signal ended it). */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** Servers started and not yet stopped, with their data folders. */
const live = new Map<ChildProcess, string>();

/** Kills every server still running, by its PID, and removes its data; for exit paths that cannot wait. */
export function killServersNow(): void {
  for (const [child, dataDir] of live) {
    if (child.pid && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {}
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  live.clear();
}

async function waitHealthy(
  url: string,
  child: ChildProcess,
  tail: () => string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the server exited (${child.exitCode ?? child.signalCode}) while starting:\n${tail()}`);
    }
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the server did not become healthy within ${timeoutMs / 1000} s:\n${tail()}`);
}

/** Starts `tethys serve` as a child process on a free loopback port, on the given database. */
export async function startServer(options: {
  dbUrl: string;
  extraEnv?: Record<string, string>;
}): Promise<BenchServer> {
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tethys-bench-'));
  const { args, label } = serverCommand();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TETHYS_HTTP_PORT: String(port),
    TETHYS_HTTP_HOST: '127.0.0.1',
    TETHYS_DATA_DIR: dataDir,
    TETHYS_DB_URL: options.dbUrl,
    TETHYS_LOG_LEVEL: 'warn',
    ...options.extraEnv,
  };
  // BENCH_NODE_ARGS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`) go to the server's node.
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.set(child, dataDir);
  const lastLines: string[] = [];
  let log: ServerLogSummary = { warnings: 0, errors: 0, samples: [] };
  const onLine = (line: string) => {
    if (!line.trim()) return;
    lastLines.push(line);
    if (lastLines.length > 50) lastLines.shift();
    let level = 40;
    let message = line;
    try {
      const parsed = JSON.parse(line) as {
        level?: number;
        msg?: string;
        err?: { message?: string };
        url?: string;
        method?: string;
      };
      level = parsed.level ?? 40;
      message = [parsed.msg, parsed.method, parsed.url, parsed.err?.message].filter(Boolean).join(' ');
    } catch {
      // Not pino output (a crash trace): count it as an error.
      level = 50;
    }
    if (level >= 50) log.errors++;
    else if (level >= 40) log.warnings++;
    if (level >= 40 && log.samples.length < 5 && !log.samples.includes(message))
      log.samples.push(message.slice(0, 300));
  };
  for (const stream of [child.stdout!, child.stderr!]) {
    let buffered = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    });
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const tail = () => lastLines.join('\n');
  const running = () => child.exitCode === null && child.signalCode === null;
  const url = `http://127.0.0.1:${port}`;
  const cleanup = () => {
    live.delete(child);
    fs.rmSync(dataDir, { recursive: true, force: true });
  };

  try {
    await waitHealthy(url, child, tail);
  } catch (err) {
    if (running()) process.kill(child.pid!, 'SIGKILL');
    await exited;
    cleanup();
    throw err;
  }
  // The start-up warning about a generated auth secret is expected; start counting now.
  log = { warnings: 0, errors: 0, samples: [] };
  const rss = new RssSampler(child.pid!);

  return {
    url,
    pid: child.pid!,
    command: label,
    dataDir,
    rss,
    takeLog() {
      const out = log;
      log = { warnings: 0, errors: 0, samples: [] };
      return out;
    },
    tail,
    exited,
    async stop() {
      rss.stop();
      if (running()) {
        process.kill(child.pid!, 'SIGTERM');
        const killed = await Promise.race([
          exited.then(() => true),
          new Promise<boolean>((r) => setTimeout(() => r(false), 10_000)),
        ]);
        if (!killed && running()) {
          process.kill(child.pid!, 'SIGKILL');
          await exited;
        }
      }
      cleanup();
    },
  };
}
