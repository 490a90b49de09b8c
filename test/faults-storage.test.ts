import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertError, listAll } from './helpers/entities.js';
import { startServerProcess } from './helpers/process.js';
import {
  client,
  createTestDatabase,
  dialect,
  type Request,
  startServer,
  type TestServer,
  userToken,
} from './helpers/server.js';
import { eventually } from './helpers/wait.js';

/**
 * The data folder failing under SQLite (issue 16): a full disk and a folder turned
 * read-only, on a small tmpfs of the test's own; and the process killed (-9) while it
 * creates things, on both databases. Writes answer 503 and leave nothing half-made;
 * every acknowledged write survives.
 */

/** A tmpfs mounted for this test, or why it cannot be (not root, no mount permission). */
function mountTmpfs(
  sizeBytes: number,
): { dir: string; remount(options: string): void; unmount(): void } | string {
  if (process.getuid?.() !== 0) return 'needs root to mount a tmpfs';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tethys-disk-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'tmpfs', dir], {
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    fs.rmdirSync(dir);
    return `mount -t tmpfs failed: ${r.stderr.trim()}`;
  }
  return {
    dir,
    remount: (options) => execFileSync('mount', ['-o', `remount,${options}`, dir]),
    unmount: () => {
      spawnSync('umount', ['-l', dir]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

const mounted = dialect === 'sqlite' ? mountTmpfs(12 * 1024 * 1024) : 'SQLite pass only';

describe(`SQLite on a failing disk (${dialect})`, { skip: typeof mounted === 'string' && mounted }, () => {
  const disk = mounted as Exclude<typeof mounted, string>;
  let server: TestServer;
  let request: Request;
  let token: string;

  before(async () => {
    server = await startServer({ TETHYS_DATA_DIR: disk.dir });
    request = client(server.url);
    ({ token } = await userToken(request));
  });
  after(async () => {
    await server?.close();
    disk.unmount();
  });

  /** Counts of what the database holds, read through the API. */
  async function counts() {
    const things = await request('GET', '/things?limit=1', { token });
    const channels = await request('GET', '/channels?limit=1', { token });
    const configs = await request('GET', '/things/configs?limit=1', { token });
    return { things: things.json?.total, channels: channels.json?.total, configs: configs.json?.total };
  }

  it('a full disk: writes answer 503 with Retry-After and write nothing; freeing space is enough', async () => {
    const before = await counts();
    // Fill what is left of the tmpfs.
    const filler = path.join(disk.dir, 'filler');
    const fd = fs.openSync(filler, 'w');
    const chunk = Buffer.alloc(64 * 1024, 1);
    try {
      for (;;) fs.writeSync(fd, chunk);
    } catch (err) {
      assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
    } finally {
      fs.closeSync(fd);
    }
    const bulk = Array.from({ length: 500 }, (_, i) => ({
      name: `full-${i}`,
      metadata: { pad: 'x'.repeat(200) },
    }));
    let refused = 0;
    // The WAL may still have room for a few small writes: keep writing until the disk says no.
    for (let i = 0; i < 50 && refused === 0; i++) {
      const r = await request('POST', '/things/bulk', { token, body: bulk });
      if (r.status === 503) {
        assertError(r, 503, 'database unavailable');
        assert.ok(Number(r.headers.get('retry-after')) > 0);
        refused++;
      } else assert.equal(r.status, 201, r.text);
    }
    assert.equal(refused, 1, 'a bulk create refused once the disk is full');
    const afterFull = await counts();
    const mapping = await request('POST', '/mapping', {
      token,
      body: { external_id: `full-disk-${Date.now()}`, external_key: 'k', name: 'gw' },
    });
    if (mapping.status !== 201) assertError(mapping, 503, 'database unavailable');
    const single = await request('POST', '/things', { token, body: { name: 'one' } });
    assert.ok([201, 503].includes(single.status), single.text);
    // Nothing half-made: every gateway thing has its config (the mapping wrote all or nothing).
    const after = await counts();
    if (mapping.status === 503) {
      assert.equal(after.configs, afterFull.configs);
      assert.equal(after.channels, afterFull.channels);
    }
    assert.ok(after.things >= before.things);

    fs.rmSync(filler);
    await eventually(
      'writes working again',
      async () => {
        const r = await request('POST', '/things/bulk', { token, body: bulk });
        return r.status === 201;
      },
      { timeoutMs: 5000 },
    );
    const gw = await request('POST', '/mapping', {
      token,
      body: { external_id: `after-full-${Date.now()}`, external_key: 'k', name: 'gw' },
    });
    assert.equal(gw.status, 201, gw.text);
  });
});

/**
 * Marks a folder and its files immutable (chattr +i: writes to files already open fail
 * with EPERM, as on a volume the kernel turned read-only), or says why it cannot.
 */
function immutable(dir: string, on: boolean): string | null {
  const files = [dir, ...fs.readdirSync(dir).map((f) => path.join(dir, f))];
  const r = spawnSync('chattr', [on ? '+i' : '-i', ...files], { encoding: 'utf8' });
  return r.status === 0 ? null : `chattr failed: ${(r.stderr || r.error?.message || '').trim()}`;
}

const readOnlyProbe = (() => {
  if (dialect !== 'sqlite') return 'SQLite pass only';
  if (process.getuid?.() !== 0) return 'needs root for chattr';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tethys-chattr-'));
  try {
    const why = immutable(dir, true);
    if (!why) immutable(dir, false);
    return why;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
})();

describe(`SQLite in a folder turned read-only (${dialect})`, { skip: readOnlyProbe ?? false }, () => {
  let server: TestServer;
  let request: Request;
  let token: string;
  let dataDir: string;

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tethys-ro-'));
    server = await startServer({ TETHYS_DATA_DIR: dataDir });
    request = client(server.url);
    ({ token } = await userToken(request));
  });
  after(async () => {
    if (dataDir) immutable(dataDir, false);
    await server?.close();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function counts() {
    const things = await request('GET', '/things?limit=1', { token });
    const configs = await request('GET', '/things/configs?limit=1', { token });
    return { things: things.json?.total, configs: configs.json?.total };
  }

  it('writes answer 503, nothing half-made, reads go on; writable again is enough', async () => {
    const before = await counts();
    assert.equal(immutable(dataDir, true), null);
    try {
      const create = await request('POST', '/things', { token, body: { name: 'ro' } });
      assertError(create, 503, 'database unavailable');
      const bulk = await request('POST', '/things/bulk', { token, body: [{ name: 'a' }, { name: 'b' }] });
      assertError(bulk, 503, 'database unavailable');
      const mapping = await request('POST', '/mapping', {
        token,
        body: { external_id: `ro-${Date.now()}`, external_key: 'k', name: 'gw' },
      });
      assertError(mapping, 503, 'database unavailable');
      const list = await request('GET', '/things?limit=1', { token });
      assert.equal(list.status, 200, list.text);
    } finally {
      immutable(dataDir, false);
    }
    await eventually(
      'writes working again',
      async () => (await request('POST', '/things', { token, body: { name: 'rw' } })).status === 201,
      { timeoutMs: 5000 },
    );
    const after = await counts();
    assert.equal(after.things, before.things + 1, 'the refused writes left nothing');
    assert.equal(after.configs, before.configs);
  });

  it('an Idempotency-Key cannot be claimed: 503 with Retry-After; once writable, the retry runs', async () => {
    const before = await counts();
    const keyed = { token, body: [{ name: 'keyed' }], headers: { 'idempotency-key': `"ro-${Date.now()}"` } };
    assert.equal(immutable(dataDir, true), null);
    try {
      const refused = await request('POST', '/things/bulk', keyed);
      assertError(refused, 503, 'database unavailable');
      assert.ok(Number(refused.headers.get('retry-after')) > 0);
    } finally {
      immutable(dataDir, false);
    }
    const ran = await eventually(
      'the keyed retry runs',
      async () => {
        const r = await request('POST', '/things/bulk', keyed);
        return r.status === 201 ? r : null;
      },
      { timeoutMs: 5000 },
    );
    const replay = await request('POST', '/things/bulk', keyed);
    assert.equal(replay.text, ran.text);
    assert.equal((await counts()).things, before.things + 1);
  });
});

describe(`kill -9 while creating things (${dialect})`, { timeout: 120_000 }, () => {
  it('every acknowledged single and bulk create is there after a restart', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tethys-kill-'));
    const database = await createTestDatabase();
    const env = { TETHYS_DATA_DIR: dataDir, TETHYS_DB_URL: database.url };
    try {
      const server = await startServerProcess(env);
      const request = client(server.url);
      const { token } = await userToken(request);
      const acknowledged: string[] = [];
      let running = true;
      const worker = async (bulk: boolean) => {
        while (running) {
          try {
            if (bulk) {
              const r = await request('POST', '/things/bulk', {
                token,
                body: Array.from({ length: 50 }, (_, i) => ({ name: `bulk-${i}` })),
              });
              if (r.status === 201) acknowledged.push(...r.json.things.map((t: { id: string }) => t.id));
            } else {
              const r = await request('POST', '/things', { token, body: { name: 'single' } });
              if (r.status === 201) acknowledged.push(r.headers.get('location')!.split('/').pop()!);
            }
          } catch {
            return; // the server is gone
          }
        }
      };
      const workers = [
        worker(true),
        worker(true),
        worker(false),
        worker(false),
        worker(false),
        worker(false),
      ];
      await eventually('creates under way', () => acknowledged.length >= 2000);
      server.kill('SIGKILL');
      await server.exited;
      running = false;
      await Promise.all(workers);

      const again = await startServerProcess(env);
      try {
        const request2 = client(again.url);
        const stored = new Set(
          (await listAll(request2, token, '/things', 'things')).map((t) => t.id as string),
        );
        const lost = acknowledged.filter((id) => !stored.has(id));
        assert.deepEqual(lost, [], `${lost.length} of ${acknowledged.length} acknowledged things lost`);
      } finally {
        again.kill('SIGTERM');
        await again.exited;
      }
    } finally {
      await database.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
