// `npm test`: the whole suite on SQLite, then again on PostgreSQL when a server is
// given (TETHYS_TEST_PG_URL) or PostgreSQL binaries are installed (a throwaway cluster
// is started for the run and removed after). TETHYS_TEST_ONLY=sqlite|postgres runs one.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startCluster } from './pg-cluster.mjs';

function testFiles(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...testFiles(p));
    else if (entry.name.endsWith('.test.ts')) out.push(p);
  }
  return out.sort();
}

const filter = process.argv.slice(2);
const files = testFiles('test').filter((f) => filter.length === 0 || filter.some((x) => f.includes(x)));

/**
 * One pass of the suite, then the contract check of every answer its clients received
 * against the OpenAPI description (scripts/contract.ts): documented = actual.
 */
function run(label, env) {
  console.log(`\n=== tests on ${label} ===`);
  const answers = fs.mkdtempSync(path.join(os.tmpdir(), 'tethys-answers-'));
  try {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files], {
      stdio: 'inherit',
      env: { ...process.env, ...env, TETHYS_TEST_CONTRACT_DIR: answers },
    });
    const contract = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/contract.ts', answers], {
      stdio: 'inherit',
      env: { ...process.env, ...env },
    });
    return (r.status ?? 1) || (contract.status ?? 1);
  } finally {
    fs.rmSync(answers, { recursive: true, force: true });
  }
}

const only = process.env.TETHYS_TEST_ONLY;
let failed = 0;
if (only !== 'postgres') failed |= run('SQLite', { TETHYS_TEST_PG_URL: '' });
if (only !== 'sqlite') {
  let url = process.env.TETHYS_TEST_PG_URL;
  let cluster = null;
  if (!url) {
    cluster = await startCluster();
    url = cluster?.url;
  }
  if (url) {
    try {
      failed |= run(`PostgreSQL (${url.replace(/:[^:@/]*@/, ':***@')})`, { TETHYS_TEST_PG_URL: url });
    } finally {
      cluster?.stop();
    }
  } else if (process.env.TETHYS_TEST_REQUIRE_PG) {
    console.error('\nPostgreSQL binaries not found and TETHYS_TEST_REQUIRE_PG is set: failing.');
    failed = 1;
  } else {
    console.log('\nPostgreSQL binaries not found: PostgreSQL pass skipped (install postgresql to run it).');
  }
}
process.exit(failed ? 1 : 0);
