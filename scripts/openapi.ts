// Writes the OpenAPI description the server serves at /docs/json to docs/openapi.json
// (`npm run generate:openapi`), where reviewers see API changes as diffs and clients
// generate from it; test/openapi.test.ts fails when the file drifts from the code and
// lints it with @redocly/cli.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { description } from './contract.js';

export const OPENAPI_FILE = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'docs',
  'openapi.json',
);

export async function openapiText(): Promise<string> {
  return `${JSON.stringify(await description(), null, 2)}\n`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  fs.writeFileSync(OPENAPI_FILE, await openapiText());
  console.log(`wrote ${path.relative(process.cwd(), OPENAPI_FILE)}`);
}
