import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import pg from 'pg';
import { page } from './helpers/entities.js';
import { dialect, userToken, withServer } from './helpers/server.js';
import { eventually } from './helpers/wait.js';

/**
 * PostgreSQL's GIN indexes keep new entries in a pending list that every metadata or
 * name search reads whole; Tethys merges it a second after writes (src/db/gin-pending.ts)
 * instead of leaving it until VACUUM. Autovacuum is off for these tables here, so only
 * Tethys can empty the list.
 */
describe(`GIN pending entries are merged after writes (${dialect})`, { skip: dialect !== 'postgres' }, () => {
  const fixture = withServer({}, { beforeClose: () => db?.end() });
  const { request } = fixture;
  let db: pg.Client;
  let token: string;

  before(async () => {
    token = (await userToken(request)).token;
    db = new pg.Client({ connectionString: fixture.server.dbUrl });
    await db.connect();
    await db.query('CREATE EXTENSION IF NOT EXISTS pgstattuple');
    await db.query('ALTER TABLE things SET (autovacuum_enabled = off)');
    await db.query('ALTER TABLE channels SET (autovacuum_enabled = off)');
  });

  const pending = async (index: string): Promise<number> =>
    Number((await db.query('SELECT pending_tuples FROM pgstatginindex($1)', [index])).rows[0].pending_tuples);

  /** Waits (5 s at most) until the index has no pending entries. */
  const settles = (index: string) =>
    eventually(`no pending entries in ${index}`, async () => (await pending(index)) === 0, {
      timeoutMs: 5000,
      intervalMs: 100,
    });

  it('a bulk create: entries pending at first, none a few seconds later; the filter finds the thing', async () => {
    const body = Array.from({ length: 2000 }, (_, i) => ({
      name: `gin-${i}`,
      metadata: { serial: `g${i}` },
    }));
    const reply = await request('POST', '/things/bulk', { token, body });
    assert.equal(reply.status, 201);
    assert.ok((await pending('things_metadata')) > 0, 'the insert went to the pending list');
    await settles('things_metadata');
    await settles('things_name_trgm');
    const found = await page(request, token, `/things?metadata=${encodeURIComponent('{"serial":"g1234"}')}`);
    assert.equal(found.total, 1);
    assert.equal(found.things[0].name, 'gin-1234');
  });

  it('channel creates and thing updates too', async () => {
    const channels = Array.from({ length: 500 }, (_, i) => ({ name: `c-${i}`, metadata: { room: `r${i}` } }));
    assert.equal((await request('POST', '/channels/bulk', { token, body: channels })).status, 201);
    assert.ok((await pending('channels_metadata')) > 0);
    await settles('channels_metadata');

    const thing = (await page(request, token, '/things?limit=1')).things[0];
    const put = await request('PUT', `/things/${thing.id}`, {
      token,
      body: { name: 'renamed', metadata: { place: 'roof' } },
    });
    assert.equal(put.status, 200);
    assert.ok((await pending('things_metadata')) > 0);
    await settles('things_metadata');
    const found = await page(request, token, `/things?metadata=${encodeURIComponent('{"place":"roof"}')}`);
    assert.deepEqual(
      found.things.map((t: { id: string }) => t.id),
      [thing.id],
    );
  });
});
