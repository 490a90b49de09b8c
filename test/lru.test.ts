import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Lru } from '../src/lru.js';

/**
 * The bounded cache under every lookup cache (keys, connections, tokens, bootstrap
 * configs): what it keeps, in what order it lets go, and that it never holds more than
 * its capacity.
 */
describe('Lru', () => {
  it('evicts the least recently used entry, counting reads and overwrites as uses', () => {
    const lru = new Lru<string, number>(3);
    lru.set('a', 1);
    lru.set('b', 2);
    lru.set('c', 3);
    assert.equal(lru.get('a'), 1); // a is now the most recent
    lru.set('d', 4); // evicts b
    assert.equal(lru.get('b'), undefined);
    assert.deepEqual([...lru.keys()], ['c', 'a', 'd']);
    lru.set('c', 30); // overwrite: new value, most recent
    lru.set('e', 5); // evicts a
    assert.deepEqual([...lru.keys()], ['d', 'c', 'e']);
    assert.equal(lru.get('c'), 30);
    assert.equal(lru.get('a'), undefined);
    assert.equal(lru.size, 3);
  });

  it('forgets deleted and cleared entries and keeps working after', () => {
    const lru = new Lru<string, string>(2);
    lru.set('x', 'one');
    lru.set('y', 'two');
    lru.delete('x');
    lru.delete('missing');
    assert.equal(lru.get('x'), undefined);
    assert.deepEqual([...lru.keys()], ['y']);
    lru.set('z', 'three');
    lru.set('w', 'four'); // evicts y
    assert.deepEqual([...lru.keys()], ['z', 'w']);
    lru.delete('w'); // the newest
    lru.delete('z'); // the last one
    assert.equal(lru.size, 0);
    assert.deepEqual([...lru.keys()], []);
    lru.set('v', 'five');
    lru.clear();
    assert.equal(lru.size, 0);
    assert.equal(lru.get('v'), undefined);
    lru.set('u', 'six');
    assert.deepEqual([...lru.keys()], ['u']);
  });

  it('answers like a plain list-based LRU over a long random sequence of operations', () => {
    // A reference kept as an array from least to most recently used.
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const capacity = 7;
    const lru = new Lru<number, number>(capacity);
    let model: [number, number][] = [];
    for (let step = 0; step < 20_000; step++) {
      const key = random(12);
      const op = random(100);
      const at = model.findIndex(([k]) => k === key);
      if (op < 50) {
        const expected = at >= 0 ? model[at]![1] : undefined;
        if (at >= 0) model.push(...model.splice(at, 1));
        assert.equal(lru.get(key), expected, `step ${step}: get ${key}`);
      } else if (op < 90) {
        if (at >= 0) model.splice(at, 1);
        else if (model.length >= capacity) model.shift();
        model.push([key, step]);
        lru.set(key, step);
      } else if (op < 99) {
        if (at >= 0) model.splice(at, 1);
        lru.delete(key);
      } else {
        model = [];
        lru.clear();
      }
      assert.deepEqual(
        [...lru.keys()],
        model.map(([k]) => k),
        `step ${step}: order`,
      );
      assert.equal(lru.size, model.length);
    }
  });

  it('keeps a full cache exact while one key is read over and over', () => {
    const lru = new Lru<string, string>(5000);
    for (let i = 0; i < 5000; i++) lru.set(`key-${i}`, `id-${i}`);
    for (let i = 0; i < 100_000; i++) assert.equal(lru.get('key-17'), 'id-17');
    lru.set('key-new', 'id-new'); // evicts key-0, the least recently used
    assert.equal(lru.get('key-0'), undefined);
    assert.equal(lru.get('key-17'), 'id-17');
    assert.equal(lru.get('key-1'), 'id-1');
    assert.equal(lru.size, 5000);
  });
});
