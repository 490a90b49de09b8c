import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import promClient from 'prom-client';
import { ConfigError, loadConfig } from '../src/config.js';
import {
  client,
  dialect,
  type Reply,
  type Request,
  startServer as startTestServer,
  type TestServer,
  userToken,
  withServer,
} from './helpers/server.js';
import { type SmtpServer, startSmtpServer } from './helpers/smtp.js';

const ADMIN = { email: 'admin@example.com', password: 'admin-password-1' };
const MALFORMED = 'malformed entity specification';
const CREDENTIALS = 'missing or invalid credentials provided';
const WEAK = 'password does not meet the requirements';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * startServer, any number of times in one process. Workaround: src/http/server.ts
 * registers its request histogram in prom-client's global registry on every call, so a
 * second server in the same process fails with "already registered".
 */
function startServer(env: Record<string, string> = {}): Promise<TestServer> {
  promClient.register.removeSingleMetric('tethys_http_request_duration_seconds');
  return startTestServer(env);
}

const unique = (prefix = 'u') => `${prefix}${crypto.randomBytes(5).toString('hex')}@example.com`;

/** A JSON error body `{"error": "..."}` with a JSON Content-Type and the given status. */
function assertError(res: Reply, status: number, message?: string | RegExp): void {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  assert.equal(typeof res.json?.error, 'string', `no JSON error body: ${res.text}`);
  if (typeof message === 'string') assert.equal(res.json.error, message);
  else if (message) assert.match(res.json.error, message);
}

/** No password, hash or password-ish key anywhere in a response body. */
function assertNoSecrets(res: Reply, ...plain: string[]): void {
  assert.doesNotMatch(res.text, /password/i);
  assert.doesNotMatch(res.text, /\$argon2/);
  for (const p of plain) assert.ok(!res.text.includes(p), `response contains a password: ${res.text}`);
}

async function register(request: Request, email: string, password = 'secret-password', metadata?: unknown) {
  return request('POST', '/users', {
    body: metadata === undefined ? { email, password } : { email, password, metadata },
  });
}

async function login(request: Request, email: string, password: string) {
  return request('POST', '/tokens', { body: { email, password } });
}

