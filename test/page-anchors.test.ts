import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { dialect, userToken, withServer } from './helpers/server.js';

/**
 * Pages past offset 1000 start from cached anchors (src/things/page-anchors.ts). They
 * must return exactly what a plain OFFSET would, also right after inserts, deletes and
 * renames shift the rows.
 */
describe(`deep pages (${dialect})`, () => {
  const { request } = withServer();
  let token: string;
  const N = 2600;

  before(async () => {
    ({ token } = await userToken(request));
    for (let i = 0; i < N; i += 500) {
      const batch = Array.from({ length: Math.min(500, N - i) }, (_, j) => ({
        name: `n${String(((i + j) * 7919) % N).padStart(5, '0')}`,
      }));
      const r = await request('POST', '/things/bulk', { token, body: batch });
      assert.equal(r.status, 201);
    }
  });

  async function everything(order: string, dir: string) {
    const all: { id: string; name: string }[] = [];
    for (let offset = 0; ; offset += 100) {
      const r = await request('GET', `/things?limit=100&offset=${offset}&order=${order}&dir=${dir}`, {
        token,
      });
      assert.equal(r.status, 200);
      all.push(...r.json.things);
      if (r.json.things.length < 100) break;
    }
    return all;
  }

  function expected(things: { id: string; name: string }[], order: string, dir: string) {
    const sorted = [...things].sort((a, b) =>
      order === 'name'
        ? a.name < b.name
          ? -1
          : a.name > b.name
            ? 1
            : a.id < b.id
              ? -1
              : 1
        : a.id < b.id
          ? -1
          : 1,
    );
    return dir === 'asc' ? sorted : sorted.reverse();
  }

  async function checkOrders(count: number) {
    for (const [order, dir] of [
      ['id', 'desc'],
      ['id', 'asc'],
      ['name', 'asc'],
      ['name', 'desc'],
    ] as const) {
      const pages = await everything(order, dir);
      assert.equal(pages.length, count, `${order} ${dir}: row count`);
      assert.deepEqual(
        pages.map((t) => t.id),
        expected(pages, order, dir).map((t) => t.id),
        `${order} ${dir}: order`,
      );
      const r = await request('GET', `/things?limit=100&offset=1950&order=${order}&dir=${dir}`, { token });
      assert.equal(r.json.total, count);
      assert.deepEqual(
        r.json.things.map((t: { id: string }) => t.id),
        pages.slice(1950, 2050).map((t) => t.id),
      );
    }
  }

  it('pages past 1000 rows match a plain ordered listing', async () => {
    await checkOrders(N);
  });

  it('stays exact after inserts, deletes and renames', async () => {
    const page = await request('GET', '/things?limit=50&offset=1200', { token });
    for (const t of page.json.things.slice(0, 20)) {
      assert.equal((await request('DELETE', `/things/${t.id}`, { token })).status, 204);
    }
    for (const t of page.json.things.slice(20, 30)) {
      assert.equal(
        (await request('PUT', `/things/${t.id}`, { token, body: { name: 'a-renamed' } })).status,
        200,
      );
    }
    const more = await request('POST', '/things/bulk', {
      token,
      body: Array.from({ length: 15 }, (_, i) => ({ name: `z${i}` })),
    });
    assert.equal(more.status, 201);
    await checkOrders(N - 20 + 15);
  });
});
