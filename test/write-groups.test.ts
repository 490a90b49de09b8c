import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WriteGroups } from '../src/batcher.js';
import { assertError, createChannels, createThings, ids, listAll, sorted } from './helpers/entities.js';
import { dialect, userToken, withServer } from './helpers/server.js';

/** A write the test releases by hand, recording what each call carried. */
function heldWrites(fail: (items: number[]) => boolean = () => false) {
  const calls: number[][] = [];
  const release: (() => void)[] = [];
  const write = (items: number[]) =>
    new Promise<string>((resolve, reject) => {
      calls.push(items);
      release.push(() => (fail(items) ? reject(new Error(`refused ${items}`)) : resolve(`wrote ${items}`)));
    });
  return { calls, release, write };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('WriteGroups', () => {
  it('sends a request alone at once, and gathers those arriving while writes are out', async () => {
    const w = heldWrites();
    const groups = new WriteGroups(w.write, 1, 100);
    const first = groups.submit([1]);
    await tick();
    assert.deepEqual(w.calls, [[1]], 'the first request leaves alone without waiting');
    const rest = [groups.submit([2, 3]), groups.submit([4]), groups.submit([5])];
    await tick();
    assert.equal(w.calls.length, 1, 'nothing else leaves while the one write allowed is out');
    w.release.shift()!();
    assert.equal(await first, 'wrote 1');
    await tick();
    assert.deepEqual(w.calls[1], [2, 3, 4, 5], 'the waiting requests leave together, in order');
    w.release.shift()!();
    assert.deepEqual(await Promise.all(rest), ['wrote 2,3,4,5', 'wrote 2,3,4,5', 'wrote 2,3,4,5']);
  });

  it('keeps a group within maxItems without splitting a request', async () => {
    const w = heldWrites();
    const groups = new WriteGroups(w.write, 1, 4);
    const all = [groups.submit([0])];
    await tick();
    all.push(groups.submit([1, 2]), groups.submit([3, 4]), groups.submit([5, 6, 7, 8, 9]));
    for (let i = 0; i < 4; i++) {
      await tick();
      w.release.shift()?.();
    }
    await Promise.all(all);
    assert.deepEqual(w.calls, [[0], [1, 2, 3, 4], [5, 6, 7, 8, 9]]);
  });

  it('runs every request of a failed group again on its own: only the failing one fails', async () => {
    const w = heldWrites((items) => items.includes(3));
    const groups = new WriteGroups(w.write, 1, 100);
    const first = groups.submit([1]);
    await tick();
    const others = Promise.allSettled([groups.submit([2]), groups.submit([3]), groups.submit([4])]);
    w.release.shift()!();
    await first;
    for (let i = 0; i < 4; i++) {
      await tick();
      w.release.shift()?.();
    }
    const settled = await others;
    assert.deepEqual(
      settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).message)),
      ['wrote 2', 'refused 3', 'wrote 4'],
    );
    assert.deepEqual(w.calls, [[1], [2, 3, 4], [2], [3], [4]]);
  });
});

describe(`writes made together (${dialect})`, () => {
  const { request } = withServer();

  it('concurrent creates: each request gets its own answer, a duplicate key fails only itself', async () => {
    const { token } = await userToken(request);
    const taken = (await createThings(request, token, [{ name: 'holder', key: 'taken-key' }]))[0]!;
    const bodies = Array.from({ length: 40 }, (_, i) =>
      i % 10 === 3 ? { name: `dup-${i}`, key: 'taken-key' } : { name: `t-${i}`, key: `key-${i}` },
    );
    // Two requests of the burst also ask for the same new key: one of them wins.
    bodies.push({ name: 'twin-a', key: 'twin' }, { name: 'twin-b', key: 'twin' });
    const replies = await Promise.all(bodies.map((b) => request('POST', '/things', { token, body: b })));
    bodies.forEach((b, i) => {
      if (b.key === 'taken-key') assertError(replies[i]!, 409);
    });
    const twins = replies.slice(-2).map((r) => r.status);
    assert.deepEqual(sorted(twins.map(String)), ['201', '409'], `twins: ${twins}`);
    const created = bodies.filter((b, i) => b.key !== 'taken-key' && replies[i]!.status === 201);
    assert.equal(created.length, 37);
    for (const [i, r] of replies.entries())
      if (bodies[i]!.key !== 'taken-key' && i < 40) assert.equal(r.status, 201);
    const stored = await listAll(request, token, '/things', 'things');
    assert.deepEqual(
      sorted(stored.map((t) => `${t.name}=${t.key}`)),
      sorted([`holder=${taken.key}`, ...created.map((b) => `${b.name}=${b.key}`)]),
    );
  });

  it('concurrent connects: new pairs 200, connected pairs 409, missing or foreign ids 404', async () => {
    const { token } = await userToken(request);
    const { token: other } = await userToken(request);
    const things = await createThings(
      request,
      token,
      Array.from({ length: 6 }, (_, i) => ({ name: `t${i}` })),
    );
    const channels = await createChannels(request, token, [{ name: 'a' }, { name: 'b' }, { name: 'c' }]);
    const [foreign] = await createChannels(request, other, [{ name: 'theirs' }]);
    const path = (c: string, t: string) => `/channels/${c}/things/${t}`;
    const first = await request('PUT', path(channels[0]!.id, things[0]!.id), { token });
    assert.equal(first.status, 200);

    const wanted: { c: string; t: string; status: number }[] = [];
    for (const c of channels) for (const t of things) wanted.push({ c: c.id, t: t.id, status: 200 });
    wanted[0]!.status = 409; // connected above
    wanted.push({ c: foreign!.id, t: things[1]!.id, status: 404 });
    wanted.push({ c: channels[1]!.id, t: '6f0d0c2c-9c4e-4c1e-8d5e-000000000000', status: 404 });
    // The same new pair twice in the burst: one 200, one 409.
    const twin = { c: channels[2]!.id, t: things[5]!.id };
    const replies = await Promise.all(
      [...wanted, { ...twin, status: 0 }].map((w) => request('PUT', path(w.c, w.t), { token })),
    );
    const twinReplies = [
      replies[wanted.findIndex((w) => w.c === twin.c && w.t === twin.t)]!,
      replies.at(-1)!,
    ];
    assert.deepEqual(sorted(twinReplies.map((r) => String(r.status))), ['200', '409']);
    for (const [i, w] of wanted.entries()) {
      if (w.c === twin.c && w.t === twin.t) continue;
      assert.equal(replies[i]!.status, w.status, `${w.c} ${w.t}: ${replies[i]!.text}`);
      if (w.status !== 200) assertError(replies[i]!, w.status);
    }
    for (const c of channels) {
      const connected = await listAll(request, token, `/channels/${c.id}/things`, 'things');
      assert.deepEqual(sorted(ids(connected)), sorted(ids(things)), `things of channel ${c.name}`);
    }
    const theirs = await listAll(request, other, `/channels/${foreign!.id}/things`, 'things');
    assert.deepEqual(theirs, []);
  });
});
