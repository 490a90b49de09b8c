import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { before, describe, it } from 'node:test';
import promClient from 'prom-client';
import {
  dialect,
  type Reply,
  startServer as startTestServer,
  type TestServer,
  userToken,
  withServer,
} from './helpers/server.js';

/**
 * startServer, any number of times in one process. Workaround: src/http/server.ts
 * registers its request histogram in prom-client's global registry on every call, so a
 * second server in the same process fails with "already registered".
 */
function startServer(env: Record<string, string> = {}): Promise<TestServer> {
  promClient.register.removeSingleMetric('tethys_http_request_duration_seconds');
  return startTestServer(env);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const JWT = /^[\w-]+\.[\w-]+\.[\w-]+$/;
const MALFORMED = 'malformed entity specification';
const CREDENTIALS = 'missing or invalid credentials provided';

function assertError(res: Reply, status: number, message?: string): void {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  assert.equal(typeof res.json?.error, 'string', `no JSON error body: ${res.text}`);
  if (message !== undefined) assert.match(res.json.error, new RegExp(`^${message}`));
}

describe(`API keys (${dialect})`, () => {
  const fixture = withServer({}, { start: startServer });
  const { request } = fixture;
  let alice: { email: string; token: string; id: string };
  let bob: { email: string; token: string; id: string };

  async function account() {
    const u = await userToken(request);
    const profile = await request('GET', '/users/profile', { token: u.token });
    return { email: u.email, token: u.token, id: profile.json.id as string };
  }

  /** The keys stored for a user, read from the database. */
  async function storedKeys(userId: string): Promise<string[]> {
    const rows = await fixture.server.app.services.db.kysely
      .selectFrom('keys')
      .select('id')
      .where('issuer_id', '=', userId)
      .execute();
    return rows.map((r) => r.id).sort();
  }

  const issue = (token: string | undefined, body: unknown) => request('POST', '/keys', { token, body });

  before(async () => {
    alice = await account();
    bob = await account();
  });

  it('issues an API key (type 2) for a login token: 201 {id, value, issued_at}', async () => {
    const before = Date.now();
    const res = await issue(alice.token, { type: 2 });
    assert.equal(res.status, 201, res.text);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(Object.keys(res.json).sort(), ['id', 'issued_at', 'value']);
    assert.match(res.json.id, UUID);
    assert.match(res.json.value, JWT);
    const issuedAt = Date.parse(res.json.issued_at);
    assert.ok(issuedAt >= before - 1000 && issuedAt <= Date.now() + 1000, res.json.issued_at);
    assert.ok((await storedKeys(alice.id)).includes(res.json.id));
  });

  it('gives expires_at = issued_at + duration seconds when a duration is set', async () => {
    const res = await issue(alice.token, { type: 2, duration: 3600 });
    assert.equal(res.status, 201, res.text);
    assert.deepEqual(Object.keys(res.json).sort(), ['expires_at', 'id', 'issued_at', 'value']);
    assert.equal(Date.parse(res.json.expires_at) - Date.parse(res.json.issued_at), 3600 * 1000);
    const works = await request('GET', '/users/profile', { token: res.json.value });
    assert.equal(works.status, 200);
  });

  it('authenticates with the API key on things and users routes (raw and Bearer)', async () => {
    const key = (await issue(alice.token, { type: 2 })).json.value as string;
    for (const auth of [key, `Bearer ${key}`]) {
      const things = await request('GET', '/things', { token: auth });
      assert.equal(things.status, 200, things.text);
      const profile = await request('GET', '/users/profile', { token: auth });
      assert.equal(profile.status, 200);
      assert.deepEqual(profile.json, { id: alice.id, email: alice.email });
    }
    // What the key creates belongs to its user.
    const created = await request('POST', '/things', { token: key, body: { name: 'made-with-api-key' } });
    assert.equal(created.status, 201, created.text);
    const listed = await request('GET', '/things', { token: alice.token });
    assert.ok(listed.json.things.some((t: { name: string }) => t.name === 'made-with-api-key'));
    const others = await request('GET', '/things', { token: bob.token });
    assert.ok(!others.json.things.some((t: { name: string }) => t.name === 'made-with-api-key'));
  });

  it('shows a key to its issuer: {id, issuer_id, subject, type: 2, issued_at, expires_at?}', async () => {
    const issued = (await issue(alice.token, { type: 2, duration: 60 })).json;
    const res = await request('GET', `/keys/${issued.id}`, { token: alice.token });
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(res.json, {
      id: issued.id,
      issuer_id: alice.id,
      subject: alice.email,
      type: 2,
      issued_at: issued.issued_at,
      expires_at: issued.expires_at,
    });
    const forever = (await issue(alice.token, { type: 2 })).json;
    const shown = await request('GET', `/keys/${forever.id}`, { token: `Bearer ${alice.token}` });
    assert.equal(shown.status, 200);
    assert.equal(shown.json.expires_at, undefined);
    assert.equal(shown.json.type, 2);
  });

  it("answers 404 for another user's key, and does not let them revoke it", async () => {
    const issued = (await issue(alice.token, { type: 2 })).json;
    assertError(await request('GET', `/keys/${issued.id}`, { token: bob.token }), 404, 'entity not found');
    assertError(
      await request('GET', `/keys/${crypto.randomUUID()}`, { token: alice.token }),
      404,
      'entity not found',
    );
    assertError(await request('GET', '/keys/not-a-uuid', { token: alice.token }), 404);
    assertError(await request('GET', '/keys/%00', { token: alice.token }), 404);
    const foreignDelete = await request('DELETE', `/keys/${issued.id}`, { token: bob.token });
    assert.equal(foreignDelete.status, 204);
    assert.equal((await request('GET', '/users/profile', { token: issued.value })).status, 200);
    assert.equal((await request('GET', `/keys/${issued.id}`, { token: alice.token })).status, 200);
  });

  it('revokes: DELETE 204, then the key is refused (401 things, 403 users); deleting again or a missing key is 204', async () => {
    const issued = (await issue(alice.token, { type: 2 })).json;
    // Used first, so any cache has seen it as valid.
    assert.equal((await request('GET', '/things', { token: issued.value })).status, 200);
    assert.equal((await request('GET', '/users/profile', { token: issued.value })).status, 200);

    const res = await request('DELETE', `/keys/${issued.id}`, { token: alice.token });
    assert.equal(res.status, 204);
    assert.equal(res.text, '');

    assertError(await request('GET', '/things', { token: issued.value }), 401, CREDENTIALS);
    assertError(await request('GET', '/users/profile', { token: issued.value }), 403, CREDENTIALS);
    assertError(await request('GET', `/keys/${issued.id}`, { token: alice.token }), 404);
    assert.ok(!(await storedKeys(alice.id)).includes(issued.id));
    assert.equal((await request('DELETE', `/keys/${issued.id}`, { token: alice.token })).status, 204);
    assert.equal(
      (await request('DELETE', `/keys/${crypto.randomUUID()}`, { token: alice.token })).status,
      204,
    );
    assert.equal((await request('DELETE', '/keys/%00', { token: alice.token })).status, 204);
    // The login token is untouched.
    assert.equal((await request('GET', '/things', { token: alice.token })).status, 200);
  });

  it('refuses an expired key (negative duration) with 401/403, never 500, and forgets it', async () => {
    const issued = await issue(alice.token, { type: 2, duration: -60 });
    assert.equal(issued.status, 201, issued.text);
    assert.ok(Date.parse(issued.json.expires_at) < Date.now());
    const { id, value } = issued.json;
    assert.equal((await request('GET', `/keys/${id}`, { token: alice.token })).status, 200);
    assertError(await request('GET', '/things', { token: value }), 401, CREDENTIALS);
    assertError(await request('GET', '/users/profile', { token: value }), 403, CREDENTIALS);
    assertError(await request('POST', '/things', { token: value, body: { name: 'x' } }), 401);
    assertError(await request('POST', '/keys', { token: value, body: { type: 2 } }), 403);
    // An expired API key is deleted from the store when presented (MODEL §2.2).
    assertError(await request('GET', `/keys/${id}`, { token: alice.token }), 404);
    assert.ok(!(await storedKeys(alice.id)).includes(id));
  });

  it('refuses to issue a key with an API key (403), and API keys cannot manage keys', async () => {
    const issued = (await issue(alice.token, { type: 2 })).json;
    const before = await storedKeys(alice.id);
    assertError(await issue(issued.value, { type: 2 }), 403, 'failed to issue new user key');
    assertError(await issue(`Bearer ${issued.value}`, { type: 2 }), 403, 'failed to issue new user key');
    assertError(
      await request('GET', `/keys/${issued.id}`, { token: issued.value }),
      403,
      'failed to retrieve key data',
    );
    assertError(
      await request('DELETE', `/keys/${issued.id}`, { token: issued.value }),
      403,
      'failed to remove key',
    );
    assert.deepEqual(await storedKeys(alice.id), before);
    assert.equal((await request('GET', '/users/profile', { token: issued.value })).status, 200);
  });

  it('checks the credential on every key route: empty 400, invalid 403', async () => {
    const id = (await issue(alice.token, { type: 2 })).json.id;
    assertError(await request('GET', '/keys/x', { token: '' }), 400, MALFORMED);
    assertError(await request('GET', '/keys/x'), 400, MALFORMED);
    assertError(await request('GET', `/keys/${id}`, { token: '' }), 400, MALFORMED);
    assertError(await request('DELETE', `/keys/${id}`, { token: '' }), 400, MALFORMED);
    assertError(await issue('', { type: 2 }), 400, MALFORMED);
    assertError(await issue(undefined, { type: 2 }), 400, MALFORMED);
    assertError(
      await request('GET', `/keys/${id}`, { token: 'not-a-token' }),
      403,
      'failed to retrieve key data',
    );
    assertError(
      await request('DELETE', `/keys/${id}`, { token: 'not-a-token' }),
      403,
      'failed to remove key',
    );
    assertError(await issue('not-a-token', { type: 2 }), 403, 'failed to issue new user key');
    assertError(await issue(`${alice.token}x`, { type: 2 }), 403, 'failed to issue new user key');
    assert.equal((await request('GET', `/keys/${id}`, { token: alice.token })).status, 200);
  });

  it('refuses other key types and non-integer durations with 400, storing nothing', async () => {
    const before = await storedKeys(alice.id);
    for (const body of [
      { type: 1 },
      { type: 7 },
      { type: -1 },
      { type: 2.5 },
      { type: '2' },
      { type: 2, duration: 1.5 },
      { type: 2, duration: 0.1 },
      { type: 2, duration: '60' },
      { type: 2, duration: true },
      { type: 2, duration: [60] },
      // Expiry a client cannot read back (past year 9999, or past what a Date holds).
      { type: 2, duration: 1e15 },
      { type: 2, duration: 9e12 },
      { type: 2, duration: -9e12 },
      { type: 2, duration: 1e300 },
    ]) {
      assertError(await issue(alice.token, body), 400);
    }
    assertError(await issue(undefined, { type: 1 }), 400);
    assert.deepEqual(await storedKeys(alice.id), before);
  });

  it('refuses a wrong Content-Type (415) and malformed bodies (400), storing nothing', async () => {
    const before = await storedKeys(alice.id);
    const body = JSON.stringify({ type: 2 });
    for (const contentType of [
      'text/plain',
      'application/senml+json',
      'application/x-www-form-urlencoded',
      null,
    ]) {
      assertError(
        await request('POST', '/keys', { token: alice.token, raw: body, contentType }),
        415,
        'unsupported content type',
      );
    }
    for (const raw of [
      '',
      '{"type":2',
      '{"type":',
      '[{"type":2}]',
      'null',
      '2',
      '"type"',
      "{'type':2}",
      '{"type":2,"duration":}',
    ]) {
      assertError(await request('POST', '/keys', { token: alice.token, raw }), 400);
    }
    assert.deepEqual(await storedKeys(alice.id), before);
    const ok = await request('POST', '/keys', {
      token: alice.token,
      raw: body,
      contentType: 'application/json; charset=utf-8',
    });
    assert.equal(ok.status, 201);
  });

  it('type 0 (or no type) without a token mints a login key that identifies nobody', async () => {
    for (const body of [{ type: 0 }, {}, { type: null, duration: null }]) {
      const res = await issue(undefined, body);
      assert.equal(res.status, 201, res.text);
      assert.deepEqual(Object.keys(res.json).sort(), ['expires_at', 'issued_at', 'value']);
      assert.equal(Date.parse(res.json.expires_at) - Date.parse(res.json.issued_at), 10 * 3600 * 1000);
      assertError(await request('GET', '/users/profile', { token: res.json.value }), 403);
      assertError(await request('GET', '/things', { token: res.json.value }), 401);
      assertError(await issue(res.json.value, { type: 2 }), 403);
    }
  });

  it('type 0 with a login token mints a login key for that user', async () => {
    const res = await issue(alice.token, { type: 0 });
    assert.equal(res.status, 201);
    const profile = await request('GET', '/users/profile', { token: res.json.value });
    assert.equal(profile.status, 200);
    assert.equal(profile.json.email, alice.email);
    assert.equal((await issue(res.json.value, { type: 2 })).status, 201);
  });
});
