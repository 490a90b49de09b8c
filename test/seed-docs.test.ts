import assert from 'node:assert/strict';
import http from 'node:http';
import { before, describe, it } from 'node:test';
import { ids, sorted, UUID_V4 } from './helpers/entities.js';
import { dialect, type Reply, withServer } from './helpers/server.js';

/**
 * The things, channels and access-control requests of the seed document
 * (seed/provisioning-docs.txt, "Platform management"), replayed in its order with only
 * the base URL changed. Each step checks the status and the response shape the document
 * shows. Where the document's own examples assume data it never created (a thing with
 * metadata, things d0/d1), that data is made first with the documented endpoints.
 */

/** A GET with the path sent byte for byte, as curl sends it (fetch would percent-encode). */
function rawGet(base: string, path: string, headers: Record<string, string>): Promise<Reply> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, method: 'GET', path, headers: { accept: '*/*', ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: any;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {}
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h.set(k, v);
          resolve({ status: res.statusCode ?? 0, headers: h, text, json });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe(`seed document: things, channels, access control (${dialect})`, () => {
  const fixture = withServer();
  const { request } = fixture;
  let token: string;
  /** What the document calls <user_auth_token>, sent as curl -H "Authorization: <user_auth_token>". */
  const auth = () => ({ token });
  const json = { contentType: 'application/json' };

  let weio: string;
  let bulkThings: { id: string; name: string; key: string }[];
  let mychan: string;
  let bulkChannels: { id: string; name: string }[];

  function isThing(t: any, name?: string) {
    assert.match(t.id, UUID_V4);
    assert.equal(typeof t.key, 'string');
    assert.ok(t.key.length > 0);
    if (name !== undefined) assert.equal(t.name, name);
  }

  it('Account Creation: POST /users', async () => {
    const reply = await request('POST', '/users', {
      ...json,
      body: { email: 'john.doe@email.com', password: '12345678' },
    });
    assert.equal(reply.status, 201);
    assert.match(reply.headers.get('location') ?? '', /^\/users\/[0-9a-f-]{36}$/);
  });

  it('Obtaining an Authorization Key: POST /tokens', async () => {
    const reply = await request('POST', '/tokens', {
      ...json,
      body: { email: 'john.doe@email.com', password: '12345678' },
    });
    assert.equal(reply.status, 201);
    assert.deepEqual(Object.keys(reply.json), ['token']);
    assert.equal(reply.json.token.split('.').length, 3, 'a JWT');
    token = reply.json.token;
  });

  it('Provisioning Things: POST /things {"name":"weio"}', async () => {
    const reply = await request('POST', '/things', { ...auth(), ...json, body: { name: 'weio' } });
    assert.equal(reply.status, 201);
    assert.match(reply.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(reply.headers.get('content-length'), '0');
    assert.equal(reply.text, '');
    const location = reply.headers.get('location') ?? '';
    assert.match(location, /^\/things\/[0-9a-f-]{36}$/);
    weio = location.slice('/things/'.length);
  });

  it('Bulk Provisioning Things: POST /things/bulk', async () => {
    const reply = await request('POST', '/things/bulk', {
      ...auth(),
      ...json,
      body: [{ name: 'weio' }, { name: 'bob' }],
    });
    assert.equal(reply.status, 201);
    assert.match(reply.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(reply.headers.get('access-control-expose-headers'), 'Location');
    assert.deepEqual(Object.keys(reply.json), ['things']);
    assert.equal(reply.json.things.length, 2);
    isThing(reply.json.things[0], 'weio');
    isThing(reply.json.things[1], 'bob');
    for (const t of reply.json.things) assert.deepEqual(Object.keys(t), ['id', 'name', 'key']);
    bulkThings = reply.json.things;
  });

  it('Retrieving Provisioned Things: GET /things', async () => {
    const reply = await request('GET', '/things', auth());
    assert.equal(reply.status, 200);
    assert.match(reply.headers.get('content-type') ?? '', /^application\/json/);
    const p = reply.json;
    for (const key of ['total', 'offset', 'limit', 'things']) assert.ok(key in p, key);
    assert.equal(p.total, 3);
    assert.equal(p.offset, 0);
    assert.equal(p.limit, 10);
    assert.deepEqual(sorted(ids(p.things)), sorted([weio, ...ids(bulkThings)]));
    for (const t of p.things) {
      isThing(t);
      assert.deepEqual(Object.keys(t), ['id', 'name', 'key']);
    }
  });

  it('GET /things?offset=0&limit=5', async () => {
    const reply = await request('GET', '/things?offset=0&limit=5', auth());
    assert.equal(reply.status, 200);
    assert.equal(reply.json.offset, 0);
    assert.equal(reply.json.limit, 5);
    assert.equal(reply.json.total, 3);
  });

  it('GET /things?offset=0&limit=5&metadata={"serial":"123456"} in the spellings curl may send', async () => {
    const serial = await request('POST', '/things', {
      ...auth(),
      ...json,
      body: { name: 'metered', metadata: { serial: '123456', model: 'x' } },
    });
    assert.equal(serial.status, 201);
    const id = serial.headers.get('location')!.slice('/things/'.length);
    const spellings = [
      // After the shell and curl's globbing: the object, quotes and braces raw.
      'metadata={"serial":"123456"}',
      // Percent-encoded, as a browser or an HTTP library sends it.
      `metadata=${encodeURIComponent('{"serial":"123456"}')}`,
      // The document's text with the URL single-quoted: the object as a JSON string.
      'metadata="{\\"serial\\":\\"123456\\"}"',
      // The document's text sent as written (curl -g keeps the backslashes).
      'metadata="\\{\\"serial\\":\\"123456\\"\\}"',
      `metadata=${encodeURIComponent('"\\{\\"serial\\":\\"123456\\"\\}"')}`,
    ];
    for (const spelling of spellings) {
      const reply = await rawGet(fixture.server.url, `/things?offset=0&limit=5&${spelling}`, {
        authorization: token,
      });
      assert.equal(reply.status, 200, `${spelling}: ${reply.text}`);
      assert.equal(reply.json.total, 1, spelling);
      assert.equal(reply.json.limit, 5);
      assert.deepEqual(reply.json.things, [
        { id, name: 'metered', key: reply.json.things[0].key, metadata: { serial: '123456', model: 'x' } },
      ]);
    }
    // "Providing invalid values will be considered malformed request."
    for (const bad of ['limit=101', 'offset=-1', 'limit=five', 'metadata={serial}']) {
      const reply = await rawGet(fixture.server.url, `/things?${bad}`, { authorization: token });
      assert.equal(reply.status, 400, bad);
    }
    assert.equal((await request('DELETE', `/things/${id}`, auth())).status, 204);
  });

  it('Searching Provisioned Things: POST /things/search', async () => {
    // The document's answer lists bob with {"foo":"bar"}: give the bulk-made bob that metadata.
    const bob = bulkThings[1]!;
    assert.equal(
      (
        await request('PUT', `/things/${bob.id}`, {
          ...auth(),
          ...json,
          body: { name: 'bob', metadata: { foo: 'bar' } },
        })
      ).status,
      200,
    );
    const reply = await request('POST', '/things/search', {
      ...auth(),
      ...json,
      raw: '{"metadata":{"foo":"bar"}, "name":"bob", "limit": 10, "offset":0, "order":"name", "dir":"desc"}',
    });
    assert.equal(reply.status, 200);
    assert.match(reply.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(reply.json, {
      total: 1,
      offset: 0,
      limit: 10,
      order: 'name',
      direction: 'desc',
      things: [{ id: bob.id, name: 'bob', key: bob.key, metadata: { foo: 'bar' } }],
    });
    const tooMany = await request('POST', '/things/search', { ...auth(), ...json, body: { limit: 101 } });
    assert.equal(tooMany.status, 400);
  });

  it('Removing Things: DELETE /things/<thing_id>', async () => {
    const reply = await request('DELETE', `/things/${weio}`, auth());
    assert.equal(reply.status, 204);
    assert.equal(reply.text, '');
    assert.equal((await request('GET', `/things/${weio}`, auth())).status, 404);
    assert.equal((await request('GET', '/things', auth())).json.total, 2);
  });

  it('Provisioning Channels: POST /channels {"name":"mychan"}', async () => {
    const reply = await request('POST', '/channels', { ...auth(), ...json, body: { name: 'mychan' } });
    assert.equal(reply.status, 201);
    assert.match(reply.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(reply.headers.get('content-length'), '0');
    const location = reply.headers.get('location') ?? '';
    assert.match(location, /^\/channels\/[0-9a-f-]{36}$/);
    mychan = location.slice('/channels/'.length);
  });

  it('Retrieving Provisioned Channels: GET /channels (one channel)', async () => {
    const reply = await request('GET', '/channels', auth());
    assert.equal(reply.status, 200);
    const p = reply.json;
    for (const key of ['total', 'offset', 'limit', 'channels']) assert.ok(key in p, key);
    assert.equal(p.total, 1);
    assert.equal(p.offset, 0);
    assert.equal(p.limit, 10);
    assert.deepEqual(p.channels, [{ id: mychan, name: 'mychan' }]);
  });

  it('Bulk Provisioning Channels: POST /channels/bulk', async () => {
    const reply = await request('POST', '/channels/bulk', {
      ...auth(),
      ...json,
      body: [{ name: 'joe' }, { name: 'betty' }],
    });
    assert.equal(reply.status, 201);
    assert.equal(reply.headers.get('access-control-expose-headers'), 'Location');
    assert.deepEqual(Object.keys(reply.json), ['channels']);
    const [joe, betty] = reply.json.channels;
    assert.match(joe.id, UUID_V4);
    assert.deepEqual(joe, { id: joe.id, name: 'joe' });
    assert.deepEqual(betty, { id: betty.id, name: 'betty' });
    bulkChannels = reply.json.channels;
  });

  it('GET /channels?offset=0&limit=5', async () => {
    const reply = await request('GET', '/channels?offset=0&limit=5', auth());
    assert.equal(reply.status, 200);
    assert.equal(reply.json.total, 3);
    assert.equal(reply.json.limit, 5);
    assert.deepEqual(sorted(ids(reply.json.channels)), sorted([mychan, ...ids(bulkChannels)]));
    assert.equal((await request('GET', '/channels?limit=101', auth())).status, 400);
  });

  it('Removing Channels: DELETE /channels/<channel_id>', async () => {
    const reply = await request('DELETE', `/channels/${mychan}`, auth());
    assert.equal(reply.status, 204);
    assert.equal((await request('GET', `/channels/${mychan}`, auth())).status, 404);
  });

  describe('Access Control', () => {
    let d: { id: string; key: string; name: string }[];
    let c: { id: string; name: string }[];

    before(async () => {
      // The lists below show things d0, d1 and channels c0, c1; make them with the document's endpoints.
      const things = await request('POST', '/things/bulk', {
        ...auth(),
        ...json,
        body: [{ name: 'd0' }, { name: 'd1' }],
      });
      const channels = await request('POST', '/channels/bulk', {
        ...auth(),
        ...json,
        body: [{ name: 'c0' }, { name: 'c1' }],
      });
      d = things.json.things;
      c = channels.json.channels;
    });

    it('PUT /channels/<channel_id>/things/<thing_id> (no body, no Content-Type)', async () => {
      const reply = await request(
        'PUT',
        `/channels/${bulkChannels[0]!.id}/things/${bulkThings[0]!.id}`,
        auth(),
      );
      assert.equal(reply.status, 200);
      assert.equal(reply.text, '');
    });

    it('POST /connect {"channel_ids":[...],"thing_ids":[...]}', async () => {
      // Sent as the document writes it: two channel ids, the thing placeholder twice (here the same id).
      const body = `{"channel_ids":["${bulkChannels[0]!.id}", "${bulkChannels[1]!.id}"],"thing_ids":["${bulkThings[1]!.id}", "${bulkThings[1]!.id}"]}`;
      const reply = await request('POST', '/connect', { ...auth(), ...json, raw: body });
      assert.equal(reply.status, 200);
      assert.equal(reply.text, '');
    });

    it('GET /channels/<channel_id>/things', async () => {
      const reply = await request('GET', `/channels/${bulkChannels[0]!.id}/things`, auth());
      assert.equal(reply.status, 200);
      for (const key of ['total', 'offset', 'limit', 'things']) assert.ok(key in reply.json, key);
      assert.equal(reply.json.total, 2);
      assert.deepEqual(sorted(ids(reply.json.things)), sorted(ids(bulkThings)));
      for (const t of reply.json.things) isThing(t);
    });

    it('GET /channels/<channel_id>/things?connected=false', async () => {
      const reply = await request('GET', `/channels/${bulkChannels[0]!.id}/things?connected=false`, auth());
      assert.equal(reply.status, 200);
      assert.equal(reply.json.total, 2);
      assert.equal(reply.json.offset, 0);
      assert.equal(reply.json.limit, 10);
      assert.deepEqual(sorted(reply.json.things.map((t: any) => t.name)), ['d0', 'd1']);
      assert.deepEqual(sorted(ids(reply.json.things)), sorted(ids(d)));
      for (const t of reply.json.things) isThing(t);
    });

    it('GET /things/<thing_id>/channels', async () => {
      const reply = await request('GET', `/things/${bulkThings[1]!.id}/channels`, auth());
      assert.equal(reply.status, 200);
      for (const key of ['total', 'offset', 'limit', 'channels']) assert.ok(key in reply.json, key);
      assert.equal(reply.json.total, 2);
      assert.deepEqual(sorted(ids(reply.json.channels)), sorted(ids(bulkChannels)));
    });

    it('GET /things/<thing_id>/channels?connected=false', async () => {
      const reply = await request('GET', `/things/${bulkThings[1]!.id}/channels?connected=false`, auth());
      assert.equal(reply.status, 200);
      assert.equal(reply.json.total, 2);
      assert.deepEqual(sorted(reply.json.channels.map((x: any) => x.name)), ['c0', 'c1']);
      assert.deepEqual(sorted(ids(reply.json.channels)), sorted(ids(c)));
    });

    it('DELETE /channels/<channel_id>/things/<thing_id>', async () => {
      const reply = await request(
        'DELETE',
        `/channels/${bulkChannels[0]!.id}/things/${bulkThings[0]!.id}`,
        auth(),
      );
      assert.equal(reply.status, 204);
      const left = await request('GET', `/channels/${bulkChannels[0]!.id}/things`, auth());
      assert.deepEqual(ids(left.json.things), [bulkThings[1]!.id]);
      assert.equal(
        (await request('GET', `/channels/${bulkChannels[0]!.id}/things?connected=false`, auth())).json.total,
        3,
      );
    });
  });
});
