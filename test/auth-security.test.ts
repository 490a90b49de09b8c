import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import promClient from 'prom-client';
import {
  client,
  createTestDatabase,
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

const CREDENTIALS = 'missing or invalid credentials provided';
const ISSUER = 'mainflux.auth';

function assertError(res: Reply, status: number): void {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  assert.equal(typeof res.json?.error, 'string', `no JSON error body: ${res.text}`);
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

interface Claims {
  iss?: string;
  sub?: string;
  issuer_id?: string;
  type?: number;
  iat?: number;
  exp?: number;
  jti?: string;
  [k: string]: unknown;
}

/** A JWT signed with an HMAC algorithm, with exactly the given claims. */
async function sign(
  claims: Claims,
  secret: string,
  alg: 'HS256' | 'HS384' | 'HS512' = 'HS256',
): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg, typ: 'JWT' }).sign(new TextEncoder().encode(secret));
}

/** Mainflux's claim layout for a login key (MODEL §2.2). */
function loginClaims(user: { email: string; id: string }, overrides: Claims = {}): Claims {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: ISSUER,
    sub: user.email,
    issuer_id: user.id,
    type: 0,
    iat: now,
    exp: now + 3600,
    ...overrides,
  };
}

/** Every secret a server of this file generated: each installation gets its own. */
const generatedSecrets: string[] = [];

