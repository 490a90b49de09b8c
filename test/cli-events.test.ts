import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type AuditEvent, Tethys } from '../sdk/src/index.js';
import { runCli } from './helpers/process.js';
import { dialect, withServer } from './helpers/server.js';
import { eventually } from './helpers/wait.js';

/**
 * Reading the audit trail (issue 21) as a user does: `tethys events list` (a table, or
 * JSON, with its filters), `tethys events follow` (new events as lines, until it is
 * stopped), and the SDK's events.list/all/follow and things/channels.events.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** A `tethys events follow` left running: what it printed so far, and its end. */
interface Follower {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
}

function startFollower(args: string[], env: Record<string, string>): Follower {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'events', 'follow', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  // A test that fails half-way must not leave it running.
  const onExit = () => child.kill('SIGKILL');
  process.once('exit', onExit);
  void exited.then(() => process.off('exit', onExit));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

describe(`cli: events (${dialect})`, () => {
  const fixture = withServer();
  const { request } = fixture;
  let user: { email: string; token: string };
  let api: Tethys;
  let thingId: string;
  let channelId: string;

  const tethys = (args: string[]) =>
    runCli(['events', ...args], { TETHYS_URL: fixture.server.url, TETHYS_TOKEN: user.token });

  before(async () => {
    user = await fixture.user();
    api = request.sdk(user.token);
    thingId = await api.things.create({ name: 'pump', metadata: { site: 'north' } });
    await api.things.update(thingId, { name: 'pump 2', metadata: { site: 'north', floor: 1 } });
    channelId = await api.channels.create({ name: 'telemetry' });
    await api.connect([channelId], [thingId]);
  });

  it('list: a table, newest first, with its filters and paging', async () => {
    const all = await tethys(['list']);
    assert.equal(all.code, 0, all.stderr);
    const lines = all.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^TIME\s+ACTOR\s+ACTION\s+ENTITY\s+DETAILS$/);
    assert.equal(lines.length, 6, all.stdout);
    assert.deepEqual(
      lines.slice(1).map((l) => l.split(/\s{2,}/)[2]),
      ['connection.create', 'channel.create', 'thing.update', 'thing.create', 'user.register'],
    );
    const update = lines.find((l) => l.includes('thing.update'))!;
    assert.match(update, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ /);
    assert.ok(update.includes(user.email), update);
    assert.ok(update.includes(`thing ${thingId}`), update);
    assert.ok(update.includes('name="pump 2" metadata_fields=[site,floor]'), update);
    // The columns line up: every ACTION starts where the header's does.
    const at = lines[0]!.indexOf('ACTION');
    for (const l of lines.slice(1)) assert.match(l.slice(at), /^(thing|channel|connection|user)\./, l);
    assert.match(all.stderr, /^1–5 of 5, newest first\n$/);

    const [json, ofChannel, paged, byActor, future, recent, bad, tooMany] = await Promise.all([
      tethys(['list', '--json', '--action', 'thing.', '--asc']),
      tethys(['list', '--json', '--entity', channelId, '--type', 'connection']),
      tethys(['list', '--json', '--limit', '1', '--offset', '1']),
      tethys(['list', '--json', '--actor', 'system']),
      tethys(['list', '--from', '2999-01-01T00:00:00Z']),
      tethys(['list', '--json', '--from', '1h', '--to', '0s']),
      tethys(['list', '--from', 'yesterday']),
      tethys(['list', '--limit', '1000']),
    ]);
    assert.equal(json.code, 0, json.stderr);
    assert.equal(json.json.total, 2);
    assert.deepEqual(
      json.json.events.map((e: AuditEvent) => e.action),
      ['thing.create', 'thing.update'],
    );

    assert.deepEqual(
      ofChannel.json.events.map((e: AuditEvent) => [e.action, e.related_id]),
      [['connection.create', thingId]],
    );
    assert.equal(paged.json.total, 5);
    assert.deepEqual(
      paged.json.events.map((e: AuditEvent) => e.action),
      ['channel.create'],
    );
    assert.deepEqual(byActor.json, { total: 0, events: [] });
    assert.equal(future.code, 0, future.stderr);
    assert.equal(future.stdout.trim().split('\n').length, 1, 'the header alone');
    assert.match(future.stderr, /no events/);
    assert.equal(recent.json.total, 5, '--from 1h: an hour ago; --to 0s: now');

    assert.equal(bad.code, 2, 'a time that is not one is a usage error');
    assert.match(bad.stderr, /RFC 3339/);
    assert.equal(tooMany.code, 1);
    assert.match(tooMany.stderr, /^error: 400 .*limit/m);
  });

  it('follow: prints the new events as they are committed, until stopped by its PID', async () => {
    const env = { TETHYS_URL: fixture.server.url, TETHYS_TOKEN: user.token };
    const plain = startFollower(['--interval', '100ms'], env);
    const json = startFollower(['--interval', '100ms', '--json', '--action', 'thing.'], env);
    try {
      // Each says when it starts; what came before (the before hook's changes) is not printed.
      // (A process through tsx on a busy machine can take several seconds to start.)
      await eventually(
        'both followers to start',
        () => [plain, json].every((f) => f.stderr().startsWith('following events since ')),
        { timeoutMs: 60_000 },
      );
      const valve = await api.things.create({ name: 'valve' });
      await api.things.update(valve, { name: 'valve 2' });
      await api.connect([channelId], [valve]);
      await api.things.remove(valve);

      const lines = await eventually('the four events as lines', () => {
        const got = plain.stdout().trimEnd().split('\n').filter(Boolean);
        return got.length >= 4 ? got : undefined;
      });
      assert.deepEqual(
        lines.map((l) => l.split(/\s{2,}/)[2]),
        ['thing.create', 'thing.update', 'connection.create', 'thing.remove'],
        plain.stdout(),
      );
      assert.ok(lines[1]!.includes('name="valve 2"'), lines[1]);
      assert.ok(
        lines.every((l) => l.includes(user.email)),
        'the actor',
      );
      const objects = await eventually('the thing events as JSON lines', () => {
        const got = json
          .stdout()
          .trimEnd()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as AuditEvent);
        return got.length >= 3 ? got : undefined;
      });
      assert.deepEqual(
        objects.map((e) => [e.action, e.entity_id]),
        [
          ['thing.create', valve],
          ['thing.update', valve],
          ['thing.remove', valve],
        ],
      );
      // Nothing twice, though every poll asks again for the last seconds.
      await api.channels.update(channelId, { name: 'telemetry 2' });
      await eventually('the channel update', () => plain.stdout().includes('channel.update'));
      assert.equal(plain.stdout().trimEnd().split('\n').length, 5, plain.stdout());
      assert.equal(json.stdout().trimEnd().split('\n').length, 3, 'the action filter holds');
    } finally {
      plain.child.kill('SIGINT');
      json.child.kill('SIGTERM');
    }
    assert.equal(await plain.exited, 0, `Ctrl-C ends it quietly: ${plain.stderr()}`);
    assert.equal(await json.exited, 0, json.stderr());
  });

  it('SDK: events.list, events.all, things.events, channels.events', async () => {
    const page = await api.events.list({
      entity_id: thingId,
      dir: 'asc',
      from: new Date(Date.now() - 3_600_000),
    });
    assert.deepEqual(
      page.events.map((e) => e.action),
      ['thing.create', 'thing.update', 'connection.create'],
    );
    const history = await api.things.events(thingId, { dir: 'asc' });
    assert.deepEqual(history, { total: 3, events: page.events });
    const ofChannel = await api.channels.events(channelId, { action: 'channel.', dir: 'asc' });
    assert.deepEqual(
      ofChannel.events.map((e) => e.action),
      ['channel.create', 'channel.update'],
    );
    const seen: string[] = [];
    for await (const e of api.events.all({ dir: 'asc' })) seen.push(e.id);
    const total = (await api.events.list({ limit: 1 })).total;
    assert.equal(seen.length, total);
    assert.deepEqual(seen, [...seen].sort(), 'oldest first, in id order');
    assert.equal(new Set(seen).size, seen.length);
  });

  it('SDK: follow yields a late-committed event (a smaller id than one seen) once, and stops on abort', async () => {
    // A transaction that commits late cannot be made on cue through the API: this server
    // double answers what the database would have, poll after poll.
    const t0 = Date.UTC(2026, 11, 5, 8, 0, 0);
    const event = (n: number, ms: number): AuditEvent => ({
      id: `${ms
        .toString(16)
        .padStart(12, '0')
        .replace(/^(.{8})/, '$1-')}-7000-8000-00000000000${n}`,
      time: new Date(ms).toISOString(),
      actor: 'ops@example.com',
      actor_user: 'ops@example.com',
      action: 'thing.create',
      entity_type: 'thing',
      entity_id: `thing-${n}`,
      related_id: null,
      owner: 'ops@example.com',
      source: null,
      request_id: null,
      details: {},
    });
    const early = event(1, t0 + 1000); // committed late: answered only from the second poll on
    const later = event(2, t0 + 2000);
    const next = event(3, t0 + 9000);
    const polls = [[later], [early, later], [early, later, next], [next]];
    const asked: URLSearchParams[] = [];
    const stop = new AbortController();
    const fake: typeof fetch = async (input) => {
      const url = new URL(String(input));
      asked.push(url.searchParams);
      const events = polls[Math.min(asked.length - 1, polls.length - 1)]!;
      if (asked.length >= polls.length) stop.abort();
      return new Response(JSON.stringify({ total: events.length, events }), {
        headers: { 'content-type': 'application/json' },
      });
    };
    const sdk = new Tethys({ url: 'http://127.0.0.1:1', token: 't', fetch: fake });
    const got: string[] = [];
    for await (const e of sdk.events.follow(
      { action: 'thing.' },
      { signal: stop.signal, intervalMs: 1, since: t0 },
    ))
      got.push(e.entity_id);
    assert.deepEqual(got, ['thing-2', 'thing-1', 'thing-3'], 'each once, the late one too');
    assert.equal(asked[0]!.get('from'), String(t0), 'starts at since');
    assert.equal(asked[0]!.get('dir'), 'asc');
    assert.equal(asked[0]!.get('action'), 'thing.');
    assert.equal(asked[1]!.get('from'), String(t0), 'not before since');
    assert.equal(asked[3]!.get('from'), String(t0 + 9000 - 5000), 'the newest seen less 5 s');
  });
});