describe(`users (${dialect})`, () => {
  const { request } = withServer(
    { MF_USERS_ADMIN_EMAIL: ADMIN.email, MF_USERS_ADMIN_PASSWORD: ADMIN.password },
    { start: startServer },
  );
  let admin: string;

  before(async () => {
    const res = await login(request, ADMIN.email, ADMIN.password);
    assert.equal(res.status, 201, res.text);
    admin = res.json.token;
  });

  /** Every user, as the admin sees them. */
  async function allUsers(): Promise<{ total: number; users: { id: string; email: string }[] }> {
    const res = await request('GET', '/users?limit=1000', { token: admin });
    assert.equal(res.status, 200, res.text);
    return res.json;
  }

  describe('register', () => {
    it('answers 201 with Location /users/{uuid}, an empty body and a JSON content type', async () => {
      const email = unique();
      const res = await register(request, email);
      assert.equal(res.status, 201, res.text);
      assert.equal(res.text, '');
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      const location = res.headers.get('location') ?? '';
      const m = /^\/users\/(.+)$/.exec(location);
      assert.ok(m, `Location: ${location}`);
      assert.match(m[1]!, UUID);
      const { token } = (await login(request, email, 'secret-password')).json;
      const viewed = await request('GET', location, { token });
      assert.equal(viewed.status, 200);
      assert.deepEqual(viewed.json, { id: m[1], email });
    });

    it('stores the metadata given at registration', async () => {
      const email = unique();
      const metadata = { role: 'sensor-admin', nested: { a: [1, 2, { b: null }] } };
      assert.equal((await register(request, email, 'secret-password', metadata)).status, 201);
      const { token } = (await login(request, email, 'secret-password')).json;
      const profile = await request('GET', '/users/profile', { token });
      assert.deepEqual(profile.json.metadata, metadata);
    });

    it('refuses a duplicate email with 409, and compares emails case-sensitively', async () => {
      const email = unique('dup');
      assert.equal((await register(request, email)).status, 201);
      assertError(await register(request, email, 'another-password'), 409, 'email already taken');
      // The first password still works: the duplicate wrote nothing.
      assert.equal((await login(request, email, 'secret-password')).status, 201);
      assertError(await login(request, email, 'another-password'), 403);
      const upper = email.toUpperCase();
      assert.equal((await register(request, upper)).status, 201);
      const listed = await request('GET', `/users?email=${encodeURIComponent(email.slice(0, 8))}`, {
        token: admin,
      });
      assert.equal(listed.json.total, 1);
    });

    it('refuses invalid emails (MODEL §2.1) with 400 and stores nothing', async () => {
      const before = (await allUsers()).total;
      const invalid = [
        '',
        'plain',
        'a@b',
        '@example.com',
        'a@',
        'a@@example.com',
        'a@b@example.com',
        '.a@example.com',
        'a.@example.com',
        'a..b@example.com',
        'a b@example.com',
        ' a@example.com',
        'a@example.com ',
        'a\t@example.com',
        'a@exa mple.com',
        'a@example..com',
        'a@.example.com',
        'a@example.com.',
        'a(b)@example.com',
        'a,b@example.com',
        'a;b@example.com',
        'a"b@example.com',
        'a\\b@example.com',
        'ü@example.com',
        `${'x'.repeat(65)}@example.com`,
        `a@example.${'c'.repeat(25)}`,
        `a@${`${'b'.repeat(63)}.`.repeat(4)}com`, // 261 chars, longer than 254
        'a@exa\u0000mple.com',
        "'; DROP TABLE users; --@example.com",
      ];
      for (const email of invalid) {
        assertError(await register(request, email), 400, MALFORMED);
      }
      assert.equal((await allUsers()).total, before);
    });

    it('accepts the whole local-part alphabet, IDNA hosts and the longest parts', async () => {
      const valid = [
        `o'brien+tag-${crypto.randomBytes(3).toString('hex')}@example.com`,
        `a!#$%&*/=?^_\`{|}~-${crypto.randomBytes(3).toString('hex')}@example.com`,
        `x${crypto.randomBytes(3).toString('hex')}@exämple.com`,
        `${crypto.randomBytes(32).toString('hex')}@example.com`, // 64-char local part
        `y${crypto.randomBytes(3).toString('hex')}@example.${'c'.repeat(24)}`,
        `a.b.c${crypto.randomBytes(3).toString('hex')}@sub.example.co`,
      ];
      for (const email of valid) {
        const res = await register(request, email);
        assert.equal(res.status, 201, `${email}: ${res.text}`);
        assert.equal((await login(request, email, 'secret-password')).status, 201, email);
      }
    });

    it('refuses a password that fails the default regex ^.{8,}$ and a missing one', async () => {
      const email = unique();
      assertError(await register(request, email, 'short'), 400, WEAK);
      assertError(await register(request, email, '1234567'), 400, WEAK);
      assertError(await register(request, email, ''), 400, MALFORMED);
      assertError(
        await request('POST', '/users', { body: { email } }),
        400,
        /^malformed entity specification/,
      );
      assertError(await login(request, email, 'short'), 403, CREDENTIALS);
      assert.equal((await register(request, email, '12345678')).status, 201);
    });
  });

  describe('login', () => {
    it('answers 201 {token} with a JWT', async () => {
      const email = unique();
      await register(request, email);
      const res = await login(request, email, 'secret-password');
      assert.equal(res.status, 201);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      assert.deepEqual(Object.keys(res.json), ['token']);
      assert.match(res.json.token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
      assertNoSecrets(res, 'secret-password');
    });

    it('answers 403 for a wrong password, an unknown email and an empty password', async () => {
      const email = unique();
      await register(request, email);
      assertError(await login(request, email, 'wrong-password'), 403, CREDENTIALS);
      assertError(await login(request, email, 'secret-password '), 403, CREDENTIALS);
      assertError(await login(request, email, ''), 403, CREDENTIALS);
      assertError(await login(request, unique('nobody'), 'secret-password'), 403, CREDENTIALS);
      assertError(await login(request, email.toUpperCase(), 'secret-password'), 403, CREDENTIALS);
    });

    it('answers 400 for an email that cannot be valid, or missing fields', async () => {
      assertError(await login(request, 'not-an-email', 'secret-password'), 400, MALFORMED);
      assertError(await request('POST', '/tokens', { body: { email: unique() } }), 400);
      assertError(await request('POST', '/tokens', { body: { password: 'secret-password' } }), 400);
    });
  });

  describe('profile and view', () => {
    it('shows the caller without any password; accepts Bearer; refuses missing or bad tokens with 403', async () => {
      const { email, token, password } = await userToken(request);
      for (const auth of [token, `Bearer ${token}`, `bearer ${token}`]) {
        const res = await request('GET', '/users/profile', { token: auth });
        assert.equal(res.status, 200);
        assert.equal(res.json.email, email);
        assert.match(res.json.id, UUID);
        assert.deepEqual(Object.keys(res.json).sort(), ['email', 'id']); // empty metadata omitted
        assertNoSecrets(res, password);
      }
      assertError(await request('GET', '/users/profile'), 403, CREDENTIALS);
      assertError(await request('GET', '/users/profile', { token: '' }), 403, CREDENTIALS);
      assertError(await request('GET', '/users/profile', { token: 'not-a-token' }), 403, CREDENTIALS);
      assertError(await request('GET', '/users/profile', { token: `${token}x` }), 403, CREDENTIALS);
    });

    it('lets any user view any user; an unknown or non-UUID id is 403', async () => {
      const a = await userToken(request);
      const b = await userToken(request);
      const bProfile = (await request('GET', '/users/profile', { token: b.token })).json;
      const viewed = await request('GET', `/users/${bProfile.id}`, { token: a.token });
      assert.equal(viewed.status, 200);
      assert.deepEqual(viewed.json, { id: bProfile.id, email: b.email });
      assertNoSecrets(viewed, b.password);
      // A PostgreSQL uuid matches whatever the case of its hex digits.
      assert.equal(
        (await request('GET', `/users/${bProfile.id.toUpperCase()}`, { token: a.token })).json?.email,
        b.email,
      );
      assertError(
        await request('GET', `/users/${crypto.randomUUID()}`, { token: a.token }),
        403,
        CREDENTIALS,
      );
      assertError(await request('GET', '/users/not-a-uuid', { token: a.token }), 403, CREDENTIALS);
      assertError(await request('GET', '/users/%00', { token: a.token }), 403, CREDENTIALS);
      assertError(await request('GET', `/users/${bProfile.id}`), 403, CREDENTIALS);
      assertError(await request('GET', `/users/${bProfile.id}`, { token: 'bad' }), 403, CREDENTIALS);
    });
  });

  describe('PUT /users', () => {
    it('replaces the metadata (absent, null or {} clear it); Content-Type is not checked', async () => {
      const { token } = await userToken(request);
      const profile = async () => (await request('GET', '/users/profile', { token })).json;
      const put = (body: unknown, contentType?: string) =>
        request('PUT', '/users', { token, body, contentType });

      const res = await put({ metadata: { a: 1, b: { c: [true, 'x'] } } });
      assert.equal(res.status, 200);
      assert.equal(res.text, '');
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      assert.deepEqual((await profile()).metadata, { a: 1, b: { c: [true, 'x'] } });

      assert.equal((await put({ metadata: { x: 'y' } })).status, 200);
      assert.deepEqual((await profile()).metadata, { x: 'y' }, 'replaced, not merged');

      assert.equal((await put({ metadata: { z: 1 } }, 'text/plain')).status, 200);
      assert.deepEqual((await profile()).metadata, { z: 1 });

      // An unpaired surrogate becomes U+FFFD, as Go's decoder makes it.
      assert.equal(
        (await request('PUT', '/users', { token, raw: '{"metadata":{"s":"a\\ud800b"}}' })).status,
        200,
      );
      assert.deepEqual((await profile()).metadata, { s: 'a\ufffdb' });

      for (const body of [{ metadata: {} }, { metadata: null }, {}]) {
        assert.equal((await put({ metadata: { again: 1 } })).status, 200);
        assert.equal((await put(body)).status, 200);
        assert.equal((await profile()).metadata, undefined, JSON.stringify(body));
      }
    });

    it('refuses a bad token (403) and bad bodies (400), changing nothing', async () => {
      const { token } = await userToken(request);
      assert.equal((await request('PUT', '/users', { token, body: { metadata: { keep: 1 } } })).status, 200);
      assertError(await request('PUT', '/users', { body: { metadata: { a: 1 } } }), 403, CREDENTIALS);
      assertError(
        await request('PUT', '/users', { token: 'bad', body: { metadata: { a: 1 } } }),
        403,
        CREDENTIALS,
      );
      const bad = [
        '',
        '{"metadata":{"a":1}',
        '{"metadata":',
        '[{"metadata":{"a":1}}]',
        'null',
        '"metadata"',
        '{"metadata":"x"}',
        '{"metadata":[1,2]}',
        '{"metadata":5}',
        '{"metadata":{"nul":"a\\u0000b"}}',
        '{"metadata":{"a\\u0000":1}}',
        `{"metadata":{"deep":${'['.repeat(600)}${']'.repeat(600)}}}`,
        `{"metadata":{"deeper":${'['.repeat(20000)}${']'.repeat(20000)}}}`,
      ];
      for (const raw of bad) {
        assertError(await request('PUT', '/users', { token, raw }), 400);
      }
      const profile = await request('GET', '/users/profile', { token });
      assert.deepEqual(profile.json.metadata, { keep: 1 });
    });
  });

  describe('GET /users', () => {
    let emails: string[];
    const tag = crypto.randomBytes(4).toString('hex');

    before(async () => {
      emails = [
        `list-a-${tag}@example.com`,
        `list-b-${tag}@example.com`,
        `list-c-${tag}@example.org`,
        `list*${tag}@example.com`,
        `list_${tag}@example.com`,
      ];
      await register(request, emails[0]!, 'secret-password', { group: 'north', level: { n: 1 } });
      await register(request, emails[1]!, 'secret-password', { group: 'south', tags: ['x', 'y'] });
      await register(request, emails[2]!, 'secret-password', { group: 'north', level: { n: 2 } });
      await register(request, emails[3]!, 'secret-password');
      await register(request, emails[4]!, 'secret-password');
    });

    const sorted = (list: string[]) => [...list].sort();

    it('shows a non-admin only themselves (total 1)', async () => {
      const token = (await login(request, emails[0]!, 'secret-password')).json.token;
      const res = await request('GET', '/users', { token });
      assert.equal(res.status, 200);
      assert.deepEqual(
        { ...res.json, users: res.json.users.map((u: { email: string }) => u.email) },
        { total: 1, offset: 0, limit: 10, users: [emails[0]] },
      );
      assertNoSecrets(res, 'secret-password');
      // Filters apply to that one user.
      const other = await request('GET', `/users?email=list-b-${tag}`, { token });
      assert.deepEqual(other.json, { total: 0, offset: 0, limit: 10, users: [] });
      const mine = await request('GET', `/users?metadata=${encodeURIComponent('{"group":"north"}')}`, {
        token,
      });
      assert.equal(mine.json.total, 1);
      assertError(await request('GET', '/users'), 403, CREDENTIALS);
      assertError(await request('GET', '/users', { token: 'bad' }), 403, CREDENTIALS);
    });

    it('creates the admin account at start; the admin sees everyone', async () => {
      const res = await request('GET', '/users?limit=1000', { token: admin });
      assert.equal(res.status, 200);
      const listed: string[] = res.json.users.map((u: { email: string }) => u.email);
      assert.equal(res.json.total, listed.length);
      assert.ok(listed.includes(ADMIN.email));
      for (const e of emails) assert.ok(listed.includes(e), e);
      assertNoSecrets(res, 'secret-password', ADMIN.password);
      for (const u of res.json.users)
        assert.deepEqual(
          Object.keys(u).filter((k) => !['id', 'email', 'metadata'].includes(k)),
          [],
        );
      // The admin password works as configured, and only once: the account is not recreated.
      assertError(await login(request, ADMIN.email, 'wrong-password'), 403, CREDENTIALS);
      assertError(await register(request, ADMIN.email, 'other-password'), 409, 'email already taken');
    });

    it('sorts by email ascending', async () => {
      const t = crypto.randomBytes(4).toString('hex');
      for (const letter of ['c', 'a', 'd', 'b']) await register(request, `sort${t}${letter}@example.com`);
      const res = await request('GET', `/users?email=sort${t}`, { token: admin });
      assert.deepEqual(
        res.json.users.map((u: { email: string }) => u.email),
        ['a', 'b', 'c', 'd'].map((l) => `sort${t}${l}@example.com`),
      );
    });

    it('filters by email substring (case-sensitive; LIKE wildcards % and _, \\ escapes; * ? [ literal)', async () => {
      const list = async (email: string) => {
        const res = await request('GET', `/users?email=${encodeURIComponent(email)}`, { token: admin });
        assert.equal(res.status, 200, res.text);
        return sorted(res.json.users.map((u: { email: string }) => u.email));
      };
      const pick = (...i: number[]) => sorted(i.map((n) => emails[n]!));
      assert.deepEqual(await list(`-${tag}@example.`), pick(0, 1, 2));
      assert.deepEqual(await list(`${tag}@example.org`), pick(2));
      assert.deepEqual(await list(`LIST-A-${tag}`), []);
      assert.deepEqual(await list(`list-_-${tag}@example.com`), pick(0, 1));
      assert.deepEqual(await list(`list%${tag}@example.com`), pick(0, 1, 3, 4));
      assert.deepEqual(await list(`list_${tag}`), pick(3, 4));
      assert.deepEqual(await list(`list\\_${tag}`), pick(4));
      assert.deepEqual(await list(`list*${tag}`), pick(3));
      assert.deepEqual(await list(`*${tag}`), pick(3));
      assert.deepEqual(await list(`list?${tag}`), []);
      assert.deepEqual(await list(`list[*]${tag}`), []);
      assert.deepEqual(await list(`list[_]${tag}`), []);
    });

    it('filters by metadata containment', async () => {
      const list = async (metadata: unknown) => {
        const res = await request(
          'GET',
          `/users?limit=100&metadata=${encodeURIComponent(JSON.stringify(metadata))}`,
          {
            token: admin,
          },
        );
        assert.equal(res.status, 200, res.text);
        return sorted(
          res.json.users.map((u: { email: string }) => u.email).filter((e: string) => e.includes(tag)),
        );
      };
      assert.deepEqual(await list({ group: 'north' }), sorted([emails[0]!, emails[2]!]));
      assert.deepEqual(await list({ level: { n: 2 } }), [emails[2]]);
      assert.deepEqual(await list({ group: 'north', level: { n: 1 } }), [emails[0]]);
      assert.deepEqual(await list({ tags: ['y'] }), [emails[1]]);
      assert.deepEqual(await list({ group: 'west' }), []);
      assert.deepEqual(await list({}), sorted(emails));
    });

    it('pages with limit and offset, echoing them', async () => {
      const q = `email=${encodeURIComponent(`${tag}@example.`)}`;
      const page = async (params: string) =>
        (await request('GET', `/users?${q}&${params}`, { token: admin })).json;
      const all = (await page('limit=10')).users.map((u: { email: string }) => u.email);
      assert.equal(all.length, 5);
      const p1 = await page('limit=2&offset=0');
      assert.equal(p1.total, 5);
      assert.equal(p1.limit, 2);
      assert.equal(p1.offset, 0);
      assert.deepEqual(
        p1.users.map((u: { email: string }) => u.email),
        all.slice(0, 2),
      );
      const p2 = await page('limit=2&offset=2');
      assert.deepEqual(
        p2.users.map((u: { email: string }) => u.email),
        all.slice(2, 4),
      );
      assert.equal(p2.offset, 2);
      const p3 = await page('offset=4&limit=2');
      assert.deepEqual(
        p3.users.map((u: { email: string }) => u.email),
        all.slice(4),
      );
      assert.deepEqual(await page('limit=2&offset=6'), { total: 5, offset: 6, limit: 2, users: [] });
      assert.deepEqual(await page('limit=0'), { total: 5, offset: 0, limit: 0, users: [] });
      const defaults = await request('GET', '/users', { token: admin });
      assert.equal(defaults.json.limit, 10);
      assert.equal(defaults.json.offset, 0);
      assert.ok(defaults.json.users.length <= 10);
    });

    it('refuses bad query parameters with 400 invalid query parameters', async () => {
      for (const qs of [
        'limit=-1',
        'limit=1.5',
        'limit=abc',
        'limit=',
        'offset=-5',
        'offset=x',
        'limit=1&limit=2',
        'email=a&email=b',
        'metadata=not-json',
        'metadata=%5B1%5D',
        'metadata=%22str%22',
        `metadata=${encodeURIComponent('{"a":"\\u0000"}')}`,
        'email=%00',
        'email=a%00b',
      ]) {
        assertError(await request('GET', `/users?${qs}`, { token: admin }), 400, 'invalid query parameters');
      }
    });

    it('treats SQL-looking filters as plain text', async () => {
      const before = (await allUsers()).total;
      for (const email of ["' OR '1'='1", "%' OR 1=1 --", "'; DROP TABLE users; --", '") OR ("1"="1']) {
        const res = await request('GET', `/users?email=${encodeURIComponent(email)}`, { token: admin });
        assert.equal(res.status, 200, res.text);
        assert.equal(res.json.total, 0, email);
      }
      for (const metadata of [
        { group: "' OR 1=1 --" },
        { "' OR 1=1 --": 'x' },
        { group: "north'); DELETE FROM users; --" },
      ]) {
        const res = await request('GET', `/users?metadata=${encodeURIComponent(JSON.stringify(metadata))}`, {
          token: admin,
        });
        assert.equal(res.status, 200, res.text);
        assert.equal(res.json.total, 0);
      }
      // An email with quotes and dashes is a valid email, stored and found as written.
      const quoted = `o'reilly--${tag}@example.com`;
      assert.equal((await register(request, quoted)).status, 201);
      assert.equal((await login(request, quoted, 'secret-password')).status, 201);
      const found = await request('GET', `/users?email=${encodeURIComponent(`o'reilly--${tag}`)}`, {
        token: admin,
      });
      assert.deepEqual(
        found.json.users.map((u: { email: string }) => u.email),
        [quoted],
      );
      assert.equal((await allUsers()).total, before + 1);
    });
  });

  describe('PATCH /password', () => {
    it('checks in the order of API §1.7', async () => {
      const { token, email } = await userToken(request);
      const patch = (body: unknown, auth?: string) => request('PATCH', '/password', { token: auth, body });
      // 403 empty header, before anything else.
      assertError(await patch({ old_password: '', password: 'x' }), 403, CREDENTIALS);
      assertError(await patch({ old_password: '', password: 'x' }, ''), 403, CREDENTIALS);
      // 400 empty old_password, before the token is checked.
      assertError(await patch({ old_password: '', password: 'new-password-1' }, 'bad-token'), 400, MALFORMED);
      assertError(await patch({ password: 'new-password-1' }, token), 400, MALFORMED);
      // 403 invalid token, before the new password is checked.
      assertError(
        await patch({ old_password: 'secret-password', password: 'x' }, 'bad-token'),
        403,
        CREDENTIALS,
      );
      // 400 weak new password, before the old one is checked.
      assertError(await patch({ old_password: 'wrong-password', password: 'x' }, token), 400, WEAK);
      // 403 wrong old password.
      assertError(
        await patch({ old_password: 'wrong-password', password: 'new-password-1' }, token),
        403,
        CREDENTIALS,
      );
      // Nothing changed so far.
      assert.equal((await login(request, email, 'secret-password')).status, 201);
    });

    it('answers 201 {} and the new password replaces the old one', async () => {
      const { token, email } = await userToken(request);
      const res = await request('PATCH', '/password', {
        token,
        body: { old_password: 'secret-password', password: 'brand-new-password' },
      });
      assert.equal(res.status, 201, res.text);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      assert.deepEqual(res.json, {});
      assertNoSecrets(res, 'secret-password', 'brand-new-password');
      assert.equal((await login(request, email, 'brand-new-password')).status, 201);
      assertError(await login(request, email, 'secret-password'), 403, CREDENTIALS);
    });

    it('refuses a wrong Content-Type (415) and bad bodies (400), changing nothing', async () => {
      const { token, email } = await userToken(request);
      const body = JSON.stringify({ old_password: 'secret-password', password: 'brand-new-password' });
      assertError(
        await request('PATCH', '/password', { token, raw: body, contentType: 'text/plain' }),
        415,
        'unsupported content type',
      );
      assertError(await request('PATCH', '/password', { token, raw: body, contentType: null }), 415);
      for (const raw of [
        '',
        body.slice(0, -1),
        `[${body}]`,
        '{"old_password":"secret-password","password":12345678901}',
        '{"old_password":["secret-password"],"password":"brand-new-password"}',
      ]) {
        assertError(await request('PATCH', '/password', { token, raw }), 400);
      }
      assert.equal((await login(request, email, 'secret-password')).status, 201);
      assertError(await login(request, email, 'brand-new-password'), 403);
    });
  });

  describe('password reset without SMTP', () => {
    it('answers 503 with a JSON error and changes nothing', async () => {
      const { email, token } = await userToken(request);
      const res = await request('POST', '/password/reset-request', {
        body: { email },
        headers: { referer: 'http://ui.example.com' },
      });
      assertError(res, 503);
      assert.match(res.json.error, /SMTP|e-?mail/i);
      // Both fields are still required first (400).
      assertError(await request('POST', '/password/reset-request', { body: { email } }), 400, MALFORMED);
      assertError(
        await request('POST', '/password/reset-request', {
          body: {},
          headers: { referer: 'http://ui.example.com' },
        }),
        400,
        MALFORMED,
      );
      assert.equal((await login(request, email, 'secret-password')).status, 201);
      assert.equal((await request('GET', '/users/profile', { token })).status, 200);
    });
  });

  describe('bad input on POST /users and POST /tokens', () => {
    it('answers 415 for a wrong Content-Type and stores nothing', async () => {
      for (const contentType of [
        'text/plain',
        'application/senml+json',
        'application/x-www-form-urlencoded',
        null,
      ]) {
        const email = unique();
        const raw = JSON.stringify({ email, password: 'secret-password' });
        assertError(await request('POST', '/users', { raw, contentType }), 415, 'unsupported content type');
        assertError(await request('POST', '/tokens', { raw, contentType }), 415, 'unsupported content type');
        assertError(await login(request, email, 'secret-password'), 403);
      }
      const email = unique();
      const ok = await request('POST', '/users', {
        raw: JSON.stringify({ email, password: 'secret-password' }),
        contentType: 'application/json; charset=utf-8',
      });
      assert.equal(ok.status, 201);
    });

    it('answers 400 for malformed, truncated, non-object and mistyped bodies, storing nothing', async () => {
      const before = (await allUsers()).total;
      const email = unique('bad');
      const good = JSON.stringify({ email, password: 'secret-password' });
      const bodies = [
        '',
        ' ',
        good.slice(0, -1),
        good.slice(0, 10),
        `[${good}]`,
        'null',
        'true',
        '42',
        '"string"',
        "{'email':'x'}",
        `{"email":5,"password":"secret-password"}`,
        `{"email":"${email}","password":12345678}`,
        `{"email":"${email}","password":null}`,
        `{"email":["${email}"],"password":"secret-password"}`,
        `{"email":"${email}","password":"secret-password","metadata":"x"}`,
        `{"email":"${email}","password":"secret-password","metadata":[1]}`,
        `{"email":"${email}","password":"secret-password","metadata":7}`,
        `{"email":"${email}","password":"secret-password","metadata":{"a":"\\u0000"}}`,
        `{"email":"${email}","password":"secret-password","metadata":{"\\u0000":1}}`,
        `{"email":"${email}","password":"secret-password","metadata":{"a":${'['.repeat(20000)}${']'.repeat(20000)}}}`,
      ];
      for (const raw of bodies) {
        const res = await request('POST', '/users', { raw });
        assertError(res, 400);
        assert.ok(res.status < 500);
      }
      for (const raw of bodies.slice(0, 14)) {
        assertError(await request('POST', '/tokens', { raw }), 400);
      }
      assertError(await login(request, email, 'secret-password'), 403);
      assert.equal((await allUsers()).total, before);
    });
  });
});

