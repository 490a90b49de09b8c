import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dialect, userToken, withServer } from './helpers/server.js';

describe(`smoke (${dialect})`, () => {
  const { request } = withServer();

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

  it('GET /metrics: request durations per route template, method and status, in Prometheus text', async () => {
    const count = async () => {
      const text = (await request('GET', '/metrics')).text;
      const line = text
        .split('\n')
        .find((l) =>
          l.startsWith(
            'tethys_http_request_duration_seconds_count{method="GET",route="/version",status="200"}',
          ),
        );
      return { text, n: line ? Number(line.split(' ').pop()) : 0 };
    };
    const before = (await count()).n;
    for (let i = 0; i < 3; i++) assert.equal((await request('GET', '/version')).status, 200);
    const { text, n } = await count();
    assert.equal(n, before + 3);
    assert.match(text, /# TYPE tethys_http_request_duration_seconds histogram/);
    const buckets = text
      .split('\n')
      .filter((l) =>
        l.startsWith(
          'tethys_http_request_duration_seconds_bucket{method="GET",route="/version",status="200"',
        ),
      );
    assert.equal(buckets.length, 11, 'ten bounds and +Inf');
    const values = buckets.map((l) => Number(l.split(' ').pop()));
    assert.deepEqual(
      [...values].sort((a, b) => a - b),
      values,
      'cumulative',
    );
    assert.equal(values.at(-1), n);
    assert.ok(buckets.at(-1)!.includes('le="+Inf"'));
    assert.match(
      text,
      /tethys_http_request_duration_seconds_sum\{method="GET",route="\/version",status="200"\} [0-9.e-]+/,
    );
  });
});
