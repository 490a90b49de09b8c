// Writes the OpenAPI description the server serves at /docs/json to docs/openapi.json,
// and the SDK's types made from it by openapi-typescript to sdk/src/openapi.ts
// (`npm run generate:openapi`). Reviewers see API changes as diffs; test/openapi.test.ts
// fails when either drifts from the code, and lints the description with @redocly/cli.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';
import { description } from './contract.js';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
export const OPENAPI_FILE = path.join(root, 'docs', 'openapi.json');
export const SDK_TYPES_FILE = path.join(root, 'sdk', 'src', 'openapi.ts');

export async function generated(): Promise<{ openapi: string; sdkTypes: string }> {
  const doc = await description();
  const ast = await openapiTS(doc as unknown as Parameters<typeof openapiTS>[0]);
  return {
    openapi: `${JSON.stringify(doc, null, 2)}\n`,
    sdkTypes: `/**\n * Generated from docs/openapi.json by openapi-typescript (\`npm run generate:openapi\`).\n * Do not edit: test/openapi.test.ts fails when it drifts.\n */\n\n${astToString(ast)}`,
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { openapi, sdkTypes } = await generated();
  fs.writeFileSync(OPENAPI_FILE, openapi);
  fs.writeFileSync(SDK_TYPES_FILE, sdkTypes);
  console.log(
    `wrote ${path.relative(process.cwd(), OPENAPI_FILE)} and ${path.relative(process.cwd(), SDK_TYPES_FILE)}`,
  );
}
