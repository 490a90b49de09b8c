// A throwaway PostgreSQL cluster on 127.0.0.1 for tests and benchmarks: initdb into a
// temporary folder, start on a free port, stop and delete on request. As root (CI),
// the server runs as the `postgres` user, since PostgreSQL refuses to run as root.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export function findPgBin() {
  const candidates = [];
  if (process.env.TETHYS_PG_BIN) candidates.push(process.env.TETHYS_PG_BIN);
  try {
    for (const v of fs.readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a))) {
      candidates.push(`/usr/lib/postgresql/${v}/bin`);
    }
  } catch {}
  for (const dir of (process.env.PATH ?? '').split(':')) candidates.push(dir);
  return (
    candidates.find(
      (dir) => fs.existsSync(path.join(dir, 'initdb')) && fs.existsSync(path.join(dir, 'pg_ctl')),
    ) ?? null
  );
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

function asUser(isRoot, cmd, args, opts = {}) {
  const [file, argv] = isRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  const r = spawnSync(file, argv, { encoding: 'utf8', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} failed (${r.status}): ${r.stderr || r.stdout}`);
  return r.stdout;
}

export async function startCluster({ settings = [] } = {}) {
  const bin = findPgBin();
  if (!bin) return null;
  const isRoot = process.getuid?.() === 0;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tethys-pg-'));
  fs.chmodSync(dir, 0o777);
  if (isRoot) execFileSync('chown', ['-R', 'postgres', dir]);
  const data = path.join(dir, 'data');
  const port = await freePort();
  asUser(isRoot, path.join(bin, 'initdb'), [
    '-D',
    data,
    '-U',
    'postgres',
    '--auth=trust',
    '-E',
    'UTF8',
    '--locale=C',
    '--no-sync',
  ]);
  const opts = [
    `-p ${port}`,
    "-c listen_addresses='127.0.0.1'",
    `-k ${dir}`,
    '-c max_connections=300',
    ...settings,
  ].join(' ');
  const start = () =>
    asUser(isRoot, path.join(bin, 'pg_ctl'), [
      '-D',
      data,
      '-o',
      opts,
      '-l',
      path.join(dir, 'log'),
      '-w',
      'start',
    ]);
  start();
  /** The postmaster and every server process under it (connections, background workers). */
  const processes = () => {
    const postmaster = Number(fs.readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const children = spawnSync('pgrep', ['-P', String(postmaster)], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter(Boolean)
      .map(Number);
    return [postmaster, ...children];
  };
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    /** As a crash, a failover or `pg_ctl stop -m immediate`: every connection drops at once. */
    crash() {
      asUser(isRoot, path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
    },
    /** Starts it again on the same data and port (after crash or stop). */
    start,
    /** Stops every server process (SIGSTOP): connections stay open and nothing answers, as a hung host. */
    freeze() {
      const pids = processes();
      for (const pid of pids) process.kill(pid, 'SIGSTOP');
      return pids;
    },
    thaw(pids) {
      for (const pid of pids) process.kill(pid, 'SIGCONT');
    },
    stop() {
      try {
        asUser(isRoot, path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
