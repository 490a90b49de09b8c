import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { describe, it } from 'node:test';
import mqtt from 'mqtt';
import { DomainError } from '../src/errors.js';
import { FailureThrottle } from '../src/throttle.js';
import { assertError, connect, createChannel, createThing } from './helpers/entities.js';
import { connackCode, mqttUrl } from './helpers/mqtt.js';
import { dialect, userToken, withServer } from './helpers/server.js';
import { eventually } from './helpers/wait.js';

const policy = {
  freeFailures: 3,
  freeFailuresPerSource: 10,
  firstDelayMs: 1000,
  maxDelayMs: 8000,
  forgetAfterMs: 60_000,
};

function retryAfterOf(fn: () => void): number | null {
  try {
    fn();
    return null;
  } catch (err) {
    assert.ok(err instanceof DomainError && err.kind === 'throttled');
    return err.retryAfterSeconds ?? null;
  }
}

describe('FailureThrottle', () => {
  it('lets a few failures through, then waits 1, 2, 4 s up to the cap; a success clears the pair', () => {
    let now = 0;
    const t = new FailureThrottle(policy, () => now);
    for (let i = 0; i < 2; i++) {
      t.check('a', 'ip1');
      t.failed('a', 'ip1');
    }
    t.check('a', 'ip1');
    t.failed('a', 'ip1'); // the third: a wait of 1 s starts
    assert.equal(
      retryAfterOf(() => t.check('a', 'ip1')),
      1,
    );
    now += 1000;
    t.check('a', 'ip1');
    t.failed('a', 'ip1');
    assert.equal(
      retryAfterOf(() => t.check('a', 'ip1')),
      2,
    );
    now += 2000;
    t.failed('a', 'ip1');
    assert.equal(
      retryAfterOf(() => t.check('a', 'ip1')),
      4,
    );
    now += 4000;
    t.failed('a', 'ip1');
    assert.equal(
      retryAfterOf(() => t.check('a', 'ip1')),
      8,
    );
    now += 8000;
    t.failed('a', 'ip1');
    assert.equal(
      retryAfterOf(() => t.check('a', 'ip1')),
      8,
      'capped',
    );
    // Another address, or another account from this one, is not held back.
    t.check('a', 'ip2');
    t.check('b', 'ip1');
    now += 8000;
    t.succeeded('a', 'ip1');
    t.failed('a', 'ip1');
    t.check('a', 'ip1');
  });

  it('counts one address over every account, and forgets old failures', () => {
    let now = 0;
    const t = new FailureThrottle(policy, () => now);
    for (let i = 0; i < 9; i++) t.failed(`account-${i}`, 'stuffer');
    t.check('account-99', 'stuffer');
    t.failed('account-99', 'stuffer');
    assert.equal(
      retryAfterOf(() => t.check('fresh', 'stuffer')),
      1,
    );
    t.check('fresh', 'someone-else');
    now += 61_000;
    t.check('fresh', 'stuffer');
    t.failed('account-1', 'stuffer');
    t.check('account-1', 'stuffer');
  });
});

