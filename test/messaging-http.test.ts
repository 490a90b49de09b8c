import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { before, describe, it } from 'node:test';
import { assertError, connect, createChannel, createThing, createThings } from './helpers/entities.js';
import { connectThing, mqttUrl, settle, type TestClient } from './helpers/mqtt.js';
import { dialect, type Reply, recordingFetch, userToken, withServer } from './helpers/server.js';

/** A small payload limit keeps the 413 cases cheap. */
const MAX_PAYLOAD = 64 * 1024;

/** SenML `[{"bn":"dev:","n":"temp","u":"Cel","v":23.5}]` as CBOR (RFC 8428 §6), bytes written out. */
const SENML_CBOR = Buffer.from(
  '81a42164' + '6465763a' + '0064' + '74656d70' + '0163' + '43656c' + '02fb4037800000000000',
  'hex',
);

/**
 * The HTTP message adapter (API.md §7): POST a message with the thing key; 202 when
 * the thing is connected to the channel, 403 with a JSON error when not (never a 5xx),
 * 400 for a bad channel id or subtopic, 413 over the payload limit. Accepted messages
 * reach MQTT subscribers of the channel on `channels/<id>/messages[/<subtopic>]`.
 */
describe(`HTTP message adapter (${dialect})`, { timeout: 60_000 }, () => {
  const fixture = withServer(
    { TETHYS_MQTT_MAX_PAYLOAD: String(MAX_PAYLOAD) },
    { beforeClose: () => sub?.end() },
  );
  const { request } = fixture;
  let token: string;
  let thing: { id: string; key: string };
  let listener: { id: string; key: string };
  let channel: string;
  let sub: TestClient;
  const replies: { label: string; reply: Reply }[] = [];

  before(async () => {
    token = (await userToken(request)).token;
    [thing, listener] = (await createThings(request, token, [{ name: 'sender' }, { name: 'listener' }])) as [
      typeof thing,
      typeof listener,
    ];
    channel = (await createChannel(request, token, { name: 'readings' })).id;
    await connect(request, token, [channel], [thing.id, listener.id]);
    sub = await connectThing(mqttUrl(fixture.server.app), listener);
    assert.equal(await sub.subscribe(`channels/${channel}/messages/#`), 0);
    assert.equal(await sub.subscribe(`channels/${channel}/messages`), 0);
  });

  /** POSTs a message and remembers the reply (the last test checks none was a 5xx). */
  async function post(
    path: string,
    key: string | undefined,
    body?: string | Buffer,
    contentType: string | null = 'application/senml+json',
  ): Promise<Reply> {
    const headers: Record<string, string> = {};
    if (key !== undefined) headers.authorization = key;
    if (contentType !== null && body !== undefined) headers['content-type'] = contentType;
    const payload = body === undefined || typeof body === 'string' ? body : new Uint8Array(body);
    const res = await recordingFetch(fixture.server.url + path, { method: 'POST', headers, body: payload });
    const text = await res.text();
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {}
    const reply = { status: res.status, headers: res.headers, text, json };
    replies.push({ label: `POST ${path} (${key === undefined ? 'no key' : 'key'})`, reply });
    return reply;
  }

  /** A 202 as the adapter sends it: empty body, no Content-Type. */
  function assertAccepted(reply: Reply): void {
    assert.equal(reply.status, 202, reply.text);
    assert.equal(reply.text, '');
    assert.equal(reply.headers.get('content-type'), null);
  }

  const unique = () => crypto.randomBytes(6).toString('hex');

  describe('202 when the thing is connected', () => {
    it('accepts with and without the /http prefix, raw key or `Thing <key>`', async () => {
      for (const [prefix, key] of [
        ['/http', thing.key],
        ['', thing.key],
        ['/http', `Thing ${thing.key}`],
        ['', `thing ${thing.key}`],
      ] as const) {
        const payload = `m-${unique()}`;
        assertAccepted(await post(`${prefix}/channels/${channel}/messages`, key, payload));
        const got = await sub.waitFor((m) => m.payload.toString() === payload);
        assert.equal(got.topic, `channels/${channel}/messages`);
      }
    });

    it('carries any payload unchanged: SenML JSON, JSON, CBOR, bytes, empty; Content-Type not checked', async () => {
      const cases: [string, Buffer, string | null][] = [
        [
          'senml',
          Buffer.from(JSON.stringify([{ bn: 'dev:', n: 'temp', u: 'Cel', v: 23.5 }])),
          'application/senml+json',
        ],
        ['json', Buffer.from(JSON.stringify({ temperature: 23.5, note: 'üñí' })), 'application/json'],
        ['cbor', SENML_CBOR, 'application/senml+cbor'],
        ['bytes', crypto.randomBytes(4096), 'application/octet-stream'],
        ['text', Buffer.from('not json at all {'), 'application/json'],
        ['no-type', crypto.randomBytes(100), null],
        ['empty', Buffer.alloc(0), 'application/senml+json'],
      ];
      for (const [kind, payload, contentType] of cases) {
        assertAccepted(
          await post(`/http/channels/${channel}/messages/kind/${kind}`, thing.key, payload, contentType),
        );
        const got = await sub.waitFor((m) => m.topic === `channels/${channel}/messages/kind/${kind}`);
        assert.ok(got.payload.equals(payload), `${kind} payload delivered byte for byte`);
      }
    });

    it('accepts a body of exactly TETHYS_MQTT_MAX_PAYLOAD bytes', async () => {
      const payload = crypto.randomBytes(MAX_PAYLOAD);
      assertAccepted(
        await post(`/http/channels/${channel}/messages/max`, thing.key, payload, 'application/octet-stream'),
      );
      const got = await sub.waitFor((m) => m.topic === `channels/${channel}/messages/max`);
      assert.ok(got.payload.equals(payload));
    });

    it('accepts an upper-case channel id and delivers on the canonical topic', async () => {
      const payload = `upper-${unique()}`;
      assertAccepted(await post(`/http/channels/${channel.toUpperCase()}/messages`, thing.key, payload));
      const got = await sub.waitFor((m) => m.payload.toString() === payload);
      assert.equal(got.topic, `channels/${channel}/messages`);
    });
  });

  describe('subtopics', () => {
    const cases: [string, string][] = [
      ['a/b/c', 'a/b/c'],
      ['a//b///c/', 'a/b/c'],
      ['a.b.c', 'a/b/c'],
      ['room%2F1/temp', 'room/1/temp'],
      ['caf%C3%A9', 'café'],
      ['x/*/y', 'x/*/y'],
    ];
    for (const [path, delivered] of cases) {
      it(`${path} is delivered on channels/{id}/messages/${delivered}`, async () => {
        const payload = `sub-${unique()}`;
        assertAccepted(await post(`/http/channels/${channel}/messages/${path}`, thing.key, payload));
        const got = await sub.waitFor((m) => m.payload.toString() === payload);
        assert.equal(got.topic, `channels/${channel}/messages/${delivered}`);
      });
    }

    it('a subtopic of only slashes is no subtopic', async () => {
      const payload = `slashes-${unique()}`;
      assertAccepted(await post(`/http/channels/${channel}/messages///`, thing.key, payload));
      const got = await sub.waitFor((m) => m.payload.toString() === payload);
      assert.equal(got.topic, `channels/${channel}/messages`);
    });

    for (const bad of ['a*', 'x/>y', 'ab>/c', '**', 'a%20b', '%ZZ']) {
      it(`400 for the subtopic ${bad}`, async () => {
        assertError(await post(`/http/channels/${channel}/messages/${bad}`, thing.key, 'x'), 400);
      });
    }
  });

  describe('400 for an invalid channel id', () => {
    for (const bad of ['bad!id', 'a.b', '%20', 'caf%C3%A9', 'a%2Fb']) {
      it(`/http/channels/${bad}/messages`, async () => {
        assertError(await post(`/http/channels/${bad}/messages`, thing.key, 'x'), 400);
        assertError(await post(`/channels/${bad}/messages/sub`, thing.key, 'x'), 400);
      });
    }
  });

  describe('403 with a JSON error, never a 5xx', () => {
    it('unknown, empty or missing key', async () => {
      for (const key of [
        crypto.randomUUID(),
        'not-a-key',
        '',
        undefined,
        'Thing ',
        `Bearer-${thing.key}`,
        'k'.repeat(4000),
        `${thing.key} ${thing.key}`,
      ]) {
        assertError(await post(`/http/channels/${channel}/messages`, key, 'x'), 403);
      }
    });

    it('a thing that is not connected to the channel, or a channel that does not exist', async () => {
      const outsider = await createThing(request, token, { name: 'outsider' });
      const foreign = await createChannel(request, token, { name: 'foreign' });
      assertError(await post(`/http/channels/${channel}/messages`, outsider.key, 'x'), 403);
      assertError(await post(`/http/channels/${foreign.id}/messages`, thing.key, 'x'), 403);
      assertError(await post(`/http/channels/${crypto.randomUUID()}/messages`, thing.key, 'x'), 403);
      // A well-formed id that is not a UUID names no channel.
      assertError(await post(`/http/channels/not_a_uuid/messages`, thing.key, 'x'), 403);
      assertError(await post(`/channels/${channel}/messages/sub`, outsider.key, 'x'), 403);
    });

    it('after a disconnect, the next message is refused', async () => {
      const t = await createThing(request, token, { name: 'brief' });
      await connect(request, token, [channel], [t.id]);
      assertAccepted(await post(`/http/channels/${channel}/messages`, t.key, 'connected'));
      const reply = await request('DELETE', `/channels/${channel}/things/${t.id}`, { token });
      assert.equal(reply.status, 204);
      assertError(await post(`/http/channels/${channel}/messages`, t.key, 'gone'), 403);
    });

    it('refused messages reach nobody', async () => {
      await settle(sub);
      assert.equal(sub.received('x').length, 0);
      assert.equal(sub.received('gone').length, 0);
    });
  });

  it('413 with a JSON error for a body over TETHYS_MQTT_MAX_PAYLOAD, delivered to nobody', async () => {
    const payload = crypto.randomBytes(MAX_PAYLOAD + 1);
    assertError(
      await post(`/http/channels/${channel}/messages/big`, thing.key, payload, 'application/octet-stream'),
      413,
    );
    // Much larger, and from an unknown key: still 413 or 403, never a 5xx.
    const huge = await post(
      `/http/channels/${channel}/messages/huge`,
      'nobody',
      Buffer.alloc(8 * MAX_PAYLOAD),
      'application/octet-stream',
    );
    assert.ok(huge.status === 413 || huge.status === 403, `huge: ${huge.status}`);
    await settle(sub);
    assert.equal(sub.messages.filter((m) => m.topic.endsWith('/big') || m.topic.endsWith('/huge')).length, 0);
  });

  describe('the fast lane and the routes answer alike', () => {
    /**
     * One request over a raw socket: the status line, the headers in order (Date left
     * out) and the body. With `chunked`, the body goes without Content-Length, which
     * the lane leaves to the fastify routes.
     */
    async function rawPost(path: string, key: string, body: string, chunked: boolean): Promise<string> {
      const { port } = new URL(fixture.server.url);
      const framing = chunked
        ? `transfer-encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`
        : `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
      const socket = (await import('node:net')).connect(Number(port), '127.0.0.1');
      socket.write(
        `POST ${path} HTTP/1.1\r\nhost: x\r\nauthorization: ${key}\r\nconnection: close\r\n${framing}`,
      );
      const chunks: Buffer[] = [];
      for await (const chunk of socket) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks)
        .toString('latin1')
        .split('\r\n')
        .filter((line) => !line.startsWith('Date: '))
        .join('\n');
    }

    const cases = [
      ['202', () => `/http/channels/${channel}/messages/lane`, () => thing.key],
      ['202 with a query', () => `/channels/${channel}/messages?x=1`, () => thing.key],
      ['403 for an unknown key', () => `/http/channels/${channel}/messages`, () => 'nobody'],
      ['400 for a bad subtopic', () => `/http/channels/${channel}/messages/a*b`, () => thing.key],
      ['400 for a bad channel id', () => '/http/channels/bad!id/messages', () => thing.key],
    ] as const;
    for (const [label, path, key] of cases) {
      it(label, async () => {
        const lane = await rawPost(path(), key(), 'same', false);
        const routed = await rawPost(path(), key(), 'same', true);
        assert.match(lane, new RegExp(`^HTTP/1.1 ${label.slice(0, 3)} `));
        assert.equal(lane, routed);
      });
    }

    it('counts lane requests under the route labels', async () => {
      const count = async () => {
        const text = await (await fetch(`${fixture.server.url}/metrics`)).text();
        const line = text
          .split('\n')
          .find((l) =>
            l.startsWith(
              'tethys_http_request_duration_seconds_count{method="POST",route="/http/channels/:chanId/messages/*",status="202"}',
            ),
          );
        return Number(line?.split(' ').pop() ?? 0);
      };
      const before = await count();
      assertAccepted(await post(`/http/channels/${channel}/messages/counted`, thing.key, 'x'));
      assert.equal(await count(), before + 1);
    });
  });

  it('other methods on the message path are not 5xx', async () => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const res = await recordingFetch(`${fixture.server.url}/http/channels/${channel}/messages`, {
        method,
        headers: { authorization: thing.key },
      });
      await res.text();
      assert.ok(res.status >= 400 && res.status < 500, `${method}: ${res.status}`);
    }
  });

  it('no request got a 5xx', () => {
    const bad = replies.filter((r) => r.reply.status >= 500);
    assert.deepEqual(
      bad.map((r) => `${r.label}: ${r.reply.status}`),
      [],
    );
  });
});
