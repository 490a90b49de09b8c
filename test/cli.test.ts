import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { CsvError, parseCsv } from '../src/cli/csv.js';
import { Progress } from '../src/cli/progress.js';
import { runCli } from './helpers/process.js';
import { closedPort, dialect, userToken, withServer } from './helpers/server.js';

/** One CSV field as a spreadsheet writes it: quoted when it holds a comma, quote or line break. */
const csvField = (value: string) => (/[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);
const csvLine = (fields: string[]) => fields.map(csvField).join(',');

const ESC = String.fromCharCode(27);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe(`cli (${dialect})`, () => {
  const fixture = withServer(
    {},
    {
      beforeClose: async () => {
        fs.rmSync(dir, { recursive: true, force: true });
      },
    },
  );
  const { request } = fixture;
  let dir: string;
  let token: string;
  let email: string;

  /** The CLI against the test server, as the logged-in user unless a token is given. */
  const tethys = (args: string[], env: Record<string, string | undefined> = {}) =>
    runCli(args, { TETHYS_URL: fixture.server.url, TETHYS_TOKEN: token, ...env });

  /** A fresh user (over HTTP: the CLI's users commands have their own test) so counts start at zero. */
  const freshUser = async () => (await userToken(request)).token;

  async function thingsTotal(tok: string): Promise<number> {
    const page = await request('GET', '/things?limit=1', { token: tok });
    assert.equal(page.status, 200);
    return page.json.total;
  }

  before(async () => {
    ({ token, email } = await userToken(request));
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tethys-cli-'));
  });

  it('users create, token, get', async () => {
    const email = `cli-${crypto.randomBytes(5).toString('hex')}@example.com`;
    const created = await runCli(['users', 'create', email, 'secret-password'], {
      TETHYS_URL: fixture.server.url,
    });
    assert.equal(created.code, 0, created.stderr);
    assert.equal(created.json.email, email);
    assert.match(created.json.id, UUID);
    assert.equal(created.stdout, `${JSON.stringify(created.json, null, 2)}\n`, 'pretty JSON, 2 spaces');

    const login = await runCli(['users', 'token', email, 'secret-password'], {
      TETHYS_URL: fixture.server.url,
    });
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stdout, /^[\w-]+\.[\w-]+\.[\w-]+\n$/, 'the token alone on one line');
    const token = login.stdout.trim();
    const tethys = (args: string[]) => runCli(args, { TETHYS_URL: fixture.server.url, TETHYS_TOKEN: token });

    const [profile, byId, byFlag, taken, wrong] = await Promise.all([
      tethys(['users', 'get']),
      tethys(['users', 'get', created.json.id]),
      runCli(['users', 'get', '--token', token, '--url', fixture.server.url], {}),
      tethys(['users', 'create', email, 'secret-password']),
      tethys(['users', 'token', email, 'wrong-password']),
    ]);
    assert.equal(profile.code, 0, profile.stderr);
    assert.deepEqual(profile.json, { id: created.json.id, email });
    assert.deepEqual(byId.json, profile.json);
    assert.deepEqual(byFlag.json, profile.json, '--url and --token flags work as the variables do');
    assert.equal(taken.code, 1);
    assert.equal(taken.stderr, 'error: 409 email already taken (POST /users)\n');
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /^error: 403 missing or invalid credentials provided \(POST \/tokens\)\n$/);
    assert.equal(wrong.stdout, '');
  });

  it('things create, get, list, update, delete', async () => {
    const created = await tethys([
      'things',
      'create',
      '{"name":"lamp, kitchen","metadata":{"room":"kitchen","floor":1}}',
    ]);
    assert.equal(created.code, 0, created.stderr);
    const thing = created.json;
    assert.match(thing.id, UUID);
    assert.equal(thing.name, 'lamp, kitchen');
    assert.match(thing.key, UUID);
    assert.deepEqual(thing.metadata, { room: 'kitchen', floor: 1 });

    const got = await tethys(['things', 'get', thing.id]);
    assert.equal(got.code, 0, got.stderr);
    assert.deepEqual(got.json, thing);

    await tethys(['things', 'create', '{"name":"other","key":"fixed-key-1"}']);
    const [all, byName, byMeta, paged] = await Promise.all([
      tethys(['things', 'list']),
      tethys(['things', 'list', '--name', 'LAMP, k']),
      tethys(['things', 'list', '--metadata', '{"room":"kitchen","floor":1}']),
      tethys(['things', 'list', '--limit', '1', '--offset', '1', '--order', 'name', '--dir', 'asc']),
    ]);
    assert.equal(all.json.total, 2);
    assert.deepEqual(byName.json.things, [thing]);
    assert.deepEqual(byMeta.json.things, [thing]);
    assert.equal(paged.json.limit, 1);
    assert.equal(paged.json.offset, 1);
    assert.equal(paged.json.things.length, 1);
    assert.equal(paged.json.things[0].name, 'other', 'sorted by name ascending, second one');

    const updated = await tethys([
      'things',
      'update',
      thing.id,
      '{"name":"lamp 2","metadata":{"room":"hall"}}',
    ]);
    assert.equal(updated.code, 0, updated.stderr);
    assert.deepEqual(updated.json, {
      id: thing.id,
      name: 'lamp 2',
      key: thing.key,
      metadata: { room: 'hall' },
    });

    const deleted = await tethys(['things', 'delete', thing.id]);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(deleted.stdout, '');
    const gone = await tethys(['things', 'get', thing.id]);
    assert.equal(gone.code, 1);
    assert.equal(gone.stderr, `error: 404 non-existent entity (GET /things/${thing.id})\n`);
    assert.equal(gone.stdout, '');
  });

  it('usage errors exit 2 and send nothing; failed requests exit 1 with one clear line', async () => {
    const before = await thingsTotal(token);
    const [badJson, notObject, badMeta, noToken, missingArg] = await Promise.all([
      tethys(['things', 'create', '{"name":"x",']),
      tethys(['channels', 'update', crypto.randomUUID(), '["x"]']),
      tethys(['things', 'list', '--metadata', '{oops}']),
      tethys(['things', 'list'], { TETHYS_TOKEN: '' }),
      tethys(['things', 'get']),
    ]);
    for (const r of [badJson, notObject, badMeta, noToken, missingArg]) {
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /^error: /);
      assert.equal(r.stdout, '');
    }
    assert.match(badJson.stderr, /not valid JSON/i);
    assert.match(notObject.stderr, /expected a JSON object/i);
    assert.match(noToken.stderr, /needs a token.*TETHYS_TOKEN/);
    assert.equal(await thingsTotal(token), before, 'nothing was created');

    const missing = crypto.randomUUID();
    const [notFound, badToken, unreachable, channelGone] = await Promise.all([
      tethys(['things', 'get', missing]),
      tethys(['things', 'list'], { TETHYS_TOKEN: 'not-a-token' }),
      tethys(['things', 'list'], { TETHYS_URL: `http://127.0.0.1:${await closedPort()}` }),
      tethys(['channels', 'get', missing]),
    ]);
    assert.equal(notFound.code, 1);
    assert.equal(notFound.stderr, `error: 404 non-existent entity (GET /things/${missing})\n`);
    assert.equal(badToken.code, 1);
    assert.equal(badToken.stderr, 'error: 401 missing or invalid credentials provided (GET /things)\n');
    assert.equal(unreachable.code, 1);
    assert.match(
      unreachable.stderr,
      /^error: cannot reach http:\/\/127\.0\.0\.1:\d+: connect ECONNREFUSED .+ \(GET \/things\)\n$/,
    );
    assert.equal(channelGone.code, 1);
    assert.equal(channelGone.stderr, `error: 404 non-existent entity (GET /channels/${missing})\n`);
  });

  it('things bulk imports 2,500 CSV rows with quoted commas, in batches, with progress', async () => {
    const tok = await freshUser();
    const lines = ['name,key,metadata'];
    for (let i = 0; i < 2500; i++) {
      const name = `sensor ${i}, hall "B"`;
      const key = i % 10 === 0 ? '' : `bulk-${crypto.randomBytes(4).toString('hex')}-${i}`;
      lines.push(csvLine([name, key, JSON.stringify({ i, tags: ['x', 'y'], note: 'a, b' })]));
    }
    const file = path.join(dir, 'things.csv');
    fs.writeFileSync(file, `${lines.join('\r\n')}\r\n`);

    const r = await tethys(['things', 'bulk', file], { TETHYS_TOKEN: tok });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json, { created: 2500 });
    assert.match(r.stderr, /^imported 2500\/2500$/m, 'stderr is not a TTY: plain progress lines');
    assert.ok(!r.stderr.includes('\r') && !r.stderr.includes(ESC), 'no bar drawing on a pipe');
    assert.equal(await thingsTotal(tok), 2500);

    const one = await request('GET', `/things?metadata=${encodeURIComponent('{"i":1234}')}`, { token: tok });
    assert.equal(one.json.total, 1);
    assert.equal(one.json.things[0].name, 'sensor 1234, hall "B"');
    assert.deepEqual(one.json.things[0].metadata, { i: 1234, tags: ['x', 'y'], note: 'a, b' });
    assert.match(one.json.things[0].key, /^bulk-[0-9a-f]{8}-1234$/);
    const generated = await request('GET', `/things?metadata=${encodeURIComponent('{"i":1230}')}`, {
      token: tok,
    });
    assert.match(generated.json.things[0].key, UUID, 'an empty key cell gets a generated key');
  });

  it('things bulk accepts a name-only CSV and a JSON file, and --print shows what was created', async () => {
    const tok = await freshUser();
    const csv = path.join(dir, 'names.csv');
    fs.writeFileSync(csv, 'name\nalpha\n"beta, gamma"\n\n');
    const fromCsv = await tethys(['things', 'bulk', csv, '--print'], { TETHYS_TOKEN: tok });
    assert.equal(fromCsv.code, 0, fromCsv.stderr);
    assert.deepEqual(
      fromCsv.json.things.map((t: any) => t.name),
      ['alpha', 'beta, gamma'],
    );
    assert.match(fromCsv.json.things[0].key, UUID);

    const json = path.join(dir, 'things.json');
    fs.writeFileSync(
      json,
      JSON.stringify([
        { name: 'j1', metadata: { a: 1 } },
        { name: 'j2', key: `jk-${crypto.randomUUID()}` },
        {},
      ]),
    );
    const fromJson = await tethys(['things', 'bulk', json, '--batch', '2'], { TETHYS_TOKEN: tok });
    assert.equal(fromJson.code, 0, fromJson.stderr);
    assert.deepEqual(fromJson.json, { created: 3 });
    assert.equal(await thingsTotal(tok), 5);
  });

  it('things bulk refuses a file with a duplicate key, or a bad row, before sending anything', async () => {
    const tok = await freshUser();
    const dup = path.join(dir, 'dup.csv');
    const key = `dup-${crypto.randomUUID()}`;
    fs.writeFileSync(dup, ['name,key,metadata', `a,${key},`, 'b,,', `c,${key},"{""x"":1}"`].join('\n'));
    const r = await tethys(['things', 'bulk', dup], { TETHYS_TOKEN: tok });
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^error: .*dup\.csv: duplicate thing keys, nothing imported: key "dup-[^"]+" on row 1 \(line 2\) and row 3 \(line 4\)\n$/,
    );
    assert.equal(r.stdout, '');

    const bad = path.join(dir, 'bad.csv');
    fs.writeFileSync(bad, 'name,metadata\nok,\n"x, y",{},extra\n');
    const badRow = await tethys(['things', 'bulk', bad], { TETHYS_TOKEN: tok });
    assert.equal(badRow.code, 1);
    assert.match(badRow.stderr, /line 3 \(row 2\): 3 fields, the header has 2/);

    const badMeta = path.join(dir, 'badmeta.csv');
    fs.writeFileSync(badMeta, 'name,metadata\nok,[1]\n');
    const meta = await tethys(['things', 'bulk', badMeta], { TETHYS_TOKEN: tok });
    assert.equal(meta.code, 1);
    assert.match(meta.stderr, /line 2 \(row 1\): metadata must be a JSON object/);

    const missingFile = await tethys(['things', 'bulk', path.join(dir, 'nope.csv')], { TETHYS_TOKEN: tok });
    assert.equal(missingFile.code, 1);
    assert.match(missingFile.stderr, /nope\.csv: no such file/);
    assert.equal(await thingsTotal(tok), 0);
  });

  it('things bulk stops at the first failed batch and says which rows failed', async () => {
    const tok = await freshUser();
    const taken = `taken-${crypto.randomUUID()}`;
    const owner = await freshUser();
    assert.equal(
      (await tethys(['things', 'create', JSON.stringify({ key: taken })], { TETHYS_TOKEN: owner })).code,
      0,
    );

    const lines = ['name,key'];
    for (let i = 1; i <= 2000; i++) lines.push(`t${i},${i === 1234 ? taken : ''}`);
    const file = path.join(dir, 'clash.csv');
    fs.writeFileSync(file, `${lines.join('\n')}\n`);
    const r = await tethys(['things', 'bulk', file, '--batch', '500'], { TETHYS_TOKEN: tok });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: 409 entity already exists \(POST \/things\/bulk\)$/m);
    assert.match(r.stderr, /rows 1001-1500 \(lines 1002-1501\) of .*clash\.csv were not imported/);
    assert.match(
      r.stderr,
      /1000 things were created before it \(rows 1-1000\); the 500 rows after it were not sent/,
    );
    assert.equal(r.json.created, 1000);
    assert.deepEqual(r.json.failed, {
      first_row: 1001,
      last_row: 1500,
      error: '409 entity already exists (POST /things/bulk)',
    });
    assert.equal(await thingsTotal(tok), 1000);
  });

  it('channels create, get, list, update, delete, bulk', async () => {
    const tok = await freshUser();
    const as = { TETHYS_TOKEN: tok };
    const created = await tethys(['channels', 'create', '{"name":"alarms","metadata":{"level":"high"}}'], as);
    assert.equal(created.code, 0, created.stderr);
    const channel = created.json;
    assert.match(channel.id, UUID);
    assert.deepEqual(channel, { id: channel.id, name: 'alarms', metadata: { level: 'high' } });
    assert.deepEqual((await tethys(['channels', 'get', channel.id], as)).json, channel);

    const updated = await tethys(['channels', 'update', channel.id, '{"name":"alerts"}'], as);
    assert.deepEqual(updated.json, { id: channel.id, name: 'alerts' });

    const file = path.join(dir, 'channels.csv');
    fs.writeFileSync(file, 'name,metadata\n"c, 1","{""n"":1}"\nc2,\n');
    const bulk = await tethys(['channels', 'bulk', file], as);
    assert.equal(bulk.code, 0, bulk.stderr);
    assert.deepEqual(bulk.json, { created: 2 });

    const withKey = path.join(dir, 'channels-key.csv');
    fs.writeFileSync(withKey, 'name,key\nc,k\n');
    const refused = await tethys(['channels', 'bulk', withKey], as);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /unknown column "key" \(channels have no key\)/);

    const list = await tethys(['channels', 'list', '--name', 'C, 1'], as);
    assert.equal(list.json.total, 1);
    assert.deepEqual(list.json.channels[0].metadata, { n: 1 });
    assert.equal((await tethys(['channels', 'list'], as)).json.total, 3);

    assert.equal((await tethys(['channels', 'delete', channel.id], as)).code, 0);
    const gone = await tethys(['channels', 'get', channel.id], as);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /^error: 404 non-existent entity/);
  });

  it('connect, connections, disconnect', async () => {
    const tok = await freshUser();
    const as = { TETHYS_TOKEN: tok };
    const mk = async (kind: string, name: string) => {
      const created = await request('POST', `/${kind}`, { token: tok, body: { name } });
      return created.headers.get('location')!.split('/').pop()!;
    };
    const [t1, t2, c1, c2] = await Promise.all([
      mk('things', 't1'),
      mk('things', 't2'),
      mk('channels', 'c1'),
      mk('channels', 'c2'),
    ]);

    const one = await tethys(['things', 'connect', t1, c1], as);
    assert.equal(one.code, 0, one.stderr);
    assert.equal(one.stdout, '');
    const again = await tethys(['things', 'connect', t1, c1], as);
    assert.equal(again.code, 1);
    assert.equal(again.stderr, 'error: 409 entity already exists (POST /connect)\n');

    const [chansOfT1, thingsOfC1, notOfT1] = await Promise.all([
      tethys(['things', 'connections', t1], as),
      tethys(['channels', 'connections', c1], as),
      tethys(['things', 'connections', t1, '--disconnected'], as),
    ]);
    assert.deepEqual(
      chansOfT1.json.channels.map((c: any) => c.id),
      [c1],
    );
    assert.deepEqual(
      thingsOfC1.json.things.map((t: any) => t.id),
      [t1],
    );
    assert.deepEqual(
      notOfT1.json.channels.map((c: any) => c.id),
      [c2],
    );

    const many = await tethys(['connect', `${c2}`, `${t1}, ${t2}`], as);
    assert.equal(many.code, 0, many.stderr);
    const thingsOfC2 = await tethys(['channels', 'connections', c2, '--limit', '100'], as);
    assert.deepEqual(thingsOfC2.json.things.map((t: any) => t.id).sort(), [t1, t2].sort());

    const badList = await tethys(['connect', `${c1},`, t1], as);
    assert.equal(badList.code, 2);

    const off = await tethys(['things', 'disconnect', t1, c1], as);
    assert.equal(off.code, 0, off.stderr);
    assert.deepEqual(
      (await tethys(['things', 'connections', t1], as)).json.channels.map((c: any) => c.id),
      [c2],
    );
    const offAgain = await tethys(['things', 'disconnect', t1, c1], as);
    assert.equal(offAgain.code, 1);
    assert.equal(offAgain.stderr, `error: 404 non-existent entity (DELETE /channels/${c1}/things/${t1})\n`);
  });

  it('keys create, get, revoke; a revoked key is refused', async () => {
    const created = await tethys(['keys', 'create', '--duration', '3600']);
    assert.equal(created.code, 0, created.stderr);
    const key = created.json;
    assert.match(key.id, UUID);
    assert.ok(key.value && key.expires_at, 'an API key with an expiry');

    const got = await tethys(['keys', 'get', key.id]);
    assert.equal(got.code, 0, got.stderr);
    assert.equal(got.json.id, key.id);
    assert.equal(got.json.type, 2);
    assert.equal(got.json.subject, email);

    const forever = await tethys(['keys', 'create']);
    assert.equal(forever.code, 0, forever.stderr);
    assert.equal(forever.json.expires_at, undefined, 'no --duration: never expires');

    const used = await tethys(['things', 'list'], { TETHYS_TOKEN: key.value });
    assert.equal(used.code, 0, used.stderr);

    const revoked = await tethys(['keys', 'revoke', key.id]);
    assert.equal(revoked.code, 0, revoked.stderr);
    const refused = await tethys(['things', 'list'], { TETHYS_TOKEN: key.value });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^error: 401 /);
    const lookup = await tethys(['keys', 'get', key.id]);
    assert.equal(lookup.code, 1);
    assert.match(lookup.stderr, /^error: 404 /);

    const badDuration = await tethys(['keys', 'create', '--duration', '1.5']);
    assert.equal(badDuration.code, 2);
  });

  it('groups create, children, assign, members, things, unassign, delete', async () => {
    const tok = await freshUser();
    const as = (args: string[]) => tethys(args, { TETHYS_TOKEN: tok });
    const root = await as(['groups', 'create', '{"name":"site","metadata":{"city":"Oslo"}}']);
    assert.equal(root.code, 0, root.stderr);
    assert.match(root.json.id, /^[0-9A-HJKMNP-TV-Z]{26}$/);
    assert.deepEqual(
      [root.json.level, root.json.path, root.json.metadata],
      [1, root.json.id, { city: 'Oslo' }],
    );
    const floor = await as(['groups', 'create', '{"name":"floor-1"}', '--parent', root.json.id]);
    assert.equal(floor.code, 0, floor.stderr);
    assert.equal(floor.json.path, `${root.json.id}.${floor.json.id}`);

    const tree = await as(['groups', 'list', '--level', '2', '--tree']);
    assert.equal(tree.code, 0, tree.stderr);
    assert.deepEqual(
      tree.json.groups.map((g: { name: string; children?: { name: string }[] }) => [
        g.name,
        g.children?.map((c) => c.name),
      ]),
      [['site', ['floor-1']]],
    );
    const children = await as(['groups', 'children', root.json.id, '--level', '1']);
    assert.deepEqual(
      children.json.groups.map((g: { name: string }) => g.name),
      ['site', 'floor-1'],
    );

    const thing = (await request('POST', '/things/bulk', { token: tok, body: [{ name: 'sensor' }] })).json
      .things[0];
    const assigned = await as(['groups', 'assign', floor.json.id, 'things', thing.id]);
    assert.equal(assigned.code, 0, assigned.stderr);
    const members = await as(['groups', 'members', floor.json.id, '--type', 'things']);
    assert.deepEqual(members.json.Members, [{ ID: thing.id, Type: 'things' }]);
    const inGroup = await as(['groups', 'things', floor.json.id]);
    assert.deepEqual(
      inGroup.json.things.map((t: { name: string }) => t.name),
      ['sensor'],
    );
    const membership = await as(['groups', 'membership', thing.id]);
    assert.deepEqual(
      membership.json.groups.map((g: { id: string }) => g.id),
      [floor.json.id],
    );

    const refused = await as(['groups', 'delete', root.json.id]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^error: 409 .*group is not empty/);
    assert.equal((await as(['groups', 'unassign', floor.json.id, thing.id])).code, 0);
    assert.equal((await as(['groups', 'delete', root.json.id])).code, 0);
    const gone = await as(['groups', 'get', floor.json.id]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /^error: 404 /);
    assert.equal((await as(['groups', 'list', '--level', '0'])).code, 2, 'a level below 1 is a usage error');
  });
});

