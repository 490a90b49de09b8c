import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { userScope } from '../src/http/idempotency.js';
import { IdempotencyRepository } from '../src/idempotency/repo.js';
import { IdempotencyMessages, LEASE_MS, RETENTION_MS } from '../src/idempotency/service.js';
import type { ProvisionStep } from '../src/provision/service.js';
import { assertError } from './helpers/entities.js';
import { type Reply, type Request, withServer } from './helpers/server.js';

const uid = () => crypto.randomBytes(6).toString('hex');
const HOUR = 60 * 60 * 1000;

/**
 * /mapping issues a certificate (RSA 2048, the quickest RSA) before its transaction:
 * its `certs` step is where a test holds a request, on both databases, while nothing is
 * locked.
 */
const X509 = { MF_PROVISION_X509_PROVISIONING: 'true', MF_PROVISION_CERTS_RSA_BITS: '2048' };

/** Headers as a client sees them, but the date (the second may tick between two answers). */
function headersOf(reply: Reply): Record<string, string> {
  const all = Object.fromEntries(reply.headers.entries());
  delete all.date;
  return all;
}

/** Same status, headers and body, byte for byte. */
function assertSameAnswer(replay: Reply, first: Reply): void {
  assert.equal(replay.status, first.status, replay.text);
  assert.deepEqual(headersOf(replay), headersOf(first));
  assert.equal(replay.text, first.text);
}

async function total(request: Request, token: string, what: 'things' | 'channels'): Promise<number> {
  const reply = await request('GET', `/${what}?limit=1`, { token });
  assert.equal(reply.status, 200, reply.text);
  return reply.json.total;
}

const counts = async (request: Request, token: string) => ({
  things: await total(request, token, 'things'),
  channels: await total(request, token, 'channels'),
});

/** The five idempotent writes, each with a body and how much it creates. */
const ROUTES: { path: string; body: () => unknown; creates: { things: number; channels: number } }[] = [
  { path: '/things', body: () => ({ name: 'one' }), creates: { things: 1, channels: 0 } },
  {
    path: '/things/bulk',
    body: () => [{ name: 'a' }, { name: 'b', metadata: { n: 1 } }],
    creates: { things: 2, channels: 0 },
  },
  { path: '/channels', body: () => ({ name: 'c' }), creates: { things: 0, channels: 1 } },
  {
    path: '/channels/bulk',
    body: () => [{ name: 'c1' }, { name: 'c2' }],
    creates: { things: 0, channels: 2 },
  },
  {
    path: '/mapping',
    body: () => ({ external_id: `gw-${uid()}`, external_key: 'k', name: 'edge' }),
    creates: { things: 1, channels: 2 },
  },
];