/** POST /tokens from a chosen loopback address (127.0.0.x), with optional extra headers. */
function loginFrom(
  base: string,
  localAddress: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; retryAfter: string | null; json: any }> {
  const url = new URL(base);
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: '/tokens',
        method: 'POST',
        localAddress,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(data),
          ...headers,
        },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => {
          text += d;
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            retryAfter: (res.headers['retry-after'] as string | undefined) ?? null,
            json: text ? JSON.parse(text) : undefined,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

describe(`throttled guessing (${dialect})`, () => {
  const fixture = withServer();
  const { request } = fixture;

  it('logins: 5 wrong passwords, then 429 with Retry-After even for the right one; another address is not locked out', async () => {
    const { email, password } = await userToken(request);
    for (let i = 0; i < 5; i++) {
      const wrong = await loginFrom(fixture.server.url, '127.0.0.1', { email, password: 'wrong-password' });
      assert.equal(wrong.status, 403, `attempt ${i + 1}`);
    }
    const held = await loginFrom(fixture.server.url, '127.0.0.1', { email, password });
    assert.equal(held.status, 429);
    assert.ok(Number(held.retryAfter) >= 1, `Retry-After ${held.retryAfter}`);
    assert.match(held.json.error, /too many failed attempts/);
    // A forged X-Forwarded-For changes nothing when no proxy is trusted.
    const forged = await loginFrom(
      fixture.server.url,
      '127.0.0.1',
      { email, password },
      { 'x-forwarded-for': '10.9.9.9' },
    );
    assert.equal(forged.status, 429);
    // The owner, from their own address, logs in.
    const owner = await loginFrom(fixture.server.url, '127.0.0.2', { email, password });
    assert.equal(owner.status, 201);
    // The wait grows: a failure after it passes waits 2 s.
    await eventually(
      'the first wait to pass',
      async () => {
        const r = await loginFrom(fixture.server.url, '127.0.0.1', { email, password: 'wrong-password' });
        return r.status === 403;
      },
      { timeoutMs: 5000, intervalMs: 250 },
    );
    const longer = await loginFrom(fixture.server.url, '127.0.0.1', { email, password });
    assert.equal(longer.status, 429);
    assert.equal(longer.retryAfter, '2');
    await eventually(
      'the right password once the wait passes',
      async () => {
        const r = await loginFrom(fixture.server.url, '127.0.0.1', { email, password });
        return r.status === 201;
      },
      { timeoutMs: 5000, intervalMs: 250 },
    );
  });

  it('gateway bootstrap fetches with a wrong external key', async () => {
    const { token } = await userToken(request);
    const thing = await createThing(request, token, { name: 'gw' });
    const channel = await createChannel(request, token, { name: 'c' });
    const externalId = `throttle-${Date.now()}`;
    const added = await request('POST', '/things/configs', {
      token,
      body: {
        thing_id: thing.id,
        external_id: externalId,
        external_key: 'right-key',
        channels: [channel.id],
      },
    });
    assert.equal(added.status, 201, added.text);
    // Guesses through the plain and the sealed fetch count alike.
    for (let i = 0; i < 5; i++) {
      const r = await request('GET', `/things/bootstrap/${i % 2 ? 'sealed/' : ''}${externalId}`, {
        headers: { authorization: `guess-${i}` },
      });
      assert.equal(r.status, 404);
    }
    const held = await request('GET', `/things/bootstrap/${externalId}`, {
      headers: { authorization: 'right-key' },
    });
    assertError(held, 429);
    assert.ok(Number(held.headers.get('retry-after')) >= 1);
    const secure = await request('GET', `/things/bootstrap/secure/${externalId}`, {
      headers: { authorization: 'aa'.repeat(16) },
    });
    assertError(secure, 429);
    const sealed = await request('GET', `/things/bootstrap/sealed/${externalId}`, {
      headers: { authorization: 'right-key' },
    });
    assertError(sealed, 429);
    assert.ok(Number(sealed.headers.get('retry-after')) >= 1);
  });

  it('MQTT CONNECTs with a wrong key: refused, then refused as not authorized without a check', async () => {
    const { token } = await userToken(request);
    const thing = await createThing(request, token, { name: 'mqtt' });
    const channel = await createChannel(request, token, { name: 'c' });
    await connect(request, token, [channel.id], [thing.id]);
    const url = mqttUrl(fixture.server.app);
    for (let i = 0; i < 5; i++) {
      assert.equal(await connackCode(url, { username: thing.id, password: `wrong-${i}` }), 4);
    }
    assert.equal(await connackCode(url, { username: thing.id, password: thing.key }), 5, 'throttled');
    // From another address, the thing connects.
    const fromOtherAddress = await new Promise<number>((resolve, reject) => {
      const c = new mqtt.MqttClient(
        () =>
          net.connect({
            host: '127.0.0.1',
            port: fixture.server.app.mqtt.ports.mqtt!,
            localAddress: '127.0.0.2',
          }),
        { username: thing.id, password: thing.key, reconnectPeriod: 0, protocolVersion: 4 },
      );
      c.on('error', () => {});
      c.on('packetreceive', (p) => {
        if (p.cmd === 'connack') {
          c.end(true);
          resolve(p.returnCode ?? -1);
        }
      });
      c.on('close', () => reject(new Error('closed without a CONNACK')));
    });
    assert.equal(fromOtherAddress, 0);
  });
});
