import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { check } from '../scripts/contract.js';

/** The contract check itself (scripts/contract.ts): it must fail on answers that differ from /docs/json. */
describe('contract check of answers against the OpenAPI description', () => {
  const id = '0190c5a3-27b4-4c1e-9a0e-3f5d7c2b1a00';
  const answer = (a: object) => JSON.stringify({ contentType: 'application/json', ...a });

  async function checked(lines: string[]) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tethys-contract-test-'));
    try {
      fs.writeFileSync(path.join(dir, 'answers-1.jsonl'), `${lines.join('\n')}\n`);
      return await check(dir);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  it('passes answers as documented', async () => {
    const { ok, report } = await checked([
      answer({ method: 'GET', path: `/things/${id}`, status: 200, body: JSON.stringify({ id, key: 'k' }) }),
      answer({ method: 'GET', path: `/things/${id}`, status: 404, body: '{"error":"entity not found"}' }),
      answer({ method: 'DELETE', path: `/things/${id}`, status: 204, body: '' }),
    ]);
    assert.ok(ok, report);
    assert.match(report, /3 checked/);
  });

  it('fails a field the description lacks, a missing field, a wrong type, an undeclared status and a body where none is declared', async () => {
    const { ok, report } = await checked([
      answer({
        method: 'GET',
        path: `/things/${id}`,
        status: 200,
        body: JSON.stringify({ id, key: 'k', extra: 1 }),
      }),
      answer({ method: 'GET', path: '/things', status: 200, body: JSON.stringify({ total: 0, things: [] }) }),
      answer({ method: 'POST', path: '/identify', status: 200, body: JSON.stringify({ id: 5 }) }),
      answer({ method: 'DELETE', path: `/things/${id}`, status: 200, body: '' }),
      answer({ method: 'PUT', path: `/things/${id}`, status: 200, body: '{"ok":true}' }),
    ]);
    assert.equal(ok, false);
    assert.match(report, /MISMATCH GET \/things\/\{id\} → 200 .*must NOT have additional properties/);
    assert.match(report, /MISMATCH GET \/things → 200 .*must have required property/);
    assert.match(report, /MISMATCH POST \/identify → 200 .*must be string/);
    assert.match(report, /MISMATCH DELETE \/things\/\{id\} → 200 .*status not declared/);
    assert.match(report, /MISMATCH PUT \/things\/\{id\} → 200 .*declared without a body/);
  });
});
