import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { client, dialect, type Request, startServer, type TestServer, userToken } from './helpers/server.js';

describe(`smoke (${dialect})`, () => {
  let server: TestServer;
  let request: Request;
  before(async () => {
    server = await startServer();
    request = client(server.url);
  });
  after(() => server.close());

  it('registers, logs in, creates and lists a thing', async () => {
    const { token } = await userToken(request);
    const created = await request('POST', '/things', { token, body: { name: 'weio' } });
    assert.equal(created.status, 201);
    assert.match(created.headers.get('location') ?? '', /^\/things\/[0-9a-f-]{36}$/);
    const list = await request('GET', '/things', { token });
    assert.equal(list.status, 200);
    assert.equal(list.json.total, 1);
    assert.equal(list.json.things[0].name, 'weio');
  });
});
