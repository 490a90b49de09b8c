import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { EventsRepository, type StoredEvent, storedEvent, storedShared } from '../../src/audit/repo.js';
import { detailsJson, newEventId, scrub } from '../../src/audit/service.js';
import { inTransaction } from '../../src/db/transactions.js';
import { dialect } from '../helpers/server.js';
import { openStore, type Store } from './wiring.js';

/** The events repository alone: the count cap, the order of ids, pruning by id bound. */
describe(`audit events repository (${dialect})`, () => {
  let store: Store;
  before(async () => {
    store = await openStore();
  });
  after(() => store?.close());

  const event = (owner: string, entity: string): StoredEvent =>
    storedEvent(
      newEventId().id,
      storedShared({ actor: owner, user: owner }, null, null),
      { action: 'thing.update', entityId: entity, owner },
      '{"name":"x"}',
    );

  it('counts matches up to its cap, then says the total is a lower bound; pages stay exact', async () => {
    const repo = new EventsRepository(store.db, 5);
    const owner = `o${crypto.randomBytes(4).toString('hex')}@example.com`;
    const entity = crypto.randomUUID();
    await inTransaction(store.db, () => repo.insert(Array.from({ length: 8 }, () => event(owner, entity))));
    const all = await repo.page(owner, { offset: 0, limit: 10, dir: 'desc' });
    assert.equal(all.total, 5);
    assert.equal(all.capped, true);
    assert.equal(all.items.length, 8);
    const few = await repo.page(owner, {
      offset: 0,
      limit: 10,
      dir: 'asc',
      entityId: entity,
      action: 'thing.update',
      after: all.items[4]!.id,
    });
    assert.deepEqual(
      few.items.map((e) => e.id),
      all.items
        .slice(0, 4)
        .map((e) => e.id)
        .reverse(),
    );
    assert.equal(few.capped, false);
  });

  it('ids made in one millisecond keep their order', () => {
    const ids = Array.from({ length: 5000 }, () => newEventId(1_700_000_000_000).id);
    assert.deepEqual([...ids].sort(), ids);
    assert.equal(new Set(ids).size, ids.length);
  });

  it('writes details as their scrubbed JSON, however deep the secret and whatever the values', () => {
    const cases: Record<string, unknown>[] = [
      { name: 'n', metadata_fields: ['a', 'b'] },
      { name: 'n', key: 'k', nested: { password: 'p', keep: 1, deeper: { token: 't', ok: true } } },
      { when: new Date(0), list: [{ secret: 's' }], none: null, gone: undefined },
      { channel_id: 'c', thing_id: 't' },
      {},
    ];
    for (const d of cases) assert.equal(detailsJson(d), JSON.stringify(scrub(d)));
    assert.equal(detailsJson(undefined), '{}');
    assert.doesNotMatch(detailsJson(cases[1]!), /"(key|password|token)"/);
  });

  it('SQLite: a write at once waits for no one, but never joins an open unit of work', {
    skip: dialect !== 'sqlite' && 'SQLite only',
  }, async () => {
    const db = store.db;
    const id = () => crypto.randomUUID();
    const insert = (entity: string) =>
      new EventsRepository(db).insertStatement([event('atonce@example.com', entity)]).compile(db.kysely);
    const count = async (entity: string) =>
      (await new EventsRepository(db).page(null, { entityId: entity, offset: 0, limit: 10, dir: 'asc' }))
        .total;
    const [inside, outside, failed] = [id(), id(), id()];
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const unit = inTransaction(db, async () => {
      await new EventsRepository(db).insert([event('atonce@example.com', inside)]);
      await held;
      throw new Error('rolled back');
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    // The unit holds the connection's transaction: a write at once would become part of it.
    assert.equal(
      db.atOnce!((run) => run(insert(outside))),
      undefined,
    );
    release();
    await assert.rejects(unit, /rolled back/);
    assert.equal(await count(inside), 0);
    assert.deepEqual(
      db.atOnce!((run) => run(insert(outside))),
      { value: [] },
    );
    assert.equal(await count(outside), 1);
    // A failing statement takes the whole write back.
    assert.throws(() =>
      db.atOnce!((run) => {
        run(insert(failed));
        run({ ...insert(failed), sql: 'INSERT INTO nowhere VALUES (1)', parameters: [] });
      }),
    );
    assert.equal(await count(failed), 0);
  });
});
