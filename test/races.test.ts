import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { before, describe, it } from 'node:test';
import pg from 'pg';
import { createChannels, createThings, ids, listAll, page, sorted } from './helpers/entities.js';
import { dialect, type Reply, userToken, withServer } from './helpers/server.js';
import { eventually } from './helpers/wait.js';

/**
 * Clients racing for the same unique value: the same external id, thing key, connection
 * or group member asked for by several requests at once, in whatever order each request
 * lists them. One request wins, every other gets a 409, and none a 5xx (on PostgreSQL,
 * concurrent inserts of one value into an exclusion constraint, or of overlapping rows
 * in opposite orders, deadlock unless the writes are made so they cannot).
 */
describe(`concurrent requests for the same unique value (${dialect})`, () => {
  const fixture = withServer();
  const { request } = fixture;

  const uid = () => crypto.randomBytes(6).toString('hex');
  const statuses = (replies: Reply[]) => sorted(replies.map((r) => String(r.status)));
  const oneWins = (replies: Reply[], winner: number) => {
    const expected = sorted([String(winner), ...replies.slice(1).map(() => '409')]);
    assert.deepEqual(statuses(replies), expected, replies.map((r) => `${r.status} ${r.text}`).join('\n'));
  };
  const ROUNDS = 4;
  const RACERS = 6;

  it('POST /mapping with one external id: one 201, the others 409, one gateway stored', async () => {
    const { token } = await userToken(request);
    for (let round = 0; round < ROUNDS; round++) {
      const externalId = `race-${uid()}`;
      const replies = await Promise.all(
        Array.from({ length: RACERS }, () =>
          request('POST', '/mapping', { token, body: { external_id: externalId, external_key: 'k' } }),
        ),
      );
      oneWins(replies, 201);
    }
    assert.equal((await page(request, token, '/things/configs?limit=1')).total, ROUNDS);
    assert.equal((await page(request, token, '/things?limit=1')).total, ROUNDS);
  });

  it('POST /things with one key: one 201, the others 409', async () => {
    const { token } = await userToken(request);
    for (let round = 0; round < ROUNDS; round++) {
      const key = `key-${uid()}`;
      const replies = await Promise.all(
        Array.from({ length: RACERS }, (_, i) =>
          request('POST', '/things', { token, body: { name: `t${i}`, key } }),
        ),
      );
      oneWins(replies, 201);
    }
    assert.equal((await page(request, token, '/things?limit=1')).total, ROUNDS);
  });

  it('bulk creates sharing keys in different orders: one 201, the others 409, nothing half-made', async () => {
    const { token } = await userToken(request);
    const winners: string[][] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const keys = Array.from({ length: 400 }, (_, i) => `bulk-${uid()}-${i}`);
      // The same keys forwards, backwards and rotated, each with a key of its own.
      const orders = [
        keys,
        [...keys].reverse(),
        [...keys.slice(6), ...keys.slice(0, 6)],
        [...keys.slice(3), ...keys.slice(0, 3)].reverse(),
      ];
      const bodies = orders.map((order, b) =>
        [...order, `own-${uid()}-${b}`].map((key) => ({ name: 'b', key })),
      );
      const replies = await Promise.all(
        bodies.map((body) => request('POST', '/things/bulk', { token, body })),
      );
      oneWins(replies, 201);
      const won = replies.findIndex((r) => r.status === 201);
      winners.push(bodies[won]!.map((t) => t.key));
    }
    const stored = await listAll(request, token, '/things', 'things');
    assert.deepEqual(sorted(stored.map((t) => t.key)), sorted(winners.flat()));
  });

  it('PATCH /things/{id}/key to one new key on several things: one 200, the others 409', async () => {
    const { token } = await userToken(request);
    for (let round = 0; round < ROUNDS; round++) {
      const things = await createThings(
        request,
        token,
        Array.from({ length: RACERS }, (_, i) => ({ name: `p${i}` })),
      );
      const key = `patched-${uid()}`;
      const replies = await Promise.all(
        things.map((t) => request('PATCH', `/things/${t.id}/key`, { token, body: { key } })),
      );
      oneWins(replies, 200);
      const stored = await Promise.all(things.map((t) => request('GET', `/things/${t.id}`, { token })));
      assert.equal(stored.filter((r) => r.json.key === key).length, 1);
    }
  });

  it('things swapping keys at once: each a 409, no key changed', async () => {
    const { token } = await userToken(request);
    for (let round = 0; round < ROUNDS; round++) {
      const things = await createThings(
        request,
        token,
        Array.from({ length: 3 }, (_, i) => ({ name: `s${i}` })),
      );
      // A takes B's key, B takes C's, C takes A's.
      const replies = await Promise.all(
        things.map((t, i) =>
          request('PATCH', `/things/${t.id}/key`, { token, body: { key: things[(i + 1) % 3]!.key } }),
        ),
      );
      assert.deepEqual(statuses(replies), ['409', '409', '409'], replies.map((r) => r.text).join('\n'));
      for (const t of things)
        assert.equal((await request('GET', `/things/${t.id}`, { token })).json.key, t.key);
    }
  });

  it('POST /connect of the same pairs listed in different orders: one 200, the others 409', async () => {
    const { token } = await userToken(request);
    for (let round = 0; round < ROUNDS; round++) {
      const things = ids(
        await createThings(
          request,
          token,
          Array.from({ length: 40 }, (_, i) => ({ name: `t${i}` })),
        ),
      );
      const channels = ids(
        await createChannels(
          request,
          token,
          Array.from({ length: 10 }, (_, i) => ({ name: `c${i}` })),
        ),
      );
      const bodies = [
        { channel_ids: channels, thing_ids: things },
        { channel_ids: [...channels].reverse(), thing_ids: [...things].reverse() },
        { channel_ids: channels, thing_ids: [...things].reverse() },
        { channel_ids: [...channels].reverse(), thing_ids: things },
      ];
      const replies = await Promise.all(bodies.map((body) => request('POST', '/connect', { token, body })));
      oneWins(replies, 200);
      for (const c of channels) {
        const connected = await listAll(request, token, `/channels/${c}/things`, 'things');
        assert.deepEqual(sorted(ids(connected)), sorted(things));
      }
    }
  });

  it('PUT connect of one pair and of crossing pairs at once: each pair connected once', async () => {
    const { token } = await userToken(request);
    const things = ids(
      await createThings(
        request,
        token,
        Array.from({ length: 3 }, (_, i) => ({ name: `t${i}` })),
      ),
    );
    const channels = ids(await createChannels(request, token, [{ name: 'c0' }, { name: 'c1' }]));
    const pairs = channels.flatMap((c) => things.map((t) => [c, t] as const));
    // Every pair asked for three times, the bursts in opposite orders.
    const burst = [...pairs, ...[...pairs].reverse(), ...pairs];
    const replies = await Promise.all(
      burst.map(([c, t]) => request('PUT', `/channels/${c}/things/${t}`, { token })),
    );
    for (const [c, t] of pairs) {
      const mine = replies.filter((_, i) => burst[i]![0] === c && burst[i]![1] === t);
      assert.deepEqual(
        statuses(mine),
        ['200', '409', '409'],
        mine.map((r) => `${r.status} ${r.text}`).join('\n'),
      );
    }
    for (const c of channels) {
      const connected = await listAll(request, token, `/channels/${c}/things`, 'things');
      assert.deepEqual(sorted(ids(connected)), sorted(things));
    }
  });

  it('assigning the same members to a group in different orders: one 200, the others 409', async () => {
    const { token } = await userToken(request);
    for (let round = 0; round < ROUNDS; round++) {
      const created = await request('POST', '/groups', { token, body: { name: `g-${uid()}` } });
      assert.equal(created.status, 201, created.text);
      const group = created.headers.get('location')!.split('/').pop()!;
      const members = Array.from({ length: 400 }, (_, i) => `member-${uid()}-${i}`);
      const orders = [members, [...members].reverse(), [...members.slice(200), ...members.slice(0, 200)]];
      const replies = await Promise.all(
        orders.map((order) =>
          request('POST', `/groups/${group}/members`, { token, body: { type: 'things', members: order } }),
        ),
      );
      oneWins(replies, 200);
      const listed = await request('GET', `/groups/${group}/members?limit=1`, { token });
      assert.equal(listed.json.total, members.length, listed.text);
    }
  });
  it('bootstrap configs: one external id or thing at once, whitelisting and channel lists raced', async () => {
    const { token } = await userToken(request);
    const channels = ids(
      await createChannels(
        request,
        token,
        Array.from({ length: 30 }, (_, i) => ({ name: `c${i}` })),
      ),
    );
    const externalId = `ext-${uid()}`;
    const adds = await Promise.all(
      Array.from({ length: RACERS }, () =>
        request('POST', '/things/configs', {
          token,
          body: { external_id: externalId, external_key: 'k', channels },
        }),
      ),
    );
    oneWins(adds, 201);
    const id = adds
      .find((r) => r.status === 201)!
      .headers.get('location')!
      .split('/')
      .pop()!;
    // The same thing, other external ids: its config exists, so 409.
    const sameThing = await Promise.all(
      Array.from({ length: 3 }, () =>
        request('POST', '/things/configs', {
          token,
          body: { thing_id: id, external_id: `other-${uid()}`, external_key: 'k' },
        }),
      ),
    );
    assert.deepEqual(statuses(sameThing), ['409', '409', '409']);

    for (let round = 0; round < ROUNDS; round++) {
      const on = await Promise.all(
        Array.from({ length: RACERS }, () =>
          request('PUT', `/things/state/${id}`, { token, body: { state: 1 } }),
        ),
      );
      assert.deepEqual(statuses(on), Array(RACERS).fill('200'), on.map((r) => r.text).join('\n'));
      const connected = await listAll(request, token, `/things/${id}/channels`, 'channels');
      assert.deepEqual(sorted(ids(connected)), sorted(channels));
      const lists = [channels, [...channels].reverse(), [...channels.slice(15), ...channels.slice(0, 15)]];
      const updates = await Promise.all(
        lists.map((list) =>
          request('PUT', `/things/configs/connections/${id}`, { token, body: { channels: list } }),
        ),
      );
      assert.deepEqual(statuses(updates), ['200', '200', '200'], updates.map((r) => r.text).join('\n'));
      const off = await Promise.all(
        Array.from({ length: RACERS }, () =>
          request('PUT', `/things/state/${id}`, { token, body: { state: 0 } }),
        ),
      );
      assert.deepEqual(statuses(off), Array(RACERS).fill('200'), off.map((r) => r.text).join('\n'));
      assert.deepEqual(await listAll(request, token, `/things/${id}/channels`, 'channels'), []);
    }
  });
  it('deleting a thing or a channel while its config is whitelisted or changed: no 5xx, nothing left over', async () => {
    const { token } = await userToken(request);
    for (let round = 0; round < ROUNDS; round++) {
      const channels = ids(
        await createChannels(
          request,
          token,
          Array.from({ length: 20 }, (_, i) => ({ name: `c${i}` })),
        ),
      );
      const added = await request('POST', '/things/configs', {
        token,
        body: { external_id: `del-${uid()}`, external_key: 'k', channels },
      });
      assert.equal(added.status, 201, added.text);
      const id = added.headers.get('location')!.split('/').pop()!;
      const doomed = channels[round % channels.length]!;
      const replies = await Promise.all([
        request('PUT', `/things/state/${id}`, { token, body: { state: 1 } }),
        request('PUT', `/things/configs/connections/${id}`, {
          token,
          body: { channels: [...channels].reverse() },
        }),
        request('PUT', `/things/state/${id}`, { token, body: { state: 1 } }),
        request('DELETE', `/channels/${doomed}`, { token }),
        request('PUT', `/channels/${channels[1]}/things/${id}`, { token }),
        request('DELETE', `/things/${id}`, { token }),
        request('PUT', `/things/state/${id}`, { token, body: { state: 0 } }),
      ]);
      // Each as if it came before or after the deletes: done, missing, or (a config read
      // before a channel went) a conflict to retry; the deletes always succeed.
      const allowed = [
        [200, 404, 409],
        [200, 400, 404, 409],
        [200, 404, 409],
        [204],
        [200, 404, 409],
        [204],
        [200, 404, 409],
      ];
      for (const [i, r] of replies.entries()) {
        assert.ok(allowed[i]!.includes(r.status), `request ${i}: ${r.status} ${r.text}`);
      }
      assert.equal((await request('GET', `/things/${id}`, { token })).status, 404);
      assert.equal((await request('GET', `/things/configs/${id}`, { token })).status, 404);
      assert.equal((await request('GET', `/channels/${doomed}`, { token })).status, 404);
      for (const c of channels.filter((c) => c !== doomed)) {
        assert.deepEqual(
          await listAll(request, token, `/channels/${c}/things`, 'things'),
          [],
          `channel ${c}`,
        );
      }
    }
  });
});

