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
});
