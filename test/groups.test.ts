import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { before, describe, it } from 'node:test';
import {
  assertEmpty,
  assertError,
  createThing,
  createThings,
  ids,
  page,
  q,
  sorted,
} from './helpers/entities.js';
import { dialect, type Reply, type Request, userToken, withServer } from './helpers/server.js';
import { clockPast } from './helpers/wait.js';

/** Groups (API.md §2.2, §1.10, §3.5; MODEL.md §2.3), owner-scoped as the README's differences from 0.12.1 say. */

const ADMIN = { email: 'groups-admin@example.com', password: 'admin-password-1' };
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UNAUTHORIZED = 'unauthorized access';
const MALFORMED = 'malformed entity specification';
const DECODE = 'failed to decode request body';
const NOT_FOUND = 'entity not found';
const EXISTS = 'group already exists';
const ASSIGNED = 'member is already assigned';
/** The keys of a group view without parent, description and metadata. */
const BARE_KEYS = ['created_at', 'id', 'level', 'name', 'owner_id', 'path', 'updated_at'];
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A well-formed ULID that names no group. */
const missingId = () => `0${Array.from(crypto.randomBytes(25), (b) => CROCKFORD[b % 32]).join('')}`;
const tag = () => crypto.randomBytes(4).toString('hex');
/** Ids of group views in the order the listings must use: by path. */
const byPath = (views: { id: string; path: string }[]) =>
  [...views].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)).map((v) => v.id);
const groupIds = (p: { groups: { id: string }[] }) => ids(p.groups);
const kids = (g: any): string[] => ids(g.children ?? []);
/**
 * An error with the design's message; Tethys's shared error mapping (src/http/server.ts errorAnswer)
 * may append the schema validator's detail after ': ' for mistyped bodies.
 */
function assertBodyError(reply: Reply, status: number, message: string): void {
  assertError(reply, status);
  const text: string = reply.json.error;
  assert.ok(text === message || text.startsWith(`${message}: `), `expected "${message}", got "${text}"`);
}

interface User {
  token: string;
  id: string;
  email: string;
}