/**
 * PostgreSQL: another transaction (a client of the test's own) holds a lock while a
 * request waits for it, then commits; what the request answers and leaves shows that
 * it read, checked and wrote after that commit, in the order the locks say.
 */
describe(`a request waiting on another transaction's change (${dialect})`, {
  skip: dialect !== 'postgres' && 'PostgreSQL only: SQLite runs one write transaction at a time',
}, () => {
  let db: pg.Client;
  /** Outside `db`'s transactions, where pg_stat_activity would be read once and kept. */
  let watcher: pg.Client;
  const fixture = withServer({}, { beforeClose: () => Promise.all([db.end(), watcher.end()]) });
  const { request } = fixture;

  before(async () => {
    db = new pg.Client({ connectionString: fixture.server.dbUrl });
    watcher = new pg.Client({ connectionString: fixture.server.dbUrl });
    await Promise.all([db.connect(), watcher.connect()]);
  });

  /** Waits until a statement like `pattern` waits for a lock in the server's database. */
  async function waiting(pattern: string): Promise<void> {
    await eventually(
      `a statement like ${pattern} waiting for a lock`,
      async () =>
        (
          await watcher.query(
            `SELECT 1 FROM pg_stat_activity WHERE datname = current_database()
              AND wait_event_type = 'Lock' AND query ILIKE $1`,
            [pattern],
          )
        ).rowCount,
    );
  }

  const config = async (token: string, channels: string[]) => {
    const added = await request('POST', '/things/configs', {
      token,
      body: { external_id: `held-${crypto.randomUUID()}`, external_key: 'k', channels },
    });
    assert.equal(added.status, 201, added.text);
    return added.headers.get('location')!.split('/').pop()!;
  };

  it('POST /connect whose channel is deleted meanwhile: 409 to retry, nothing written', async () => {
    const { token } = await userToken(request);
    const things = ids(await createThings(request, token, [{ name: 't1' }, { name: 't2' }]));
    const [channel] = await createChannels(request, token, [{ name: 'c' }]);
    await db.query('BEGIN');
    await db.query('DELETE FROM channels WHERE id = $1', [channel!.id]);
    const reply = request('POST', '/connect', {
      token,
      body: { channel_ids: [channel!.id], thing_ids: things },
    });
    // The connect still sees the channel, inserts, and its key check waits for the delete.
    await waiting('%INSERT INTO connections%');
    await db.query('COMMIT');
    const answer = await reply;
    assert.equal(answer.status, 409, answer.text);
    assert.deepEqual(answer.json, { error: 'entity changed by a concurrent request; try again' });
    const left = await db.query('SELECT count(*)::int AS n FROM connections WHERE thing_id = ANY($1)', [
      things,
    ]);
    assert.equal(left.rows[0].n, 0);
  });

  it('a config whitelisted meanwhile: PUT /things/state 0 reads the committed state and disconnects', async () => {
    const { token, email } = await userToken(request);
    const channels = ids(await createChannels(request, token, [{ name: 'c1' }, { name: 'c2' }]));
    const id = await config(token, channels);
    // Another whitelisting holds the thing, activates the config and connects it.
    await db.query('BEGIN');
    await db.query('SELECT 1 FROM things WHERE id = $1 FOR NO KEY UPDATE', [id]);
    await db.query('UPDATE bootstrap_configs SET state = 1 WHERE thing_id = $1', [id]);
    for (const c of channels) {
      await db.query('INSERT INTO connections (channel_id, thing_id, owner) VALUES ($1, $2, $3)', [
        c,
        id,
        email,
      ]);
    }
    const reply = request('PUT', `/things/state/${id}`, { token, body: { state: 0 } });
    await waiting('%FOR NO KEY UPDATE%');
    await db.query('COMMIT');
    assert.equal((await reply).status, 200);
    const view = await request('GET', `/things/configs/${id}`, { token });
    assert.equal(view.json.state, 0, 'the later request decides the state');
    assert.deepEqual(await listAll(request, token, `/things/${id}/channels`, 'channels'), []);
  });

  it('a listed channel deleted meanwhile: PUT /things/configs/connections answers 400 and changes nothing', async () => {
    const { token } = await userToken(request);
    const channels = ids(
      await createChannels(request, token, [{ name: 'c1' }, { name: 'c2' }, { name: 'c3' }]),
    );
    const id = await config(token, channels.slice(0, 2));
    await db.query('BEGIN');
    await db.query('DELETE FROM channels WHERE id = $1', [channels[2]]);
    const reply = request('PUT', `/things/configs/connections/${id}`, {
      token,
      body: { channels: [channels[2], channels[1]] },
    });
    // The ownership check of the listed channels waits for the delete, then misses it.
    await waiting('%');
    await db.query('COMMIT');
    const answer = await reply;
    assert.equal(answer.status, 400, answer.text);
    assert.equal(answer.json.error, 'failed to update connections');
    const view = await request('GET', `/things/configs/${id}`, { token });
    assert.deepEqual(ids(view.json.mainflux_channels), channels.slice(0, 2));
  });
});
