import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { before, describe, it } from 'node:test';
import { assertError, createChannel, createThing, page } from './helpers/entities.js';
import { dialect, type Reply, type Request, userToken, withServer } from './helpers/server.js';

/**
 * What the HTTP layer does with requests that are wrong in form: every one gets a 4xx
 * with a JSON error body, none a 5xx, and none writes anything.
 */
describe(`HTTP edge cases (${dialect})`, () => {
  const { request } = withServer();
  let token: string;
  let thing: { id: string; key: string };
  let channel: { id: string };
  const replies: { label: string; reply: Reply }[] = [];

  before(async () => {
    token = (await userToken(request)).token;
    thing = await createThing(request, token, { name: 'edge', metadata: { k: 'v' } });
    channel = await createChannel(request, token, { name: 'edge' });
  });

  /** Sends and remembers the reply, so the last test can check no request got a 5xx. */
  async function send(method: string, path: string, options: Parameters<Request>[2] = {}): Promise<Reply> {
    const reply = await request(method, path, options);
    replies.push({ label: `${method} ${path}`, reply });
    return reply;
  }

  /** JSON routes of the things service with a valid body each. */
  const jsonRoutes = () => [
    { method: 'POST', path: '/things', body: { name: 'x' } },
    { method: 'POST', path: '/things/bulk', body: [{ name: 'x' }] },
    { method: 'PUT', path: `/things/${thing.id}`, body: { name: 'x' } },
    { method: 'PATCH', path: `/things/${thing.id}/key`, body: { key: `k-${crypto.randomUUID()}` } },
    { method: 'POST', path: '/channels', body: { name: 'x' } },
    { method: 'POST', path: '/channels/bulk', body: [{ name: 'x' }] },
    { method: 'PUT', path: `/channels/${channel.id}`, body: { name: 'x' } },
    { method: 'POST', path: '/connect', body: { channel_ids: [channel.id], thing_ids: [thing.id] } },
    { method: 'POST', path: '/identify', body: { token: thing.key } },
    { method: 'POST', path: `/identify/channels/${channel.id}/access-by-key`, body: { token: thing.key } },
    { method: 'POST', path: `/identify/channels/${channel.id}/access-by-id`, body: { thing_id: thing.id } },
  ];

  it('answers 415 with a JSON error for a wrong or missing Content-Type on JSON routes', async () => {
    for (const route of jsonRoutes()) {
      for (const contentType of [
        'text/plain',
        'application/senml+json',
        'application/xml',
        'multipart/form-data; boundary=x',
        null,
      ]) {
        assertError(
          await send(route.method, route.path, { token, raw: JSON.stringify(route.body), contentType }),
          415,
          'unsupported content type',
        );
      }
      // No body and no Content-Type at all: also 415, checked before the credentials.
      assertError(await send(route.method, route.path, { token }), 415);
      assertError(
        await send(route.method, route.path, { raw: JSON.stringify(route.body), contentType: 'text/plain' }),
        415,
      );
    }
  });

  it('accepts application/json with parameters', async () => {
    const reply = await send('POST', '/things', {
      token,
      body: { name: 'charset' },
      contentType: 'application/json; charset=utf-8',
    });
    assert.equal(reply.status, 201);
    assert.equal((await send('DELETE', reply.headers.get('location')!, { token })).status, 204);
  });

  it('answers 400 for malformed, truncated and empty JSON', async () => {
    for (const route of jsonRoutes()) {
      const full = JSON.stringify(route.body);
      for (const raw of [
        '',
        ' ',
        '{',
        full.slice(0, -1),
        full.slice(0, Math.floor(full.length / 2)),
        '{"name":"x",}',
        "{'name':'x'}",
        'nul',
        '\u0000',
        '\u0000{}',
      ]) {
        assertError(await send(route.method, route.path, { token, raw }), 400);
      }
    }
  });

  it('answers 400 for a JSON value of the wrong shape', async () => {
    const objectRoutes = jsonRoutes().filter((r) => !Array.isArray(r.body));
    for (const route of objectRoutes) {
      for (const body of [[route.body], [], 'x', 5, true]) {
        assertError(await send(route.method, route.path, { token, body }), 400);
      }
    }
    for (const path of ['/things/bulk', '/channels/bulk']) {
      for (const body of [{ name: 'x' }, 'x', [[{ name: 'x' }]], [null], [5]]) {
        assertError(await send('POST', path, { token, body }), 400);
      }
    }
    for (const [method, path] of [
      ['POST', '/things'],
      ['PUT', `/things/${thing.id}`],
      ['POST', '/channels'],
      ['PUT', `/channels/${channel.id}`],
      ['POST', '/things/search'],
    ] as const) {
      for (const body of [
        { metadata: 'x' },
        { metadata: [1, 2] },
        { metadata: 5 },
        { name: 5 },
        { name: ['x'] },
        { name: { a: 1 } },
      ]) {
        assertError(await send(method, path, { token, body }), 400);
      }
    }
    for (const body of [[{ metadata: 'x' }], [{ name: 1 }], [{ key: 1 }]])
      assertError(await send('POST', '/things/bulk', { token, body }), 400);
    assertError(await send('POST', '/things', { token, body: { key: 5 } }), 400);
    assertError(await send('PATCH', `/things/${thing.id}/key`, { token, body: { key: 5 } }), 400);
  });

  it('refuses text no database can store, and nesting too deep, with 400', async () => {
    const nul = '"a\\u0000b"';
    for (const raw of [
      `{"name":${nul}}`,
      `{"key":${nul}}`,
      `{"metadata":{"k":${nul}}}`,
      `{"metadata":{${nul}:1}}`,
      `{"metadata":{"k":[${nul}]}}`,
    ]) {
      assertError(await send('POST', '/things', { token, raw }), 400);
    }
    assertError(await send('POST', '/identify', { raw: `{"token":${nul}}` }), 400);
    assertError(await send('POST', '/things/search', { token, raw: `{"name":${nul}}` }), 400);
    assertError(await send('PATCH', `/things/${thing.id}/key`, { token, raw: `{"key":${nul}}` }), 400);
    assertError(await send('GET', '/things?name=a%00b', { token }), 400);
    assertError(
      await send('GET', `/things?metadata=${encodeURIComponent('{"k":"\\u0000"}')}`, { token }),
      400,
    );
    const deep = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
    assertError(await send('POST', '/things', { token, raw: `{"metadata":${deep(2000)}}` }), 400);
    assertError(await send('POST', '/things/search', { token, raw: `{"metadata":${deep(2000)}}` }), 400);
    const deepOk = await send('POST', '/things', { token, raw: `{"name":"deep","metadata":${deep(50)}}` });
    assert.equal(deepOk.status, 201);
    assert.equal((await page(request, token, `/things?metadata=${encodeURIComponent(deep(50))}`)).total, 1);
    // Unpaired surrogates are replaced, as Go's decoder does, not refused.
    const surrogate = await send('POST', '/things', {
      token,
      raw: '{"name":"lone \\ud800","metadata":{"\\udc00":"x\\ud800"}}',
    });
    assert.equal(surrogate.status, 201);
    const stored = await send('GET', surrogate.headers.get('location')!, { token });
    assert.equal(stored.json.name, 'lone \uFFFD');
    assert.deepEqual(stored.json.metadata, { '\uFFFD': 'x\uFFFD' });
    assert.equal(
      (await page(request, token, `/things?metadata=${encodeURIComponent('{"\\udc00":"x\\ud800"}')}`)).total,
      1,
    );
    // A huge offset is refused, not passed on to the database.
    assertError(await send('POST', '/things/search', { token, raw: '{"offset":1e20}' }), 400);
    assertError(await send('GET', '/things?offset=99999999999999999999', { token }), 400);
    for (const created of [deepOk, surrogate])
      assert.equal((await send('DELETE', created.headers.get('location')!, { token })).status, 204);
  });

  it('answers 413 for a 10 MB body', async () => {
    const big = Buffer.alloc(10 * 1024 * 1024, 'a');
    const json = Buffer.concat([Buffer.from('{"name":"'), big, Buffer.from('"}')]);
    assertError(await send('POST', '/things', { token, raw: json }), 413);
    assertError(await send('POST', '/things/bulk', { token, raw: json }), 413);
    assertError(await send('POST', '/things/search', { token, raw: json }), 413);
    assertError(await send('POST', '/things', { token, raw: big, contentType: 'text/plain' }), 413);
  });

  it('serves HEAD from the GET route', async () => {
    const head = await send('HEAD', '/things', { token });
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
    assert.equal((await send('HEAD', '/things')).status, 401);
  });

  it('answers 404 for unknown paths and 405 for known paths with another method', async () => {
    for (const path of [
      '/nope',
      '/things/x/y/z',
      '/thing',
      '/channels/abc/things/def/extra',
      '/identify/x',
    ]) {
      assertError(await send('GET', path, { token }), 404);
      assertError(await send('POST', path, { token, body: {} }), 404);
    }
    for (const [method, path] of [
      ['PATCH', '/things'],
      ['DELETE', '/things'],
      ['PUT', '/things'],
      ['DELETE', '/channels'],
      ['GET', '/connect'],
      ['DELETE', '/connect'],
      ['GET', '/things/bulk'],
      ['GET', '/identify'],
      ['PATCH', `/channels/${channel.id}`],
      ['POST', `/channels/${channel.id}/things/${thing.id}`],
      ['GET', `/things/${thing.id}/key`],
    ] as const) {
      assertError(await send(method, path, { token }), 405);
    }
  });

  it('answers OPTIONS with 200 and CORS headers, and sends CORS headers on every reply', async () => {
    for (const path of [
      '/things',
      `/things/${thing.id}`,
      '/channels',
      '/connect',
      '/identify',
      '/users',
      '/nope',
    ]) {
      const reply = await send('OPTIONS', path, {
        headers: { origin: 'http://ui.example', 'access-control-request-method': 'POST' },
      });
      assert.equal(reply.status, 200, path);
      assert.equal(reply.text, '');
      assert.equal(reply.headers.get('access-control-allow-origin'), '*');
      assert.equal(reply.headers.get('access-control-allow-methods'), '*');
      assert.equal(reply.headers.get('access-control-allow-headers'), '*');
      assert.equal(reply.headers.get('access-control-expose-headers'), 'Location');
    }
    const created = await send('POST', '/channels', { token, body: { name: 'cors' } });
    assert.equal(created.headers.get('access-control-allow-origin'), '*');
    assert.equal(created.headers.get('access-control-expose-headers'), 'Location');
    const error = await send('GET', '/things/nope', { token });
    assert.equal(error.headers.get('access-control-allow-origin'), '*');
    await send('DELETE', created.headers.get('location')!, { token });
  });

  it('accepts the raw token and `Bearer <token>`; refuses bad credentials with 401', async () => {
    for (const header of [token, `Bearer ${token}`, `bearer ${token}`, `  ${token}  `]) {
      const reply = await send('GET', '/things', { token: header });
      assert.equal(reply.status, 200, header.slice(0, 10));
      assert.equal(reply.json.total, 1);
    }
    const created = await send('POST', '/channels', { token: `Bearer ${token}`, body: { name: 'bearer' } });
    assert.equal(created.status, 201);
    assert.equal(
      (await send('DELETE', created.headers.get('location')!, { token: `Bearer ${token}` })).status,
      204,
    );
    for (const header of ['', 'Bearer', 'Bearer ', `Basic ${token}`, `${token}x`, 'null']) {
      assertError(
        await send('GET', '/things', { token: header }),
        401,
        'missing or invalid credentials provided',
      );
    }
    assertError(await send('GET', '/things'), 401);
  });

  it('answers 400 with a JSON error for a path that is not valid percent-encoding', async () => {
    assertError(await send('GET', '/things/%zz', { token }), 400);
    assertError(await send('DELETE', '/channels/%E0%A4%A', { token }), 400);
  });

  it('sent nothing above 499, and none of it wrote anything', async () => {
    assert.ok(replies.length > 300, `${replies.length} requests checked`);
    for (const { label, reply } of replies)
      assert.ok(reply.status < 500, `${label}: ${reply.status} ${reply.text}`);
    const things = await page(request, token, '/things');
    assert.equal(things.total, 1);
    assert.deepEqual(things.things, [{ id: thing.id, name: 'edge', key: thing.key, metadata: { k: 'v' } }]);
    const channels = await page(request, token, '/channels');
    assert.equal(channels.total, 1);
    assert.deepEqual(channels.channels, [{ id: channel.id, name: 'edge' }]);
    assert.equal((await page(request, token, `/channels/${channel.id}/things`)).total, 0);
  });
});