describe(`auth secret (${dialect})`, () => {
  it('generates a secret file in the data dir when MF_AUTH_SECRET is unset; a restart keeps accepting old tokens', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tethys-secret-'));
    const database = await createTestDatabase();
    const env = { TETHYS_DATA_DIR: dataDir, TETHYS_DB_URL: database.url };
    let first: TestServer | undefined;
    let second: TestServer | undefined;
    try {
      first = await startServer(env);
      const file = path.join(dataDir, 'auth-secret');
      assert.ok(fs.existsSync(file), 'no auth-secret file in the data dir');
      assert.equal(fs.statSync(file).mode & 0o077, 0, 'the secret file is readable by others');
      const secret = fs.readFileSync(file, 'utf8').trim();
      assert.ok(secret.length >= 32, `secret too short: ${secret.length}`);
      assert.ok(!['auth', 'secret'].includes(secret));
      generatedSecrets.push(secret);

      const r1 = client(first.url);
      const { token, email } = await userToken(r1);
      const apiKey = (await r1('POST', '/keys', { token, body: { type: 2 } })).json.value;
      await first.close();
      first = undefined;

      second = await startServer(env);
      assert.equal(fs.readFileSync(file, 'utf8').trim(), secret, 'the secret changed on restart');
      const r2 = client(second.url);
      const profile = await r2('GET', '/users/profile', { token });
      assert.equal(profile.status, 200, profile.text);
      assert.equal(profile.json.email, email);
      assert.equal((await r2('GET', '/things', { token: apiKey })).status, 200);
    } finally {
      await first?.close();
      await second?.close();
      await database.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('with MF_AUTH_SECRET set, writes no secret file and accepts tokens a Mainflux with that secret minted', async () => {
    const secret = `shared-${crypto.randomBytes(8).toString('hex')}`;
    const server = await startServer({ MF_AUTH_SECRET: secret });
    try {
      assert.ok(!fs.existsSync(path.join(server.dataDir, 'auth-secret')));
      const request = client(server.url);
      const { email, token } = await userToken(request);
      const id = (await request('GET', '/users/profile', { token })).json.id;
      const minted = await sign(loginClaims({ email, id }), secret);
      const profile = await request('GET', '/users/profile', { token: minted });
      assert.equal(profile.status, 200, profile.text);
      assert.equal(profile.json.email, email);
      assert.equal((await request('GET', '/things', { token: minted })).status, 200);
      // Login tokens may be used to manage keys.
      assert.equal((await request('POST', '/keys', { token: minted, body: { type: 2 } })).status, 201);
    } finally {
      await server.close();
    }
  });
});

describe(`token verification (${dialect})`, () => {
  const fixture = withServer({}, { start: startServer });
  const { request } = fixture;
  let secret: string;
  let alice: { email: string; id: string; token: string; password: string };
  let bob: { email: string; id: string; token: string };

  before(async () => {
    secret = fs.readFileSync(path.join(fixture.server.dataDir, 'auth-secret'), 'utf8').trim();
    assert.ok(!generatedSecrets.includes(secret), 'two installations generated the same secret');
    generatedSecrets.push(secret);
    const a = await userToken(request);
    alice = { ...a, id: (await request('GET', '/users/profile', { token: a.token })).json.id };
    const b = await userToken(request);
    bob = { ...b, id: (await request('GET', '/users/profile', { token: b.token })).json.id };
  });

  /** The token is refused by things (401), users (403) and key management (403). */
  async function assertRefused(token: string, label: string): Promise<void> {
    const things = await request('GET', '/things', { token });
    assert.equal(things.status, 401, `${label}: things answered ${things.status} ${things.text}`);
    assertError(things, 401);
    assert.equal(things.json.error, CREDENTIALS);
    const profile = await request('GET', '/users/profile', { token });
    assert.equal(profile.status, 403, `${label}: users answered ${profile.status} ${profile.text}`);
    assertError(profile, 403);
    const bearer = await request('GET', '/users/profile', { token: `Bearer ${token}` });
    assert.equal(bearer.status, 403, `${label} (Bearer): users answered ${bearer.status}`);
    const key = await request('POST', '/keys', { token, body: { type: 2 } });
    assert.equal(key.status, 403, `${label}: keys answered ${key.status} ${key.text}`);
  }

  it('issues tokens with the claim layout of MODEL §2.2, and no password in them', async () => {
    const login = decodeJwt(alice.token);
    assert.deepEqual(decodeProtectedHeader(alice.token), { alg: 'HS256', typ: 'JWT' });
    assert.deepEqual(Object.keys(login).sort(), ['exp', 'iat', 'iss', 'issuer_id', 'sub', 'type']);
    assert.equal(login.iss, ISSUER);
    assert.equal(login.sub, alice.email);
    assert.equal(login.issuer_id, alice.id);
    assert.equal(login.type, 0);
    assert.equal(login.exp! - login.iat!, 10 * 3600);
    assert.ok(!JSON.stringify(login).includes(alice.password));

    const issued = (await request('POST', '/keys', { token: alice.token, body: { type: 2 } })).json;
    const api = decodeJwt(issued.value);
    assert.deepEqual(Object.keys(api).sort(), ['iat', 'iss', 'issuer_id', 'jti', 'sub', 'type']);
    assert.equal(api.jti, issued.id);
    assert.equal(api.type, 2);
    assert.equal(api.sub, alice.email);
  });

  it('accepts a correctly signed HS256 token, raw or with Bearer (the control for the forgeries below)', async () => {
    const token = await sign(loginClaims(alice), secret);
    for (const auth of [token, `Bearer ${token}`, `bearer   ${token}`]) {
      assert.equal((await request('GET', '/things', { token: auth })).status, 200);
      assert.equal((await request('GET', '/users/profile', { token: auth })).json?.email, alice.email);
    }
    const key = await request('POST', '/keys', { token: `Bearer ${alice.token}`, body: { type: 2 } });
    assert.equal(key.status, 201);
    assert.equal(
      (await request('GET', `/keys/${key.json.id}`, { token: `Bearer ${alice.token}` })).status,
      200,
    );
    assert.equal(
      (await request('DELETE', `/keys/${key.json.id}`, { token: `Bearer ${alice.token}` })).status,
      204,
    );
  });

  it('refuses alg none', async () => {
    const claims = loginClaims(alice);
    await assertRefused(`${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims)}.`, 'alg none');
    await assertRefused(`${b64url({ alg: 'none' })}.${b64url(claims)}`, 'alg none, no signature part');
    await assertRefused(`${b64url({ alg: 'NONE', typ: 'JWT' })}.${b64url(claims)}.`, 'alg NONE');
  });

  it('refuses HS384 and HS512 even with the right secret', async () => {
    await assertRefused(await sign(loginClaims(alice), secret, 'HS384'), 'HS384');
    await assertRefused(await sign(loginClaims(alice), secret, 'HS512'), 'HS512');
  });

  it('refuses tokens signed with another secret, including the Mainflux default "auth"', async () => {
    await assertRefused(await sign(loginClaims(alice), 'auth'), 'Mainflux default secret');
    await assertRefused(await sign(loginClaims(alice), 'secret'), 'Mainflux docker secret');
    await assertRefused(
      await sign(loginClaims(alice), crypto.randomBytes(32).toString('base64url')),
      'random secret',
    );
    await assertRefused(await sign(loginClaims(alice), `${secret}x`), 'secret with a suffix');
  });

  it('refuses a tampered payload (sub changed) or a tampered signature', async () => {
    const [header, payload, signature] = alice.token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    const asBob = b64url({ ...claims, sub: bob.email, issuer_id: bob.id });
    await assertRefused(`${header}.${asBob}.${signature}`, 'sub changed');
    const longer = b64url({ ...claims, exp: claims.exp + 3600 * 24 * 365 });
    await assertRefused(`${header}.${longer}.${signature}`, 'exp extended');
    // Flip a character in the middle of the signature (the last one may only carry padding bits).
    const mid = Math.floor(signature.length / 2);
    const flipped = signature.slice(0, mid) + (signature[mid] === 'A' ? 'B' : 'A') + signature.slice(mid + 1);
    await assertRefused(`${header}.${payload}.${flipped}`, 'signature changed');
    await assertRefused(`${header}.${payload}.`, 'signature removed');
    await assertRefused(`${header}.${payload}`, 'two parts');
    await assertRefused(`${alice.token}.extra`, 'four parts');
    // The original still works.
    assert.equal((await request('GET', '/users/profile', { token: alice.token })).json.email, alice.email);
  });

  it('refuses well-signed tokens whose claims are wrong: expired, other issuer, no subject, unknown type, unstored API key', async () => {
    const now = Math.floor(Date.now() / 1000);
    await assertRefused(
      await sign(loginClaims(alice, { iat: now - 7200, exp: now - 3600 }), secret),
      'expired',
    );
    await assertRefused(await sign(loginClaims(alice, { iss: 'someone.else' }), secret), 'other issuer');
    await assertRefused(await sign(loginClaims(alice, { sub: '' }), secret), 'empty subject');
    await assertRefused(await sign(loginClaims(alice, { type: 5 }), secret), 'type 5');
    await assertRefused(
      await sign(loginClaims(alice, { type: '0' as unknown as number }), secret),
      'type as a string',
    );
    const { type: _t, ...untyped } = loginClaims(alice);
    await assertRefused(await sign(untyped, secret), 'no type');
    // An API key must exist in the store (revocation works).
    await assertRefused(
      await sign(loginClaims(alice, { type: 2, jti: crypto.randomUUID() }), secret),
      'unstored API key',
    );
    await assertRefused(await sign(loginClaims(alice, { type: 2 }), secret), 'API key without jti');
  });

  it('refuses garbage credentials with 401/403 and a JSON error, never 500', async () => {
    for (const token of [
      'x',
      'Bearer',
      'Bearer ',
      'Basic dXNlcjpwYXNz',
      'a.b.c',
      '...',
      `${b64url({ alg: 'HS256' })}.not-base64!.sig`,
      `${b64url({ alg: 'HS256' })}.${Buffer.from('not json').toString('base64url')}.c2ln`,
      'ü'.repeat(10),
      'x'.repeat(8000),
    ]) {
      const things = await request('GET', '/things', { token });
      assert.ok(things.status === 401 || things.status === 431, `${token.slice(0, 20)}: ${things.status}`);
      if (things.status === 401) assertError(things, 401);
      const profile = await request('GET', '/users/profile', { token });
      assert.ok(profile.status === 403 || profile.status === 431, `${token.slice(0, 20)}: ${profile.status}`);
    }
  });

  it('never returns a password or hash, in successes or errors', async () => {
    const email = `sec${crypto.randomBytes(4).toString('hex')}@example.com`;
    const password = `P@ss-${crypto.randomBytes(6).toString('hex')}`;
    const replies = [
      await request('POST', '/users', { body: { email, password } }),
      await request('POST', '/users', { body: { email, password } }), // 409
      await request('POST', '/tokens', { body: { email, password } }),
      await request('POST', '/tokens', { body: { email, password: `${password}x` } }),
      await request('POST', '/tokens', { body: { email: 'nobody@example.com', password } }),
      await request('POST', '/users', { body: { email: 'bad', password } }),
      await request('POST', '/users', { body: { email: `${email}.x`, password: 'short' } }),
    ];
    const token = replies[2]!.json.token;
    replies.push(
      await request('GET', '/users/profile', { token }),
      await request('GET', '/users?limit=100', { token }),
      await request('PATCH', '/password', {
        token,
        body: { old_password: `${password}x`, password: `${password}2` },
      }),
      await request('PATCH', '/password', { token, body: { old_password: password, password: 'short' } }),
      await request('PATCH', '/password', {
        token,
        body: { old_password: password, password: `${password}2` },
      }),
    );
    const id = replies[7]!.json.id;
    replies.push(await request('GET', `/users/${id}`, { token: alice.token }));
    for (const res of replies) {
      assert.ok(!res.text.includes(password), `a reply contains the password: ${res.text}`);
      assert.doesNotMatch(res.text, /\$argon2|"password"/);
    }
  });
});