describe(`users configuration (${dialect})`, () => {
  it('refuses an admin email without a password (ConfigError), and an invalid regex', () => {
    assert.throws(() => loadConfig({ MF_USERS_ADMIN_EMAIL: 'admin@example.com' }), ConfigError);
    assert.throws(
      () => loadConfig({ MF_USERS_ADMIN_EMAIL: 'admin@example.com', MF_USERS_ADMIN_PASSWORD: '' }),
      ConfigError,
    );
    assert.throws(() => loadConfig({ MF_USERS_PASS_REGEX: '(' }), ConfigError);
    assert.doesNotThrow(() =>
      loadConfig({ MF_USERS_ADMIN_EMAIL: 'admin@example.com', MF_USERS_ADMIN_PASSWORD: 'long-enough' }),
    );
  });

  it("stores passwords as argon2id at one of OWASP's minimum pairs (7 MiB × 5) unless told otherwise", async () => {
    // The empty string counts as unset: the defaults, not the test suite's cheaper cost.
    const server = await startServer({ TETHYS_ARGON2_MEMORY_KIB: '', TETHYS_ARGON2_ITERATIONS: '' });
    try {
      const request = client(server.url);
      const email = unique();
      assert.equal((await register(request, email, 'default-cost-password')).status, 201);
      const row = await server.app.services.db.kysely
        .selectFrom('users')
        .select('password')
        .where('email', '=', email)
        .executeTakeFirstOrThrow();
      assert.match(row.password, /^\$argon2id\$v=19\$m=7168,t=5,p=1\$/);
      assert.equal((await login(request, email, 'default-cost-password')).status, 201);
      assertError(await login(request, email, 'wrong-password'), 403);
    } finally {
      await server.close();
    }
  });

  /**
   * One server with every other users option changed (starting a server per option
   * would make this file slow on PostgreSQL): a custom password regex, a 1 KiB body
   * limit, no admin, and reset mail over CRAM-MD5 with a template and reset endpoint.
   */
  describe('a server with custom settings', () => {
    const SMTP_USER = 'cram-user';
    const CRAM_SECRET = 'cram-secret';
    let smtp: SmtpServer;
    let server: TestServer;
    let request: Request;
    let dir: string;

    before(async () => {
      smtp = await startSmtpServer({ auth: { username: SMTP_USER, password: CRAM_SECRET } });
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tethys-tmpl-'));
      const template = path.join(dir, 'email.tmpl');
      fs.writeFileSync(template, 'Hello!\nFollow {{.Content}} to choose a new password.\n');
      server = await startServer({
        MF_USERS_PASS_REGEX: '^[0-9]{6}$',
        TETHYS_HTTP_BODY_LIMIT: '1024',
        MF_EMAIL_HOST: smtp.host,
        MF_EMAIL_PORT: String(smtp.port),
        MF_EMAIL_USERNAME: SMTP_USER,
        MF_EMAIL_PASSWORD: 'not-used-with-a-secret',
        MF_EMAIL_SECRET: CRAM_SECRET,
        MF_EMAIL_TEMPLATE: template,
        MF_TOKEN_RESET_ENDPOINT: '/password/new',
        MF_EMAIL_FROM_ADDRESS: 'ops@tethys.example.com',
        MF_EMAIL_FROM_NAME: 'Ops "Night" Desk',
      });
      request = client(server.url);
    });
    after(async () => {
      await server?.close();
      await smtp?.close();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it('applies MF_USERS_PASS_REGEX to register and password change', async () => {
      const email = unique();
      assertError(await register(request, email, 'long-but-not-digits'), 400, WEAK);
      assertError(await register(request, email, '1234567'), 400, WEAK);
      assert.equal((await register(request, email, '123456')).status, 201);
      const { token } = (await login(request, email, '123456')).json;
      const patch = (old_password: string, password: string) =>
        request('PATCH', '/password', { token, body: { old_password, password } });
      assertError(await patch('123456', 'abcdefgh'), 400, WEAK);
      assert.equal((await patch('123456', '654321')).status, 201);
      assert.equal((await login(request, email, '654321')).status, 201);
    });

    it('lists only the caller when no admin is configured', async () => {
      const email = unique();
      await register(request, email, '123456');
      await register(request, unique(), '123456');
      const { token } = (await login(request, email, '123456')).json;
      const res = await request('GET', '/users', { token });
      assert.equal(res.json.total, 1);
      assert.deepEqual(
        res.json.users.map((u: { email: string }) => u.email),
        [email],
      );
    });

    it('answers 413 with a JSON error above TETHYS_HTTP_BODY_LIMIT, storing nothing', async () => {
      const email = unique();
      const big = { email, password: '123456', metadata: { blob: 'x'.repeat(2000) } };
      assertError(await request('POST', '/users', { body: big }), 413);
      assertError(await request('POST', '/users', { body: big, contentType: 'text/plain' }), 413);
      assertError(await request('POST', '/tokens', { body: { email, password: 'p'.repeat(2000) } }), 413);
      assertError(await login(request, email, '123456'), 403);
      // Just under the limit is fine.
      const fits = await request('POST', '/users', { body: { ...big, metadata: { blob: 'x'.repeat(900) } } });
      assert.equal(fits.status, 201, fits.text);
      const { token } = (await login(request, email, '123456')).json;
      assertError(
        await request('PUT', '/users', { token, body: { metadata: { blob: 'y'.repeat(2000) } } }),
        413,
      );
      assertError(
        await request('PATCH', '/password', {
          token,
          body: { old_password: '123456', password: '9'.repeat(2000) },
        }),
        413,
      );
      assertError(await request('POST', '/keys', { token, body: { type: 2, pad: 'z'.repeat(2000) } }), 413);
      assert.equal((await request('GET', '/users/profile', { token })).json.metadata.blob, 'x'.repeat(900));
      assert.equal((await login(request, email, '123456')).status, 201);
    });

    it('mails over CRAM-MD5 (MF_EMAIL_SECRET) with the template and MF_TOKEN_RESET_ENDPOINT', async () => {
      const email = unique();
      assert.equal((await register(request, email, '123456')).status, 201);
      const referer = 'https://console.example.net:8443';
      const res = await request('POST', '/password/reset-request', { body: { email }, headers: { referer } });
      assert.equal(res.status, 201, res.text);
      const mail = await smtp.waitForMessage(1);
      assert.deepEqual(smtp.auths, [{ method: 'CRAM-MD5', username: SMTP_USER, ok: true }]);
      assert.ok(!smtp.commands.some((c) => c.includes(CRAM_SECRET)), 'the CRAM-MD5 secret crossed the wire');
      assert.equal(mail.from, 'ops@tethys.example.com');
      assert.match(mail.headers.from ?? '', /Ops \\?"Night\\?" Desk.*<ops@tethys\.example\.com>/);
      assert.match(
        mail.body,
        /^Hello!\r?\nFollow https:\/\/console\.example\.net:8443\/password\/new\?token=[\w.-]+ to choose/,
      );
      const token = tokenOf(mail.body, referer, '/password/new');
      // The custom regex applies to the reset as well.
      const reset = (password: string) =>
        request('PUT', '/password/reset', { body: { token, password, confirm_password: password } });
      assertError(await reset('abcdefgh'), 400, WEAK);
      assert.equal((await reset('999999')).status, 201);
      assert.equal((await login(request, email, '999999')).status, 201);
      assertError(await login(request, email, '123456'), 403);
    });

    it('mails the address exactly as registered and the Referer exactly as sent', async () => {
      const email = `o'brien+a&b=c{d}|e~f${crypto.randomBytes(3).toString('hex')}@example.com`;
      assert.equal((await register(request, email, '123456')).status, 201);
      // `$&`, `$'` and `` $` `` mean something to String.replace; here they are just text.
      const referer = "http://x.example.com/$&/$'/$`";
      const sent = smtp.messages.length;
      const res = await request('POST', '/password/reset-request', { body: { email }, headers: { referer } });
      assert.equal(res.status, 201, res.text);
      const mail = await smtp.waitForMessage(sent + 1);
      assert.deepEqual(mail.to, [email]);
      assert.ok(mail.body.includes(`Follow ${referer}/password/new?token=`), mail.body);
      const token = tokenOf(mail.body, referer, '/password/new');
      assert.equal(
        (
          await request('PUT', '/password/reset', {
            body: { token, password: '424242', confirm_password: '424242' },
          })
        ).status,
        201,
      );
      assert.equal((await login(request, email, '424242')).status, 201);
    });
  });
});

/** The token in the link of a reset mail. */
function tokenOf(body: string, referer: string, endpoint = '/reset-request'): string {
  const prefix = `${referer}${endpoint}?token=`;
  const at = body.indexOf(prefix);
  assert.ok(at >= 0, `no reset link in: ${body}`);
  return /^[\w.-]+/.exec(body.slice(at + prefix.length))![0];
}

describe(`password reset by e-mail (${dialect})`, () => {
  const SMTP_USER = 'mailer';
  const SMTP_PASS = 'smtp-pass-1';
  const REFERER = 'http://ui.example.com';
  let smtp: SmtpServer;
  let server: TestServer;
  let request: Request;

  const resetRequest = (email: string, referer = REFERER) =>
    request('POST', '/password/reset-request', { body: { email }, headers: { referer } });

  before(async () => {
    smtp = await startSmtpServer({ auth: { username: SMTP_USER, password: SMTP_PASS } });
    server = await startServer({
      MF_EMAIL_HOST: smtp.host,
      MF_EMAIL_PORT: String(smtp.port),
      MF_EMAIL_USERNAME: SMTP_USER,
      MF_EMAIL_PASSWORD: SMTP_PASS,
      MF_EMAIL_FROM_ADDRESS: 'noreply@tethys.example.com',
      MF_EMAIL_FROM_NAME: 'Tethys Test',
    });
    request = client(server.url);
  });
  after(async () => {
    await server?.close();
    await smtp?.close();
  });

  it('mails <Referer>/reset-request?token=... after SMTP AUTH; the token sets a new password', async () => {
    const { email } = await userToken(request);
    const sent = smtp.messages.length;
    const res = await resetRequest(email);
    assert.equal(res.status, 201, res.text);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(res.json, { msg: 'Email with reset link is sent' });
    const mail = await smtp.waitForMessage(sent + 1);
    assert.deepEqual(mail.to, [email]);
    assert.equal(mail.from, 'noreply@tethys.example.com');
    assert.match(mail.headers.from ?? '', /Tethys Test/);
    assert.equal(mail.headers.subject, 'Password reset');
    assert.ok(
      smtp.auths.some((a) => a.username === SMTP_USER && a.ok),
      JSON.stringify(smtp.auths),
    );
    assert.ok(smtp.commands.some((c) => /^AUTH (PLAIN|LOGIN)/i.test(c)));
    const token = tokenOf(mail.body, REFERER);
    assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/);

    const reset = await request('PUT', '/password/reset', {
      body: { token, password: 'reset-password-1', confirm_password: 'reset-password-1' },
    });
    assert.equal(reset.status, 201, reset.text);
    assert.match(reset.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(reset.json, {});
    assertNoSecrets(reset, 'reset-password-1');
    assert.equal((await login(request, email, 'reset-password-1')).status, 201);
    assertError(await login(request, email, 'secret-password'), 403, CREDENTIALS);
  });

  it('checks reset input: mismatch 400, missing token 400, invalid token 403, weak password 400', async () => {
    const { email } = await userToken(request);
    const sent = smtp.messages.length;
    assert.equal((await resetRequest(email)).status, 201);
    const token = tokenOf((await smtp.waitForMessage(sent + 1)).body, REFERER);
    const reset = (body: unknown) => request('PUT', '/password/reset', { body });
    const pw = 'reset-password-1';

    assertError(await reset({ token, password: pw, confirm_password: 'reset-password-2' }), 400, MALFORMED);
    assertError(await reset({ token, password: pw }), 400, MALFORMED);
    assertError(await reset({ token, confirm_password: pw }), 400, MALFORMED);
    assertError(await reset({ password: pw, confirm_password: pw }), 400);
    assertError(await reset({ token: '', password: pw, confirm_password: pw }), 400);
    assertError(await reset({ token: 'not-a-token', password: pw, confirm_password: pw }), 403, CREDENTIALS);
    assertError(await reset({ token: `${token}x`, password: pw, confirm_password: pw }), 403, CREDENTIALS);
    assertError(await reset({ token, password: 'short', confirm_password: 'short' }), 400, WEAK);
    assertError(
      await request('PUT', '/password/reset', { raw: JSON.stringify({ token }), contentType: 'text/plain' }),
      415,
    );
    assertError(await request('PUT', '/password/reset', { raw: '{"token":' }), 400);
    assertError(
      await request('PUT', '/password/reset', {
        raw: JSON.stringify([{ token, password: pw, confirm_password: pw }]),
      }),
      400,
    );
    assertError(
      await request('PUT', '/password/reset', {
        raw: JSON.stringify({ token, password: 12345678, confirm_password: 12345678 }),
      }),
      400,
    );
    // Nothing of that changed the password.
    assert.equal((await login(request, email, 'secret-password')).status, 201);
  });

  it('answers 400 non-existent user for an unknown email and sends no mail', async () => {
    const { email } = await userToken(request);
    const sent = smtp.messages.length;
    assertError(await resetRequest(unique('ghost')), 400, 'non-existent user');
    assertError(await resetRequest('not-an-email'), 400, 'non-existent user');
    assertError(await resetRequest('a\u0000@example.com'), 400);
    assertError(
      await request('POST', '/password/reset-request', { body: { email: unique() } }),
      400,
      MALFORMED,
    );
    assertError(
      await request('POST', '/password/reset-request', {
        raw: '{"email":"x@example.com"}',
        contentType: 'text/plain',
        headers: { referer: REFERER },
      }),
      415,
    );
    // Fence: a request that does mail, sent after the refused ones. A mail one of them had
    // started (even one not awaited) would have been delivered before this later one: the
    // only mail since is this one.
    assert.equal((await resetRequest(email)).status, 201);
    const mail = await smtp.waitForMessage(sent + 1);
    assert.deepEqual(mail.to, [email]);
    assert.equal(smtp.messages.length, sent + 1);
  });

  it('answers 502 when the SMTP server refuses the credentials, changing nothing', async () => {
    const { email } = await userToken(request);
    const sent = smtp.messages.length;
    smtp.auth = { username: SMTP_USER, password: 'rotated-password' };
    try {
      assertError(await resetRequest(email), 502, 'Sending e-mail failed');
    } finally {
      smtp.auth = { username: SMTP_USER, password: SMTP_PASS };
    }
    assert.ok(smtp.auths.some((a) => a.username === SMTP_USER && !a.ok));
    assert.equal(smtp.messages.length, sent);
    assert.equal((await login(request, email, 'secret-password')).status, 201);
    // And once the credentials match again, mail flows.
    assert.equal((await resetRequest(email)).status, 201);
  });

  it('answers 502 when the SMTP server drops the connection', async () => {
    const { email } = await userToken(request);
    smtp.down = true;
    try {
      assertError(await resetRequest(email), 502, 'Sending e-mail failed');
    } finally {
      smtp.down = false;
    }
    assert.equal((await login(request, email, 'secret-password')).status, 201);
  });
});
