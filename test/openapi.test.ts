import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { generated, OPENAPI_FILE, SDK_TYPES_FILE } from '../scripts/openapi.js';

/** docs/openapi.json: what /docs/json serves, committed, and a valid description. */
describe('the OpenAPI description', () => {
  it('docs/openapi.json and the SDK types are what the code describes (`npm run generate:openapi` after a route change)', async () => {
    const { openapi, sdkTypes } = await generated();
    assert.equal(fs.readFileSync(OPENAPI_FILE, 'utf8'), openapi);
    assert.equal(fs.readFileSync(SDK_TYPES_FILE, 'utf8'), sdkTypes);
  });

  it('passes `redocly lint` with no errors', () => {
    const redocly = path.join(import.meta.dirname, '..', 'node_modules', '.bin', 'redocly');
    const r = spawnSync(redocly, ['lint', OPENAPI_FILE, '--format=summary'], {
      encoding: 'utf8',
      // No telemetry or update check: tests reach nothing outside the machine.
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(`${r.stdout}${r.stderr}`, /Your API description is valid/);
  });
});