describe(`groups (${dialect})`, () => {
  const { request } = withServer({
    MF_USERS_ADMIN_EMAIL: ADMIN.email,
    MF_USERS_ADMIN_PASSWORD: ADMIN.password,
  });
  let alice: User;
  let bob: User;

  const fresh = async (): Promise<User> => {
    const { token, email } = await userToken(request);
    const profile = await request('GET', '/users/profile', { token });
    assert.equal(profile.status, 200, profile.text);
    return { token, email, id: profile.json.id };
  };

  before(async () => {
    [alice, bob] = await Promise.all([fresh(), fresh()]);
  });

  /** POST /groups, asserting 201 + Location + empty JSON body; the new id. */
  const create = async (token: string, body: Record<string, unknown>): Promise<string> => {
    const reply = await request('POST', '/groups', { token, body });
    assertEmpty(reply, 201);
    assert.match(reply.headers.get('content-type') ?? '', /^application\/json/);
    const location = reply.headers.get('location') ?? '';
    assert.match(location, /^\/groups\/[0-9A-Z]{26}$/);
    const id = location.slice('/groups/'.length);
    assert.match(id, ULID);
    return id;
  };
  /** A chain root > child > ... of `depth` groups; their ids, root first. */
  const chain = async (token: string, depth: number): Promise<string[]> => {
    const out: string[] = [];
    for (let i = 0; i < depth; i++)
      out.push(await create(token, { name: `l${i + 1}-${tag()}`, parent_id: out[i - 1] }));
    return out;
  };
  const view = async (token: string, id: string) => {
    const reply = await request('GET', `/groups/${id}`, { token });
    assert.equal(reply.status, 200, `GET /groups/${id}: ${reply.text}`);
    return reply.json;
  };
  const assign = async (token: string, group: string, type: string, members: string[]) =>
    assertEmpty(await request('POST', `/groups/${group}/members`, { token, body: { type, members } }), 200);
  const memberIds = async (token: string, group: string) =>
    (await page(request, token, `/groups/${group}/members?limit=100`)).Members.map((m: any) => m.ID);
  const count = async (token: string) => (await page(request, token, '/groups?level=5')).total as number;

  describe('create and view', () => {
    it('answers 201 with Location /groups/<ULID>; a root views with level 1 and its id as path', async () => {
      const name = `root-${tag()}`;
      const before = Date.now();
      const id = await create(alice.token, { name });
      const reply = await request('GET', `/groups/${id}`, { token: alice.token });
      assert.equal(reply.status, 200);
      assert.match(reply.headers.get('content-type') ?? '', /^application\/json/);
      const v = reply.json;
      assert.deepEqual(Object.keys(v).sort(), BARE_KEYS);
      assert.deepEqual(v, { ...v, id, name, owner_id: alice.id, level: 1, path: id });
      for (const t of [v.created_at, v.updated_at]) {
        assert.match(t, TIME);
        const ms = Date.parse(t);
        assert.ok(ms >= before - 2000 && ms <= Date.now() + 2000, `${t} is about now`);
      }
    });

    it('gives a child and a grandchild parent_id, level and path; stores description and metadata', async () => {
      const root = await create(alice.token, { name: `r-${tag()}`, description: '', metadata: {} });
      const metadata = { type: 'site', nested: { a: [1, { b: null }] } };
      const child = await create(alice.token, {
        name: 'child',
        description: 'a child ✓',
        parent_id: root,
        metadata,
      });
      const grandchild = await create(alice.token, { name: 'grandchild', parent_id: child });
      assert.deepEqual(Object.keys(await view(alice.token, root)).sort(), BARE_KEYS);
      const c = await view(alice.token, child);
      assert.deepEqual(c, {
        id: child,
        name: 'child',
        owner_id: alice.id,
        parent_id: root,
        description: 'a child ✓',
        metadata,
        level: 2,
        path: `${root}.${child}`,
        created_at: c.created_at,
        updated_at: c.updated_at,
      });
      const g = await view(alice.token, grandchild);
      assert.deepEqual(g, {
        id: grandchild,
        name: 'grandchild',
        owner_id: alice.id,
        parent_id: child,
        level: 3,
        path: `${root}.${child}.${grandchild}`,
        created_at: g.created_at,
        updated_at: g.updated_at,
      });
    });

    it('refuses a missing, foreign or malformed parent (404) and a sixth level (400)', async () => {
      const carol = await fresh();
      const levels = await chain(carol.token, 5);
      assert.equal((await view(carol.token, levels[4]!)).level, 5);
      assertError(
        await request('POST', '/groups', { token: carol.token, body: { name: 'l6', parent_id: levels[4] } }),
        400,
        'maximum level of groups exceeded',
      );
      const foreign = await create(bob.token, { name: `bobs-${tag()}` });
      for (const parent_id of [missingId(), foreign, 'not-a-ulid'])
        assertError(
          await request('POST', '/groups', { token: carol.token, body: { name: 'orphan', parent_id } }),
          404,
          NOT_FOUND,
        );
      const sibling = await create(carol.token, { name: 'l5b', parent_id: levels[3] });
      assert.equal((await view(carol.token, sibling)).level, 5);
      assert.equal(await count(carol.token), 6);
    });

    it('limits name to 1..254 and description to 1024 bytes of UTF-8', async () => {
      const carol = await fresh();
      for (const body of [
        {},
        { name: '' },
        { name: 'é'.repeat(128) },
        { name: 'a'.repeat(255) },
        { name: 'ok', description: 'd'.repeat(1025) },
        { name: 'ok', description: 'é'.repeat(513) },
      ])
        assertBodyError(await request('POST', '/groups', { token: carol.token, body }), 400, MALFORMED);
      assert.equal(await count(carol.token), 0);
      const long = await create(carol.token, { name: 'é'.repeat(127), description: 'é'.repeat(512) });
      const v = await view(carol.token, long);
      assert.equal(v.name, 'é'.repeat(127));
      assert.equal(v.description, 'é'.repeat(512));
      await create(carol.token, { name: 'x', description: 'd'.repeat(1024) });
      assert.equal(await count(carol.token), 2);
    });

    it('refuses a name taken under the same parent (409); top-level names may repeat', async () => {
      const carol = await fresh();
      const a = await create(carol.token, { name: 'dup' });
      const b = await create(carol.token, { name: 'dup' });
      assert.notEqual(a, b);
      await create(carol.token, { name: 'kid', parent_id: a });
      assertError(
        await request('POST', '/groups', { token: carol.token, body: { name: 'kid', parent_id: a } }),
        409,
        EXISTS,
      );
      await create(carol.token, { name: 'kid', parent_id: b });
      assert.equal(await count(carol.token), 4);
      const roots = await page(request, carol.token, '/groups');
      assert.deepEqual(
        roots.groups.map((g: any) => g.name),
        ['dup', 'dup'],
      );
    });

    it('refuses a non-JSON Content-Type (415) and undecodable or mistyped JSON (400)', async () => {
      const carol = await fresh();
      for (const contentType of ['text/plain', 'application/senml+json', null])
        assertError(
          await request('POST', '/groups', { token: carol.token, raw: '{"name":"x"}', contentType }),
          415,
          'unsupported content type',
        );
      for (const raw of [
        '{',
        '',
        '[]',
        '{"name":5}',
        '{"name":"x","metadata":"x"}',
        '{"name":"x","metadata":[1]}',
      ])
        assertBodyError(await request('POST', '/groups', { token: carol.token, raw }), 400, DECODE);
      assert.equal(await count(carol.token), 0);
      const ok = await request('POST', '/groups', {
        token: carol.token,
        raw: '{"name":"charset"}',
        contentType: 'application/json; charset=utf-8',
      });
      assert.equal(ok.status, 201, ok.text);
      assert.equal(await count(carol.token), 1);
    });

    it('needs a valid token (403 unauthorized access), raw or Bearer', async () => {
      const carol = await fresh();
      assertError(await request('POST', '/groups', { body: { name: 'x' } }), 403, UNAUTHORIZED);
      assertError(
        await request('POST', '/groups', { token: 'nonsense', body: { name: 'x' } }),
        403,
        UNAUTHORIZED,
      );
      assertError(await request('GET', '/groups'), 403, UNAUTHORIZED);
      assertError(
        await request('GET', `/groups/${missingId()}`, { token: `${carol.token}x` }),
        403,
        UNAUTHORIZED,
      );
      const key = await request('POST', '/keys', { token: carol.token, body: { type: 2 } });
      assert.equal(key.status, 201, key.text);
      await create(key.json.value, { name: 'by-api-key' });
      const id = await create(`Bearer ${carol.token}`, { name: 'bearer' });
      assert.equal((await view(`Bearer ${carol.token}`, id)).name, 'bearer');
      assert.equal(await count(carol.token), 2);
    });

    it('answers 404 entity not found for a missing or malformed id', async () => {
      assertError(await request('GET', `/groups/${missingId()}`, { token: alice.token }), 404, NOT_FOUND);
      assertError(await request('GET', '/groups/not-a-ulid', { token: alice.token }), 404, NOT_FOUND);
      const id = await create(alice.token, { name: `case-${tag()}` });
      assertError(
        await request('GET', `/groups/${id.toLowerCase()}`, { token: alice.token }),
        404,
        NOT_FOUND,
      );
    });
  });

  describe('ownership', () => {
    it("treats another user's group as missing everywhere and changes nothing", async () => {
      const g = await create(alice.token, { name: `private-${tag()}`, metadata: { k: 'v' } });
      await create(alice.token, { name: 'private-child', parent_id: g });
      const member = `m-${tag()}`;
      await assign(alice.token, g, 'things', [member]);
      const before = await view(alice.token, g);
      const t = bob.token;
      for (const [method, path, body] of [
        ['GET', `/groups/${g}`],
        ['PUT', `/groups/${g}`, { name: 'stolen' }],
        ['DELETE', `/groups/${g}`],
        ['GET', `/groups/${g}/children`],
        ['GET', `/groups/${g}/parents`],
        ['GET', `/groups/${g}/members`],
        ['POST', `/groups/${g}/members`, { type: 'things', members: ['x'] }],
        ['DELETE', `/groups/${g}/members`, { members: [member] }],
      ] as [string, string, unknown?][])
        assertError(await request(method, path, { token: t, body }), 404, NOT_FOUND);
      assert.ok(!groupIds(await page(request, t, '/groups?level=5')).includes(g));
      assert.equal((await page(request, t, `/members/${member}/groups`)).total, 0);
      assert.deepEqual(await view(alice.token, g), before);
      assert.deepEqual(await memberIds(alice.token, g), [member]);
      assert.ok(groupIds(await page(request, alice.token, '/groups')).includes(g));
    });
  });

  describe('update', () => {
    it('replaces name, description and metadata (omitted ones cleared); updated_at moves', async () => {
      const id = await create(alice.token, { name: `u-${tag()}`, description: 'old', metadata: { a: 1 } });
      const before = await view(alice.token, id);
      // The subject is time: the update happens in a later millisecond than the creation.
      await clockPast(Date.parse(before.updated_at));
      const put = await request('PUT', `/groups/${id}`, {
        token: alice.token,
        body: { name: 'renamed', description: 'new', metadata: { b: { c: [2] } } },
      });
      assertEmpty(put, 200);
      assert.match(put.headers.get('content-type') ?? '', /^application\/json/);
      const after = await view(alice.token, id);
      assert.deepEqual(after, {
        ...before,
        name: 'renamed',
        description: 'new',
        metadata: { b: { c: [2] } },
        updated_at: after.updated_at,
      });
      assert.match(after.updated_at, TIME);
      assert.ok(Date.parse(after.updated_at) > Date.parse(before.updated_at), 'updated_at moved');
      assertEmpty(await request('PUT', `/groups/${id}`, { token: alice.token, body: { name: 'bare' } }), 200);
      const bare = await view(alice.token, id);
      assert.deepEqual(Object.keys(bare).sort(), BARE_KEYS);
      assert.equal(bare.name, 'bare');
      assert.equal(bare.created_at, before.created_at);
    });

    it('refuses a sibling name (409), bad bodies (400, 415) and missing or foreign groups (404)', async () => {
      const parent = await create(alice.token, { name: `p-${tag()}` });
      await create(alice.token, { name: 'one', parent_id: parent });
      const two = await create(alice.token, { name: 'two', parent_id: parent, metadata: { keep: true } });
      const put = (id: string, options: Parameters<Request>[2]) =>
        request('PUT', `/groups/${id}`, { token: alice.token, ...options });
      assertError(await put(two, { body: { name: 'one', metadata: { keep: true } } }), 409, EXISTS);
      assertEmpty(await put(two, { body: { name: 'two', metadata: { keep: true } } }), 200);
      const before = await view(alice.token, two);
      for (const body of [
        {},
        { name: '' },
        { name: 'é'.repeat(128) },
        { name: 'x', description: 'd'.repeat(1025) },
      ])
        assertBodyError(await put(two, { body }), 400, MALFORMED);
      for (const raw of ['{', '', '{"name":"x","metadata":"x"}'])
        assertBodyError(await put(two, { raw }), 400, DECODE);
      assertError(await put(two, { raw: '{"name":"x"}', contentType: 'text/plain' }), 415);
      assertError(await put(missingId(), { body: { name: 'x' } }), 404, NOT_FOUND);
      assertError(await put('not-a-ulid', { body: { name: 'x' } }), 404, NOT_FOUND);
      assertError(await request('PUT', `/groups/${two}`, { token: bob.token, body: { name: 'x' } }), 404);
      assertError(await request('PUT', `/groups/${two}`, { body: { name: 'x' } }), 403, UNAUTHORIZED);
      assert.deepEqual(await view(alice.token, two), before);
    });
  });

  describe('list', () => {
    let dave: User;
    let all: any[];
    before(async () => {
      dave = await fresh();
      const r1 = await create(dave.token, { name: 'r1', metadata: { a: 1, b: 'x' } });
      const r2 = await create(dave.token, { name: 'r2', metadata: { a: 1 } });
      const c1 = await create(dave.token, {
        name: 'c1',
        parent_id: r1,
        metadata: { a: 1, b: 'y', c: { d: [1] } },
      });
      const c2 = await create(dave.token, { name: 'c2', parent_id: r1 });
      const g1 = await create(dave.token, { name: 'g1', parent_id: c1, metadata: { c: { d: [1] } } });
      const h1 = await create(dave.token, { name: 'h1', parent_id: g1 });
      const i1 = await create(dave.token, { name: 'i1', parent_id: h1 });
      all = await Promise.all([r1, r2, c1, c2, g1, h1, i1].map((id) => view(dave.token, id)));
    });
    const upTo = (level: number) => all.filter((g) => g.level <= level);

    it('lists every group down to the level asked (default 1), ordered by path, no paging', async () => {
      const roots = await page(request, dave.token, '/groups');
      assert.deepEqual(Object.keys(roots).sort(), ['groups', 'level', 'name', 'total']);
      assert.deepEqual(roots, { total: 2, level: 1, name: '', groups: roots.groups });
      assert.deepEqual(
        roots.groups,
        byPath(upTo(1)).map((id) => all.find((g) => g.id === id)),
      );
      for (const level of [2, 3, 5]) {
        const p = await page(request, dave.token, `/groups?level=${level}`);
        assert.equal(p.level, level);
        assert.equal(p.total, upTo(level).length);
        assert.deepEqual(groupIds(p), byPath(upTo(level)), `level ${level}`);
      }
      assert.equal((await page(request, dave.token, '/groups?level=5&tree=false&limit=1&offset=3')).total, 7);
    });

    it('refuses level 0, 6 or not a number, a non-boolean tree and bad metadata with 400', async () => {
      for (const query of ['level=0', 'level=6', 'level=x', 'level=-1', 'level=1.5'])
        assertError(await request('GET', `/groups?${query}`, { token: dave.token }), 400, MALFORMED);
      for (const query of ['tree=yes', `metadata=${q('{')}`])
        assertError(await request('GET', `/groups?${query}`, { token: dave.token }), 400);
    });

    it('nests groups under their parents with tree=true; total stays the flat count', async () => {
      const [r1, r2, c1, c2, g1] = ids(all);
      const p = await page(request, dave.token, '/groups?level=3&tree=true');
      assert.equal(p.total, 5);
      assert.equal(p.level, 3);
      assert.deepEqual(groupIds(p), byPath(all.filter((g) => g.level === 1)));
      const top1 = p.groups.find((g: any) => g.id === r1);
      assert.deepEqual(kids(top1), byPath(all.filter((g) => g.id === c1 || g.id === c2)));
      const child1 = top1.children.find((g: any) => g.id === c1);
      assert.deepEqual(kids(child1), [g1]);
      assert.equal(child1.path, `${r1}.${c1}`);
      assert.deepEqual(kids(child1.children[0]), []);
      assert.deepEqual(kids(p.groups.find((g: any) => g.id === r2)), []);
      // Flat by default: nothing nested.
      for (const g of (await page(request, dave.token, '/groups?level=3')).groups)
        assert.deepEqual(kids(g), []);
      // With a filter, a group whose parent is not in the result stands at the top level.
      const filtered = await page(
        request,
        dave.token,
        `/groups?level=5&tree=true&metadata=${q({ c: { d: [1] } })}`,
      );
      assert.equal(filtered.total, 2);
      assert.deepEqual(groupIds(filtered), [c1]);
      assert.deepEqual(kids(filtered.groups[0]), [g1]);
    });

    it('filters by metadata containment: every key given must match', async () => {
      const [r1, r2, c1, , g1] = ids(all);
      const match = async (filter: unknown, level = 5) =>
        page(request, dave.token, `/groups?level=${level}&metadata=${q(filter)}`);
      assert.deepEqual(
        groupIds(await match({ a: 1 })),
        byPath(all.filter((g) => [r1, r2, c1].includes(g.id))),
      );
      assert.equal((await match({ a: 1 })).total, 3);
      assert.deepEqual(groupIds(await match({ a: 1, b: 'x' })), [r1]);
      assert.deepEqual(groupIds(await match({ a: 1, b: 'y' })), [c1]);
      assert.deepEqual(
        groupIds(await match({ c: { d: [1] } })),
        byPath(all.filter((g) => [c1, g1].includes(g.id))),
      );
      assert.deepEqual(
        groupIds(await match({ a: 1 }, 1)),
        byPath(all.filter((g) => [r1, r2].includes(g.id))),
      );
      const none = await match({ a: 2 });
      assert.deepEqual(none, { total: 0, level: 5, name: '', groups: [] });
    });
  });

  describe('children and parents', () => {
    it('list the group itself with its descendants or ancestors within level', async () => {
      const carol = await fresh();
      const [l1, l2, l3, l4, l5] = await chain(carol.token, 5);
      const b3 = await create(carol.token, { name: 'b3', parent_id: l2 });
      const views = await Promise.all([l1, l2, l3, l4, l5, b3].map((id) => view(carol.token, id)));
      const ordered = (...list: string[]) => byPath(views.filter((v) => list.includes(v.id)));
      const check = async (path: string, expected: string[], level: number) => {
        const p = await page(request, carol.token, path);
        assert.deepEqual(Object.keys(p).sort(), ['groups', 'level', 'name', 'total']);
        assert.deepEqual(groupIds(p), expected, path);
        assert.equal(p.total, expected.length, path);
        assert.equal(p.level, level, path);
      };
      await check(`/groups/${l1}/children`, [l1!, l2!], 1);
      await check(`/groups/${l1}/children?level=2`, ordered(l1!, l2!, l3!, b3), 2);
      await check(`/groups/${l1}/children?level=5`, ordered(l1!, l2!, l3!, l4!, l5!, b3), 5);
      await check(`/groups/${l2}/children`, ordered(l2!, l3!, b3), 1);
      await check(`/groups/${l5}/children?level=5`, [l5!], 5);
      await check(`/groups/${l5}/parents`, [l4!, l5!], 1);
      await check(`/groups/${l5}/parents?level=3`, [l2!, l3!, l4!, l5!], 3);
      await check(`/groups/${l5}/parents?level=5`, [l1!, l2!, l3!, l4!, l5!], 5);
      await check(`/groups/${b3}/parents?level=5`, [l1!, l2!, b3], 5);
      await check(`/groups/${l1}/parents?level=5`, [l1!], 5);

      const tree = await page(request, carol.token, `/groups/${l1}/children?level=2&tree=true`);
      assert.equal(tree.total, 4);
      assert.deepEqual(groupIds(tree), [l1]);
      assert.deepEqual(kids(tree.groups[0]), [l2]);
      assert.deepEqual(kids(tree.groups[0].children[0]), ordered(l3!, b3));

      for (const rel of ['children', 'parents']) {
        assertError(
          await request('GET', `/groups/${missingId()}/${rel}`, { token: carol.token }),
          404,
          NOT_FOUND,
        );
        assertError(await request('GET', `/groups/${l1}/${rel}?level=6`, { token: carol.token }), 400);
        assertError(await request('GET', `/groups/${l1}/${rel}`), 403, UNAUTHORIZED);
      }
    });
  });

  describe('members', () => {
    it('assigns (200) and lists in assignment order with paging, a type filter and exact totals', async () => {
      const g = await create(alice.token, { name: `members-${tag()}` });
      const t = tag();
      // Later batches sort first by id, so only the assignment order gives the expected order.
      const z = [0, 1, 2].map((i) => `${t}-z${i}`);
      const y = [`${t}-y0`];
      const a = Array.from({ length: 9 }, (_, i) => `${t}-a${i}`);
      await assign(alice.token, g, 'things', z);
      await assign(alice.token, g, 'users', y);
      await assign(alice.token, g, 'things', a);
      const all = [
        ...z.map((ID) => ({ ID, Type: 'things' })),
        ...y.map((ID) => ({ ID, Type: 'users' })),
        ...a.map((ID) => ({ ID, Type: 'things' })),
      ];
      const list = (query = '') => page(request, alice.token, `/groups/${g}/members${query}`);
      const first = await list();
      assert.deepEqual(Object.keys(first).sort(), ['Members', 'level', 'limit', 'name', 'offset', 'total']);
      assert.deepEqual(first, {
        total: 13,
        offset: 0,
        limit: 10,
        level: 0,
        name: '',
        Members: all.slice(0, 10),
      });
      assert.deepEqual((await list('?offset=10')).Members, all.slice(10));
      const mid = await list('?offset=2&limit=3');
      assert.deepEqual([mid.total, mid.offset, mid.limit], [13, 2, 3]);
      assert.deepEqual(mid.Members, all.slice(2, 5));
      assert.deepEqual((await list('?limit=100')).Members, all);
      const things = all.filter((m) => m.Type === 'things');
      const byType = await list('?type=things&limit=100');
      assert.equal(byType.total, 12);
      assert.deepEqual(byType.Members, things);
      assert.deepEqual((await list('?type=things&offset=10')).Members, things.slice(10));
      assert.deepEqual(await list('?type=users'), { ...first, total: 1, Members: all.slice(3, 4) });
      assert.deepEqual(await list('?type=nope'), { ...first, total: 0, Members: [] });
      for (const query of ['?limit=0', '?limit=101', '?limit=x'])
        assertError(await request('GET', `/groups/${g}/members${query}`, { token: alice.token }), 400);
      assertError(
        await request('GET', `/groups/${missingId()}/members`, { token: alice.token }),
        404,
        NOT_FOUND,
      );
      assertError(await request('GET', `/groups/${g}/members`), 403, UNAUTHORIZED);
    });

    it('refuses an id already in the group (409) and then adds none of the request', async () => {
      const g = await create(alice.token, { name: `dup-members-${tag()}` });
      const [m1, m2, m3] = [1, 2, 3].map((i) => `m${i}-${tag()}`);
      await assign(alice.token, g, 'things', [m1!, m2!]);
      for (const [type, members] of [
        ['things', [m3, m1]],
        ['users', [m2]],
        ['things', [m3, m2, m1]],
      ] as [string, string[]][])
        assertError(
          await request('POST', `/groups/${g}/members`, { token: alice.token, body: { type, members } }),
          409,
          ASSIGNED,
        );
      assert.deepEqual(await memberIds(alice.token, g), [m1, m2]);
      await assign(alice.token, g, 'things', [m3!]);
      assert.deepEqual(await memberIds(alice.token, g), [m1, m2, m3]);
      // The same id may be in another group.
      const other = await create(alice.token, { name: `other-${tag()}` });
      await assign(alice.token, other, 'things', [m1!]);
      assert.deepEqual(await memberIds(alice.token, other), [m1]);
    });

    it('refuses bad bodies (400) and a missing group (404); does not check the Content-Type', async () => {
      const g = await create(alice.token, { name: `bad-members-${tag()}` });
      const post = (options: Parameters<Request>[2], id = g) =>
        request('POST', `/groups/${id}/members`, { token: alice.token, ...options });
      for (const body of [
        {},
        { type: 'things' },
        { members: ['a'] },
        { type: '', members: ['a'] },
        { type: 'things', members: [] },
        { type: 'things', members: [''] },
        { type: 'things', members: ['ok', 'x'.repeat(257)] },
        { type: 'things', members: 'a' },
        { type: 5, members: ['a'] },
        { type: 'things', members: Array.from({ length: 10_001 }, (_, i) => `n${i}`) },
      ])
        assertBodyError(await post({ body }), 400, MALFORMED);
      for (const raw of ['{', '', '[]']) assertBodyError(await post({ raw }), 400, MALFORMED);
      assert.deepEqual(await memberIds(alice.token, g), []);
      const long = 'é'.repeat(128);
      assertEmpty(
        await post({ raw: JSON.stringify({ type: 'things', members: [long] }), contentType: 'text/plain' }),
        200,
      );
      assertEmpty(
        await post({ raw: JSON.stringify({ type: 'users', members: ['plain'] }), contentType: null }),
        200,
      );
      assert.deepEqual(await memberIds(alice.token, g), [long, 'plain']);
      assertError(await post({ body: { type: 'things', members: ['x'] } }, missingId()), 404, NOT_FOUND);
      assertError(
        await request('POST', `/groups/${g}/members`, { body: { type: 'things', members: ['x'] } }),
        403,
      );
    });

    it('takes up to 10,000 ids in one request, all or nothing', async () => {
      const g = await create(alice.token, { name: `bulk-members-${tag()}` });
      const t = tag();
      const many = Array.from({ length: 10_000 }, (_, i) => `${t}-${String(i).padStart(5, '0')}`);
      await assign(alice.token, g, 'things', [many[9_999]!]);
      assertError(
        await request('POST', `/groups/${g}/members`, {
          token: alice.token,
          body: { type: 'things', members: many },
        }),
        409,
        ASSIGNED,
      );
      assert.equal((await page(request, alice.token, `/groups/${g}/members`)).total, 1);
      const full = await create(alice.token, { name: `full-members-${tag()}` });
      await assign(alice.token, full, 'things', many);
      const last = await page(request, alice.token, `/groups/${full}/members?offset=9990&limit=100`);
      assert.equal(last.total, 10_000);
      assert.deepEqual(
        last.Members.map((m: any) => m.ID),
        many.slice(9_990),
      );
    });

    it('unassigns (204), ignoring ids not in the group, and again (204)', async () => {
      const g = await create(alice.token, { name: `unassign-${tag()}` });
      await assign(alice.token, g, 'things', ['u1', 'u2', 'u3']);
      const remove = (members: string[], id = g) =>
        request('DELETE', `/groups/${id}/members`, { token: alice.token, body: { members } });
      const removed = await remove(['u2', 'never-assigned']);
      assertEmpty(removed, 204);
      assert.deepEqual(await memberIds(alice.token, g), ['u1', 'u3']);
      assertEmpty(await remove(['u2']), 204);
      assert.equal((await page(request, alice.token, `/groups/${g}/members`)).total, 2);
      assertError(await remove(['u1'], missingId()), 404, NOT_FOUND);
      assertError(await request('DELETE', `/groups/${g}/members`, { body: { members: ['u1'] } }), 403);
      assert.deepEqual(await memberIds(alice.token, g), ['u1', 'u3']);
    });

    it("/members/{id}/groups lists the caller's groups that have the member, paged", async () => {
      const member = `shared-${tag()}`;
      const g1 = await create(alice.token, { name: `mg1-${tag()}`, metadata: { k: 'v' } });
      const g2 = await create(alice.token, { name: `mg2-${tag()}` });
      const g3 = await create(alice.token, { name: 'mg3', parent_id: g1 });
      await create(alice.token, { name: `mg4-${tag()}` });
      const gb = await create(bob.token, { name: `mgb-${tag()}` });
      await assign(alice.token, g1, 'things', [member]);
      await assign(alice.token, g2, 'users', [member]);
      await assign(alice.token, g3, 'things', [member]);
      await assign(bob.token, gb, 'things', [member]);
      const list = (token: string, query = '') => page(request, token, `/members/${member}/groups${query}`);
      const mine = await list(alice.token);
      assert.deepEqual(Object.keys(mine).sort(), ['groups', 'level', 'limit', 'name', 'offset', 'total']);
      assert.deepEqual(
        { ...mine, groups: [] },
        { total: 3, offset: 0, limit: 10, level: 0, name: '', groups: [] },
      );
      assert.deepEqual(sorted(groupIds(mine)), sorted([g1, g2, g3]));
      assert.deepEqual(
        mine.groups.find((g: any) => g.id === g3),
        await view(alice.token, g3),
      );
      const paged: string[] = [];
      for (const offset of [0, 1, 2]) {
        const p = await list(alice.token, `?offset=${offset}&limit=1`);
        assert.deepEqual([p.total, p.offset, p.limit, p.groups.length], [3, offset, 1, 1]);
        paged.push(...groupIds(p));
      }
      assert.deepEqual(sorted(paged), sorted([g1, g2, g3]));
      assert.deepEqual(groupIds(await list(alice.token, `?metadata=${q({ k: 'v' })}`)), [g1]);
      assert.deepEqual(groupIds(await list(bob.token)), [gb]);
      const unknown = await page(request, alice.token, `/members/nobody-${tag()}/groups`);
      assert.deepEqual(unknown, { total: 0, offset: 0, limit: 10, level: 0, name: '', groups: [] });
      // A member id no database can hold (U+0000) or longer than any stored one: nothing, not a 500.
      for (const odd of ['a%00b', 'm'.repeat(300)]) {
        assert.equal((await page(request, alice.token, `/members/${odd}/groups`)).total, 0, odd);
      }
      assertError(await request('GET', `/members/${member}/groups?limit=0`, { token: alice.token }), 400);
      assertError(await request('GET', `/members/${member}/groups`), 403, UNAUTHORIZED);
    });
  });

  describe('delete', () => {
    it('refuses a group with members in it or below it (409), then deletes the whole subtree (204)', async () => {
      const carol = await fresh();
      const [root, child, grandchild] = await chain(carol.token, 3);
      const sibling = await create(carol.token, { name: 'sibling' });
      await assign(carol.token, grandchild!, 'things', ['in-grandchild']);
      for (const id of [root, child, grandchild])
        assertError(
          await request('DELETE', `/groups/${id}`, { token: carol.token }),
          409,
          'group is not empty',
        );
      for (const id of [root, child, grandchild]) await view(carol.token, id!);
      assert.equal(await count(carol.token), 4);
      assert.deepEqual(await memberIds(carol.token, grandchild!), ['in-grandchild']);

      assertError(await request('DELETE', `/groups/${root}`, { token: bob.token }), 404, NOT_FOUND);
      assertError(await request('DELETE', `/groups/${missingId()}`, { token: carol.token }), 404, NOT_FOUND);
      assertError(await request('DELETE', `/groups/${root}`), 403, UNAUTHORIZED);

      assertEmpty(
        await request('DELETE', `/groups/${grandchild}/members`, {
          token: carol.token,
          body: { members: ['in-grandchild'] },
        }),
        204,
      );
      const deleted = await request('DELETE', `/groups/${root}`, { token: carol.token });
      assertEmpty(deleted, 204);
      assert.match(deleted.headers.get('content-type') ?? '', /^application\/json/);
      for (const id of [root, child, grandchild]) {
        assertError(await request('GET', `/groups/${id}`, { token: carol.token }), 404, NOT_FOUND);
        assertError(await request('GET', `/groups/${id}/children`, { token: carol.token }), 404, NOT_FOUND);
      }
      assert.deepEqual(groupIds(await page(request, carol.token, '/groups?level=5')), [sibling]);
      assertError(await request('DELETE', `/groups/${root}`, { token: carol.token }), 404, NOT_FOUND);
      // An empty leaf goes at once.
      assertEmpty(await request('DELETE', `/groups/${sibling}`, { token: carol.token }), 204);
      assert.equal(await count(carol.token), 0);
    });
  });

  describe('things of a group (/groups/things/{id})', () => {
    it("lists the caller's things that are `things` members, with names, paged and filtered", async () => {
      const carol = await fresh();
      const [t1, t2, t3] = await createThings(request, carol.token, [
        { name: 'one', metadata: { k: 'one' } },
        { name: 'two' },
        { name: 'three' },
      ]);
      const foreign = await createThing(request, bob.token, { name: 'bobs' });
      const g = await create(carol.token, { name: 'with-things' });
      await assign(carol.token, g, 'things', [t1!.id, foreign.id, t2!.id, 'not-a-thing']);
      await assign(carol.token, g, 'users', [t3!.id]);
      const list = (query = '') => page(request, carol.token, `/groups/things/${g}${query}`);
      const p = await list();
      assert.deepEqual(Object.keys(p).sort(), ['direction', 'limit', 'offset', 'order', 'things', 'total']);
      assert.deepEqual(
        { ...p, things: [] },
        { total: 2, offset: 0, limit: 10, order: '', direction: '', things: [] },
      );
      const byId = (items: any[]) => [...items].sort((a, b) => (a.id < b.id ? -1 : 1));
      assert.deepEqual(byId(p.things), byId([t1, t2]));
      const paged: string[] = [];
      for (const offset of [0, 1]) {
        const one = await list(`?offset=${offset}&limit=1`);
        assert.deepEqual([one.total, one.offset, one.limit, one.things.length], [2, offset, 1, 1]);
        paged.push(...ids(one.things));
      }
      assert.deepEqual(sorted(paged), sorted([t1!.id, t2!.id]));
      assert.deepEqual((await list('?offset=2')).things, []);
      assert.deepEqual(ids((await list(`?metadata=${q({ k: 'one' })}`)).things), [t1!.id]);
      for (const query of ['?limit=0', '?limit=101'])
        assertError(await request('GET', `/groups/things/${g}${query}`, { token: carol.token }), 400);
    });

    it('answers an empty page with limit 0 for a missing or foreign group; 400 without a token, 401 bad', async () => {
      const t = await createThing(request, alice.token, { name: 'member' });
      const g = await create(alice.token, { name: `things-${tag()}` });
      await assign(alice.token, g, 'things', [t.id]);
      const empty = { total: 0, offset: 0, limit: 0, order: '', direction: '', things: [] };
      assert.deepEqual(await page(request, alice.token, `/groups/things/${missingId()}`), empty);
      assert.deepEqual(await page(request, bob.token, `/groups/things/${g}`), empty);
      assertError(await request('GET', `/groups/things/${g}`), 400, MALFORMED);
      assertError(await request('GET', `/groups/things/${g}`, { token: 'nonsense' }), 401);
      assert.equal((await page(request, alice.token, `/groups/things/${g}`)).total, 1);
      assert.equal((await page(request, `Bearer ${alice.token}`, `/groups/things/${g}`)).total, 1);
    });

    it('removes a deleted thing from every group', async () => {
      const carol = await fresh();
      const [gone, kept] = await createThings(request, carol.token, [{ name: 'gone' }, { name: 'kept' }]);
      const g1 = await create(carol.token, { name: 'g1' });
      const g2 = await create(carol.token, { name: 'g2' });
      await assign(carol.token, g1, 'things', [gone!.id, kept!.id]);
      await assign(carol.token, g2, 'things', [gone!.id]);
      assertEmpty(await request('DELETE', `/things/${gone!.id}`, { token: carol.token }), 204);
      assert.deepEqual(await memberIds(carol.token, g1), [kept!.id]);
      assert.deepEqual(await memberIds(carol.token, g2), []);
      assert.equal((await page(request, carol.token, `/groups/${g1}/members`)).total, 1);
      assert.deepEqual(ids((await page(request, carol.token, `/groups/things/${g1}`)).things), [kept!.id]);
      assert.equal((await page(request, carol.token, `/members/${gone!.id}/groups`)).total, 0);
      // Now empty, g2 can be deleted.
      assertEmpty(await request('DELETE', `/groups/${g2}`, { token: carol.token }), 204);
    });
  });

  describe('users of a group (/groups/users/{id})', () => {
    it('shows the admin every member user, anyone else only themselves', async () => {
      const login = await request('POST', '/tokens', { body: ADMIN });
      assert.equal(login.status, 201, login.text);
      const admin = login.json.token as string;
      const carol = await fresh();
      const ga = await create(admin, { name: `admins-${tag()}` });
      await assign(admin, ga, 'users', [alice.id, carol.id, crypto.randomUUID()]);
      await assign(admin, ga, 'things', [bob.id]);
      const users = await page(request, admin, `/groups/users/${ga}`);
      assert.deepEqual(Object.keys(users).sort(), ['limit', 'offset', 'total', 'users']);
      assert.equal(users.total, 2);
      assert.equal(users.offset, 0);
      assert.deepEqual(sorted(users.users.map((u: any) => u.email)), sorted([alice.email, carol.email]));
      for (const u of users.users) {
        assert.deepEqual(
          Object.keys(u).filter((k) => !['id', 'email', 'metadata'].includes(k)),
          [],
        );
        assert.equal(u.id, u.email === alice.email ? alice.id : carol.id);
      }
      assert.doesNotMatch(JSON.stringify(users), /password|\$argon2/i);
      const one = await page(request, admin, `/groups/users/${ga}?limit=1&offset=1`);
      assert.deepEqual([one.total, one.offset, one.limit, one.users.length], [2, 1, 1, 1]);

      const gc = await create(carol.token, { name: `carols-${tag()}` });
      await assign(carol.token, gc, 'users', [alice.id, carol.id, bob.id]);
      const own = await page(request, `Bearer ${carol.token}`, `/groups/users/${gc}`);
      assert.equal(own.total, 1);
      assert.deepEqual(
        own.users.map((u: any) => [u.id, u.email]),
        [[carol.id, carol.email]],
      );
      // Another user's group, the admin's included, and a missing one are empty pages.
      for (const [token, id] of [
        [alice.token, gc],
        [alice.token, ga],
        [carol.token, missingId()],
      ] as [string, string][]) {
        const p = await page(request, token, `/groups/users/${id}`);
        assert.equal(p.total, 0);
        assert.deepEqual(p.users, []);
      }
      // Users family: 403, as the users service's GET routes.
      for (const token of [undefined, 'nonsense'])
        assertError(await request('GET', `/groups/users/${gc}`, { token }), 403);
    });
  });
});