describe('csv reader', () => {
  it('reads quoted fields with commas, doubled quotes and line breaks', () => {
    const text = '\uFEFFname,metadata\r\n"a, b","{""k"":""v, w""}"\r\n"multi\nline",\n\nplain "quote",x';
    assert.deepEqual(parseCsv(text), [
      { line: 1, fields: ['name', 'metadata'] },
      { line: 2, fields: ['a, b', '{"k":"v, w"}'] },
      { line: 3, fields: ['multi\nline', ''] },
      { line: 6, fields: ['plain "quote"', 'x'] },
    ]);
  });

  it('keeps empty trailing fields and tolerates blanks around quotes', () => {
    assert.deepEqual(parseCsv('a,,\n "b" , c\n'), [
      { line: 1, fields: ['a', '', ''] },
      { line: 2, fields: ['b', ' c'] },
    ]);
  });

  it('says where a quoted field is broken', () => {
    assert.throws(
      () => parseCsv('name\nok\n"open'),
      (err: unknown) => err instanceof CsvError && err.line === 3,
    );
    assert.throws(() => parseCsv('name\n"a"b\n'), /line 2: unexpected "b" after a closing quote/);
  });
});

describe('progress display', () => {
  const sink = (isTTY: boolean) => {
    const chunks: string[] = [];
    return { chunks, stream: { isTTY, columns: 60, write: (c: string) => chunks.push(c) } };
  };

  it('redraws one bar on a terminal and ends it with a newline', () => {
    const { chunks, stream } = sink(true);
    const progress = new Progress(3000, stream, { unit: 'things' });
    progress.update(0);
    progress.update(3000);
    progress.finish();
    const out = chunks.join('');
    assert.match(out, /^\r\[-+\]\s+0% 0\/3000 things/);
    assert.match(out, /\r\[#+\] 100% 3000\/3000 things/);
    assert.ok(out.endsWith('\n'));
    assert.equal(out.split('\n').length, 2, 'one line, redrawn in place');
    for (const line of out.split('\r').filter(Boolean))
      assert.ok(line.replaceAll(`${ESC}[K`, '').trim().length <= 60);
  });

  it('writes plain lines elsewhere, at most one an interval, and the final count', () => {
    const { chunks, stream } = sink(false);
    const progress = new Progress(10000, stream, { lineInterval: 60_000 });
    progress.update(0);
    progress.update(1000);
    progress.update(2000);
    progress.finish();
    assert.deepEqual(chunks, ['imported 2000/10000\n']);
    const done = sink(false);
    const all = new Progress(10, done.stream, { lineInterval: 0 });
    all.update(5);
    all.update(10);
    all.finish();
    assert.deepEqual(done.chunks, ['imported 5/10\n', 'imported 10/10\n']);
  });
});