describe('idempotent writes (Idempotency-Key)', () => {
  const fixture = withServer(X509);
  const request: Request = fixture.request;
  const post = (url: string, token: string, key: string | undefined, body: unknown) =>
    request('POST', url, { token, body, headers: key === undefined ? {} : { 'idempotency-key': key } });
  const services = () => fixture.server.app.services;
  /** Runs `work` with `hook` called before every step of a provisioning, then removes it. */
  async function withSteps<T>(hook: (step: ProvisionStep) => unknown, work: () => Promise<T>): Promise<T> {
    const provision = services().provision;
    provision.beforeStep = hook as (step: ProvisionStep) => void;
    try {
      return await work();
    } finally {
      provision.beforeStep = undefined;
    }
  }
  /** A /mapping answered 201 is what a retry gets, and the user has that one gateway. */
  async function assertOneGateway(token: string, key: string, body: unknown, answered: Reply) {
    assert.equal(answered.status, 201, answered.text);
    assertSameAnswer(await post('/mapping', token, key, body), answered);
    assert.deepEqual(await counts(request, token), { things: 1, channels: 2 });
  }
  const keyRows = async () =>
    Number(
      (
        await sql<{ n: number | string }>`SELECT count(*) AS n FROM idempotency_keys`.execute(
          services().db.kysely,
        )
      ).rows[0]!.n,
    );

  for (const route of ROUTES) {
    it(`POST ${route.path}: a retry gets the first answer, byte for byte, and creates nothing`, async () => {
      const { token } = await fixture.user();
      const key = `"${crypto.randomUUID()}"`;
      const body = route.body();
      const first = await post(route.path, token, key, body);
      assert.equal(first.status, 201, first.text);
      const made = await counts(request, token);
      assert.deepEqual(made, route.creates);
      for (let retry = 0; retry < 2; retry++) {
        const replay = await post(route.path, token, key, body);
        assertSameAnswer(replay, first);
      }
      assert.deepEqual(await counts(request, token), made);
      if (route.path === '/things' || route.path === '/channels') {
        assert.match(first.headers.get('location') ?? '', new RegExp(`^${route.path}/`));
        assert.ok(first.headers.get('warning-deprecated'));
      }
    });
  }

  it('the key with a different body, or on another route, is refused 422 and creates nothing', async () => {
    const { token } = await fixture.user();
    const key = uid();
    assert.equal((await post('/things/bulk', token, key, [{ name: 'a' }])).status, 201);
    assertError(await post('/things/bulk', token, key, [{ name: 'b' }]), 422, IdempotencyMessages.reused);
    assertError(await post('/channels/bulk', token, key, [{ name: 'a' }]), 422, IdempotencyMessages.reused);
    assert.deepEqual(await counts(request, token), { things: 1, channels: 0 });
  });

  it('a retry while the first request runs is refused 409; once it answered, it is replayed', async () => {
    const { token } = await fixture.user();
    const key = uid();
    const body = { external_id: `gw-${uid()}`, external_key: 'k' };
    let reached!: () => void;
    const held = new Promise<void>((resolve) => {
      reached = resolve;
    });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let first: Promise<Reply> | undefined;
    const holdCerts = async (step: ProvisionStep) => {
      if (step !== 'certs') return;
      reached();
      await gate;
    };
    await withSteps(holdCerts, async () => {
      try {
        first = post('/mapping', token, key, body);
        await held;
        const busy = await post('/mapping', token, key, body);
        assertError(busy, 409, IdempotencyMessages.running);
        assert.equal(busy.headers.get('retry-after'), '1');
        assertError(await post('/mapping', token, key, { ...body, name: 'other' }), 422);
      } finally {
        release();
      }
    });
    await assertOneGateway(token, key, body, await first!);
  });

  it('concurrent requests with one key: one runs, the others wait (409) or get its answer', async () => {
    const { token } = await fixture.user();
    const key = uid();
    const body = [{ name: 'a' }, { name: 'b' }];
    const replies = await Promise.all(
      Array.from({ length: 12 }, () => post('/things/bulk', token, key, body)),
    );
    const answered = replies.filter((r) => r.status === 201);
    assert.ok(answered.length >= 1, replies.map((r) => r.status).join(' '));
    for (const r of answered) assertSameAnswer(r, answered[0]!);
    for (const r of replies) if (r.status !== 201) assertError(r, 409, IdempotencyMessages.running);
    assert.equal(await total(request, token, 'things'), 2);
  });

  it('keys are per user: another user runs the same key; the same user with another token is replayed', async () => {
    const alice = await fixture.user();
    const bob = await fixture.user();
    const key = uid();
    const body = { name: 'shared' };
    const first = await post('/things', alice.token, key, body);
    assert.equal(first.status, 201);
    const other = await post('/things', bob.token, key, body);
    assert.equal(other.status, 201);
    assert.notEqual(other.headers.get('location'), first.headers.get('location'));
    assert.equal(await total(request, bob.token, 'things'), 1);

    const login = await request('POST', '/tokens', {
      body: { email: alice.email, password: alice.password },
    });
    assert.equal(login.status, 201);
    const apiKey = await request('POST', '/keys', { token: alice.token, body: { type: 2 } });
    assert.equal(apiKey.status, 201, apiKey.text);
    // A new login (a new token once the second has changed), an API key, the Bearer form.
    for (const token of [login.json.token, apiKey.json.value, `Bearer ${alice.token}`]) {
      assertSameAnswer(await post('/things', token, key, body), first);
    }
    assert.equal(await total(request, alice.token, 'things'), 1);
  });

  it('a request without valid credentials is refused as before and keeps nothing', async () => {
    const { token } = await fixture.user();
    const key = uid();
    assertError(await post('/things', 'not-a-token', key, { name: 'x' }), 401);
    assertError(await post('/mapping', 'not-a-token', key, { external_id: uid(), external_key: 'k' }), 401);
    assert.equal((await post('/things', token, key, { name: 'x' })).status, 201);
  });

  it('an invalid key is refused 400 before anything runs; quoted and bare forms are one key', async () => {
    const { token } = await fixture.user();
    for (const bad of [
      '""',
      'a b',
      '"unterminated',
      '"a", "b"',
      'x'.repeat(256),
      `"${'x'.repeat(256)}"`,
      'é',
    ]) {
      assertError(await post('/things', token, bad, { name: 'x' }), 400, IdempotencyMessages.malformed);
    }
    assert.equal(await total(request, token, 'things'), 0);
    const longest = 'k'.repeat(255);
    const first = await post('/things', token, `"${longest}"`, { name: 'x' });
    assert.equal(first.status, 201);
    assertSameAnswer(await post('/things', token, longest, { name: 'x' }), first);
    // An sf-string's escapes; bare, a quote or a backslash is not a key.
    const escaped = await post('/things', token, '"a\\"b\\\\c"', { name: 'y' });
    assert.equal(escaped.status, 201);
    assertSameAnswer(await post('/things', token, '"a\\"b\\\\c"', { name: 'y' }), escaped);
    assertError(await post('/things', token, 'a"b', { name: 'y' }), 400, IdempotencyMessages.malformed);
    assert.equal(await total(request, token, 'things'), 2);
  });

  it('a failed request (5xx) keeps nothing: its retry runs again', async () => {
    const { token } = await fixture.user();
    const key = uid();
    const body = { external_id: `gw-${uid()}`, external_key: 'k' };
    const failOnChannels = (step: ProvisionStep) => {
      if (step === 'channels') throw new Error('injected');
    };
    const failed = await withSteps(failOnChannels, () => post('/mapping', token, key, body));
    assertError(failed, 500);
    await assertOneGateway(token, key, body, await post('/mapping', token, key, body));
  });

  it('a client error is kept like any answer; a request refused for a conflict (409) is not', async () => {
    const { token } = await fixture.user();
    const key = uid();
    const bad = await post('/things/bulk', token, key, []);
    assertError(bad, 400);
    assertSameAnswer(await post('/things/bulk', token, key, []), bad);

    const taken = `key-${uid()}`;
    const owner = await fixture.user();
    assert.equal((await post('/things', owner.token, undefined, { key: taken })).status, 201);
    const other = uid();
    assertError(await post('/things', token, other, { key: taken }), 409);
    const gone = await request('GET', '/things?limit=100', { token: owner.token });
    const id = gone.json.things.find((t: { key: string }) => t.key === taken).id;
    assert.equal((await request('DELETE', `/things/${id}`, { token: owner.token })).status, 204);
    assert.equal((await post('/things', token, other, { key: taken })).status, 201);
  });

  it('after 24 h a key is forgotten: it runs again, and the sweep deletes expired keys', async () => {
    const { token } = await fixture.user();
    const key = uid();
    const idempotency = services().idempotency;
    const first = await post('/channels', token, key, { name: 'c' });
    assert.equal(first.status, 201);
    try {
      idempotency.now = () => Date.now() + RETENTION_MS - HOUR;
      assertSameAnswer(await post('/channels', token, key, { name: 'c' }), first);
      idempotency.now = () => Date.now() + RETENTION_MS + HOUR;
      const again = await post('/channels', token, key, { name: 'c' });
      assert.equal(again.status, 201);
      assert.notEqual(again.headers.get('location'), first.headers.get('location'));
      assert.equal(await total(request, token, 'channels'), 2);
      // The new answer is kept from its own time; everything kept before it has expired.
      const before = await keyRows();
      assert.ok(before >= 2);
      const pruned = await idempotency.prune();
      assert.ok(pruned >= 1, `pruned ${pruned}`);
      assert.equal(await keyRows(), before - pruned);
      assertSameAnswer(await post('/channels', token, key, { name: 'c' }), again);
      idempotency.now = () => Date.now() + 3 * RETENTION_MS;
      await idempotency.prune();
      assert.equal(await keyRows(), 0);
    } finally {
      idempotency.now = Date.now;
    }
  });

  it('a running key whose process died is taken over once its lease ends', async () => {
    const { token } = await fixture.user();
    const profile = await request('GET', '/users/profile', { token });
    assert.equal(profile.status, 200, profile.text);
    const key = uid();
    const body = [{ name: 'a' }];
    // What a crashed request leaves: a running claim, with the fingerprint of the retry.
    const fingerprint = crypto
      .createHash('sha256')
      .update('POST /things/bulk\n')
      .update(JSON.stringify(body))
      .digest('hex');
    const now = Date.now();
    const repo = new IdempotencyRepository(services().db);
    const claim = {
      scope: userScope({ userId: profile.json.id, email: profile.json.email }),
      key,
      id: 'crashed',
      createdAt: now,
    };
    assert.equal(await repo.claim(claim, fingerprint, now + LEASE_MS), true);
    assertError(await post('/things/bulk', token, key, body), 409, IdempotencyMessages.running);
    const idempotency = services().idempotency;
    try {
      idempotency.now = () => Date.now() + LEASE_MS + 1000;
      const taken = await post('/things/bulk', token, key, body);
      assert.equal(taken.status, 201, taken.text);
      assertSameAnswer(await post('/things/bulk', token, key, body), taken);
      assert.equal(
        await repo.complete(claim, { status: 500, headers: {}, body: Buffer.alloc(0) }, now),
        false,
      );
    } finally {
      idempotency.now = Date.now;
    }
    assert.equal(await total(request, token, 'things'), 1);
  });

  it('without the header nothing changes: each request runs, nothing is kept', async () => {
    const { token } = await fixture.user();
    const before = await keyRows();
    for (const route of ROUTES) {
      const body = route.body();
      const a = await post(route.path, token, undefined, body);
      assert.equal(a.status, 201, a.text);
      if (route.path !== '/mapping')
        assert.equal((await post(route.path, token, undefined, body)).status, 201);
    }
    assert.deepEqual(await counts(request, token), { things: 2 + 4 + 1, channels: 2 + 4 + 2 });
    assert.equal(await keyRows(), before);
  });
});
