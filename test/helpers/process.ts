import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * `tethys serve` as its own process (the CLI entry, through tsx), for the tests that
 * signal or kill it. Resolves once it logs that it listens, with its HTTP and MQTT
 * addresses read from that log.
 */
export interface ServerProcess {
  child: ChildProcess;
  url: string;
  mqttPort: number;
  /** Every log line it wrote, parsed. */
  logs: Record<string, any>[];
  /** Resolves with the exit code (or signal name) and when it exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  kill(signal?: NodeJS.Signals): void;
}

export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/main.ts'), 'serve'], {
    cwd: ROOT,
    env: {
      ...process.env,
      TETHYS_HTTP_PORT: '0',
      TETHYS_HTTP_HOST: '127.0.0.1',
      TETHYS_MQTT_PORT: '0',
      TETHYS_MQTT_TLS_PORT: '0',
      TETHYS_LOG_LEVEL: 'info',
      TETHYS_ARGON2_MEMORY_KIB: '4096',
      TETHYS_ARGON2_ITERATIONS: '1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, any>[] = [];
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  // A test process that dies early must not leave servers behind.
  const onExit = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', onExit);
  void exited.then(() => process.off('exit', onExit));

  const ready = new Promise<{ url: string; mqttPort: number }>((resolve, reject) => {
    let buffered = '';
    let mqttPort = 0;
    child.stdout!.on('data', (d) => {
      buffered += d.toString();
      let nl = buffered.indexOf('\n');
      while (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        nl = buffered.indexOf('\n');
        try {
          const entry = JSON.parse(line);
          logs.push(entry);
          if (entry.msg === 'MQTT broker listening') mqttPort = entry.ports.mqtt;
          if (entry.msg === 'tethys is listening') resolve({ url: entry.address, mqttPort });
        } catch {
          // not a log line
        }
      }
    });
    void exited.then(({ code }) =>
      reject(new Error(`tethys serve exited (${code}) before listening: ${stderr}`)),
    );
  });
  const timeout = setTimeout(() => child.kill('SIGKILL'), 60_000);
  try {
    const { url, mqttPort } = await ready;
    return { child, url, mqttPort, logs, exited, kill: (signal = 'SIGTERM') => child.kill(signal) };
  } finally {
    clearTimeout(timeout);
  }
}

/** What a `tethys` client command did: its exit code, its output, stdout as JSON when it is. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  json: any;
}

/** Runs `tethys <args>` (the CLI entry, through tsx) with `env` over the test's own, no token unless given. */
export function runCli(args: string[], env: Record<string, string | undefined> = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, TETHYS_TOKEN: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      let json: any;
      try {
        json = stdout ? JSON.parse(stdout) : undefined;
      } catch {
        json = undefined;
      }
      resolve({ code, stdout, stderr, json });
    });
  });
}
