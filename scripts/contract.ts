// Documented = actual: checks every answer the test suite's clients received (kept by
// test/helpers/server.ts when TETHYS_TEST_CONTRACT_DIR is set) against the OpenAPI
// description the server serves at /docs/json. `scripts/test.mjs` runs it after each
// pass: `node --import tsx scripts/contract.ts <folder>`. It fails on any answer whose
// status the operation does not declare, or whose body does not match the declared
// schema, and on any operation that declares no answers; it reports the operations the
// suite never called.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';

interface Answer {
  method: string;
  path: string;
  status: number;
  contentType: string | null;
  body: string | null;
}

interface MediaType {
  schema?: object;
}
interface ResponseObject {
  description?: string;
  content?: Record<string, MediaType>;
}
interface Operation {
  parameters?: { in: string; name: string; schema?: { 'x-wildcard'?: boolean } }[];
  responses?: Record<string, ResponseObject>;
}
interface Description {
  paths: Record<string, Record<string, Operation>>;
}

/** The description as the server builds it (the same code as /docs/json), from a throwaway instance. */
export async function description(): Promise<Description> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tethys-contract-'));
  const app = await buildApp(
    loadConfig({
      TETHYS_DATA_DIR: dir,
      TETHYS_LOG_LEVEL: 'silent',
      TETHYS_MQTT_PORT: '0',
      TETHYS_MQTT_TLS_PORT: '0',
      MF_AUTH_SECRET: 'contract-check-secret-contract-check',
    }),
  );
  try {
    await app.http.ready();
    return app.http.swagger() as unknown as Description;
  } finally {
    await app.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** fastify-swagger's placeholder for a route that declares no answers. */
export function declaresAnswers(op: Operation): boolean {
  const codes = Object.keys(op.responses ?? {});
  return !(
    codes.length === 1 &&
    codes[0] === '200' &&
    op.responses?.['200']?.description === 'Default Response'
  );
}

interface Route {
  method: string;
  template: string;
  pattern: RegExp;
  op: Operation;
}

function routes(doc: Description): Route[] {
  const out: Route[] = [];
  for (const [template, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      // A parameter marked x-wildcard spans slashes (fastify's `*`: a message's subtopic).
      const wildcards = new Set(
        (op.parameters ?? []).filter((p) => p.in === 'path' && p.schema?.['x-wildcard']).map((p) => p.name),
      );
      const source = template
        .split('/')
        .map((part) => {
          const param = /^\{(.+)\}$/.exec(part)?.[1];
          if (param) return wildcards.has(param) ? '.+' : '[^/]+';
          return part.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
        })
        .join('/');
      out.push({ method: method.toUpperCase(), template, pattern: new RegExp(`^${source}$`), op });
    }
  }
  // Literal segments win over parameters (/things/bulk before /things/{id}), as in the router.
  return out.sort(
    (a, b) => b.template.replace(/\{[^}]+\}/g, '').length - a.template.replace(/\{[^}]+\}/g, '').length,
  );
}

function responseFor(op: Operation, status: number): ResponseObject | undefined {
  const r = op.responses ?? {};
  return r[String(status)] ?? r[`${String(status)[0]}XX`] ?? r.default;
}

