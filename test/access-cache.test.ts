import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Batcher, WriteGroups } from '../src/batcher.js';
import { DomainError } from '../src/errors.js';
import { EventHub } from '../src/events.js';
import { ThingAccess } from '../src/things/access.js';
import type { ConnectionsRepository, ThingsRepository } from '../src/things/repo.js';
import { clockPast } from './helpers/wait.js';

/**
 * Units of the access check and the queues in front of the database: answers asked at
 * once share one lookup, but never one begun before a revocation; waits are bounded.
 */

/** A connections store whose lookups stay pending until released, counting them. */
function slowConnections(connected: Set<string>) {
  const pending: (() => void)[] = [];
  let lookups = 0;
  const repo = {
    isConnected: (channel: string, thing: string) =>
      new Promise<boolean>((resolve) => {
        lookups++;
        // The answer is read when released: what the database holds then.
        pending.push(() => resolve(connected.has(`${thing} ${channel}`)));
      }),
  } as unknown as ConnectionsRepository;
  return {
    repo,
    lookups: () => lookups,
    release: () => {
      for (const p of pending.splice(0)) p();
    },
  };
}

const things = {
  idsByKeys: async () => new Map(),
  admission: { maxWaiting: 10, maxWaitMs: 1000 },
} as unknown as ThingsRepository;

describe('ThingAccess', () => {
  it('one lookup for a pair asked many times at once', async () => {
    const connected = new Set(['t c']);
    const db = slowConnections(connected);
    const access = new ThingAccess(things, db.repo, new EventHub(), 100);
    const answers = Array.from({ length: 21 }, () => access.isConnected('c', 't'));
    db.release();
    assert.deepEqual(await Promise.all(answers), Array(21).fill(true));
    assert.equal(db.lookups(), 1);
    assert.equal(await access.isConnected('c', 't'), true);
    assert.equal(db.lookups(), 1, 'then from the cache');
  });

  it('an ask made after a disconnect does not share a lookup begun before it', async () => {
    const connected = new Set(['t c']);
    const db = slowConnections(connected);
    const events = new EventHub();
    const access = new ThingAccess(things, db.repo, events, 100);
    const before = access.isConnected('c', 't');
    // The disconnect commits while that lookup is out (its answer may predate it).
    connected.delete('t c');
    await events.emit('connection.removed', { channelId: 'c', thingId: 't' });
    const after = access.isConnected('c', 't');
    db.release();
    await before;
    assert.equal(await after, false, 'the ask after the disconnect sees it');
    assert.equal(db.lookups(), 2);
  });

  it("'caches.stale' forgets every answer", async () => {
    const connected = new Set(['t c']);
    const db = slowConnections(connected);
    const events = new EventHub();
    const access = new ThingAccess(things, db.repo, events, 100);
    const first = access.isConnected('c', 't');
    db.release();
    assert.equal(await first, true);
    connected.delete('t c');
    await events.applyRemote('caches.stale', {});
    const again = access.isConnected('c', 't');
    db.release();
    assert.equal(await again, false);
  });
});

describe('bounded waits for the database', () => {
  it('WriteGroups refuses beyond its queue at once, and what waited too long at its turn', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const groups = new WriteGroups<number, string>(
      async (items) => {
        await gate;
        return items.join(',');
      },
      1,
      100,
      { maxWaiting: 2, maxWaitMs: 50 },
    );
    const first = groups.submit([1]);
    await new Promise((r) => setImmediate(r));
    const waiting = [groups.submit([2]), groups.submit([3])];
    const queued = Date.now();
    await assert.rejects(groups.submit([4]), (err: DomainError) => err.kind === 'unavailable');
    // The subject is time: the waiting requests outwait maxWaitMs (50) before their turn.
    await clockPast(queued + 50);
    release();
    assert.equal(await first, '1');
    for (const w of waiting) await assert.rejects(w, (err: DomainError) => err.retryAfterSeconds === 1);
  });

  it('WriteGroups does not run requests one by one when the database failed the group', async () => {
    let calls = 0;
    const groups = new WriteGroups<number, void>(async () => {
      calls++;
      // A slow database in a fake: not synchronisation.
      await new Promise((r) => setTimeout(r, 5));
      throw new DomainError('unavailable', 'database unavailable', { retryAfterSeconds: 2 });
    }, 1);
    const first = groups.submit([1]);
    await new Promise((r) => setImmediate(r));
    const rest = [groups.submit([2]), groups.submit([3]), groups.submit([4])];
    await assert.rejects(first);
    for (const r of rest) await assert.rejects(r, (err: DomainError) => err.kind === 'unavailable');
    assert.equal(calls, 2, 'the first alone, then the other three together, never one by one');
  });

  it('Batcher refuses keys beyond what may wait', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const batcher = new Batcher<string, string>(
      async (keys) => {
        await gate;
        return new Map(keys.map((k) => [k, k.toUpperCase()]));
      },
      1,
      2,
      { maxWaiting: 1, maxWaitMs: 1000 },
    );
    const inFlight = [batcher.load('a'), batcher.load('b')];
    await new Promise((r) => setImmediate(r));
    const waiting = [batcher.load('c'), batcher.load('d')];
    await assert.rejects(batcher.load('e'), (err: DomainError) => err.kind === 'unavailable');
    // A key already waiting is shared, not refused.
    const shared = batcher.load('c');
    release();
    assert.deepEqual(await Promise.all([...inFlight, ...waiting, shared]), ['A', 'B', 'C', 'D', 'C']);
  });
});