export async function check(folder: string): Promise<{ ok: boolean; report: string }> {
  const doc = await description();
  const table = routes(doc);
  const ajv = new Ajv2020({ strict: false, allErrors: false });
  addFormats.default(ajv);
  const compiled = new Map<object, ValidateFunction>();
  const validator = (schema: object) => {
    let v = compiled.get(schema);
    if (!v) {
      v = ajv.compile(schema);
      compiled.set(schema, v);
    }
    return v;
  };

  const answers: Answer[] = [];
  for (const file of fs.readdirSync(folder).filter((f) => f.endsWith('.jsonl'))) {
    for (const line of fs.readFileSync(path.join(folder, file), 'utf8').split('\n')) {
      if (line) answers.push(JSON.parse(line) as Answer);
    }
  }

  // What the server serialised from a schema, compared with JSON.stringify of the same value.
  const serialised: {
    method: string;
    route: string;
    status: number;
    same: boolean;
    expected?: string;
    actual?: string;
  }[] = [];
  for (const file of fs.readdirSync(folder).filter((f) => f.endsWith('.json-lines'))) {
    for (const line of fs.readFileSync(path.join(folder, file), 'utf8').split('\n')) {
      if (line) serialised.push(JSON.parse(line));
    }
  }

  const mismatches = new Map<string, { count: number; example: string }>();
  const called = new Set<Route>();
  let checked = 0;
  let undeclared = 0;
  let outside = 0;
  const mismatch = (key: string, example: string) => {
    const m = mismatches.get(key);
    if (m) m.count++;
    else mismatches.set(key, { count: 1, example });
  };
  for (const a of answers) {
    const route = table.find((r) => r.method === a.method && r.pattern.test(a.path));
    if (!route) {
      outside++;
      continue;
    }
    called.add(route);
    if (!declaresAnswers(route.op)) {
      undeclared++;
      continue;
    }
    checked++;
    const key = `${route.method} ${route.template} → ${a.status}`;
    const response = responseFor(route.op, a.status);
    if (!response) {
      mismatch(key, 'status not declared');
      continue;
    }
    const media = a.contentType?.split(';')[0]?.trim() ?? '';
    const content = response.content;
    if (!content || Object.keys(content).length === 0) {
      if (a.body) mismatch(key, `declared without a body, got ${a.body.slice(0, 120)}`);
      continue;
    }
    const declared = content[media] ?? content['*/*'];
    if (!declared) {
      mismatch(key, `content type ${media || '(none)'} not declared (${Object.keys(content).join(', ')})`);
      continue;
    }
    // Bytes (the secure bootstrap fetch): nothing to read in them but their presence.
    if ((declared.schema as { format?: string } | undefined)?.format === 'binary') {
      if (!a.body) mismatch(key, 'empty body where bytes are declared');
      continue;
    }
    if (!declared.schema || a.body === null) continue;
    let value: unknown = a.body;
    if (media === 'application/json') {
      if (a.body === '') {
        mismatch(key, 'empty body where JSON is declared');
        continue;
      }
      value = JSON.parse(a.body);
    }
    const validate = validator(declared.schema);
    if (!validate(value)) {
      const e = validate.errors?.[0];
      mismatch(
        key,
        `${e?.instancePath || '(body)'} ${e?.message} ${JSON.stringify(e?.params)}: ${a.body.slice(0, 160)}`,
      );
    }
  }

  for (const s of serialised) {
    if (!s.same)
      mismatch(
        `serialised ${s.method} ${s.route} → ${s.status}`,
        `from its schema: ${s.actual}; meant: ${s.expected}`,
      );
  }

  const declaring = table.filter((r) => declaresAnswers(r.op));
  const never = table.filter((r) => !called.has(r)).map((r) => `${r.method} ${r.template}`);
  const lines = [
    `contract: ${answers.length} answers recorded; ${checked} checked against ${declaring.length} of ${table.length} operations that declare their answers; ${undeclared} of operations that declare none; ${outside} outside the description`,
  ];
  lines.push(
    `serialised from answer schemas: ${serialised.length} answers compared with JSON.stringify of the same value, ${serialised.filter((s) => !s.same).length} differ`,
  );
  if (never.length > 0) lines.push(`  never called: ${never.join(', ')}`);
  const silent = table.filter((r) => !declaresAnswers(r.op)).map((r) => `${r.method} ${r.template}`);
  if (silent.length > 0) lines.push(`  DECLARES NO ANSWERS (every route must): ${silent.join(', ')}`);
  for (const [key, m] of mismatches) lines.push(`  MISMATCH ${key} (${m.count}×): ${m.example}`);
  return { ok: mismatches.size === 0 && silent.length === 0, report: lines.join('\n') };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const folder = process.argv[2];
  if (!folder) {
    console.error('usage: scripts/contract.ts <folder of answers-*.jsonl>');
    process.exit(2);
  }
  const { ok, report } = await check(folder);
  console.log(report);
  process.exit(ok ? 0 : 1);
}
