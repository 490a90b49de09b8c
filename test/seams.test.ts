import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

/**
 * Each domain owns its tables (ARCHITECTURE.md, "Who may touch what"): no statement
 * outside a domain's folder names one of its tables. Another domain reads them through
 * the owner's repository or service, or joins the owner's row source (`source()`).
 * Migrations are left out: a foreign key may point into another domain's table.
 */
const OWNER: Record<string, string> = {
  keys: 'auth',
  users: 'users',
  things: 'things',
  channels: 'things',
  connections: 'things',
  entity_counts: 'things',
  thing_meta: 'things',
  channel_meta: 'things',
  user_groups: 'groups',
  group_members: 'groups',
  bootstrap_configs: 'bootstrap',
  bootstrap_channels: 'bootstrap',
  certs: 'certs',
  idempotency_keys: 'idempotency',
  layouts: 'layouts',
};

/** SQL keywords as the repositories write them (upper case), and kysely's table methods. */
const TABLE_REFERENCES = [
  /\b(?:FROM|JOIN|UPDATE|INTO)\s+([a-z_]+)\b/g,
  /\b(?:selectFrom|updateTable|deleteFrom|insertInto|innerJoin|leftJoin|rightJoin|fullJoin)\(\s*'([a-z_]+)/g,
];

const src = path.resolve(import.meta.dirname, '..', 'src');

/** Every source file, by its path under `src/`, but generated code and migrations. */
function sources(dir = src): { file: string; text: string }[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'gen' ? [] : sources(full);
    if (!entry.name.endsWith('.ts') || /migrations?\.ts$/.test(entry.name)) return [];
    return [
      { file: path.relative(src, full).split(path.sep).join('/'), text: fs.readFileSync(full, 'utf8') },
    ];
  });
}

/** `file: table (owner)` for every table a file names that its domain (its folder) does not own. */
function foreignTables(files: { file: string; text: string }[]): string[] {
  const found: string[] = [];
  for (const { file, text } of files) {
    const domain = file.includes('/') ? file.split('/')[0] : '';
    for (const pattern of TABLE_REFERENCES) {
      for (const match of text.matchAll(pattern)) {
        const owner = OWNER[match[1]!];
        if (owner && owner !== domain) found.push(`${file}: ${match[1]} (${owner})`);
      }
    }
  }
  return [...new Set(found)];
}

describe('domain seams', () => {
  it("no domain's code names another domain's table", () => {
    const files = sources();
    assert.ok(files.length > 50 && files.some((f) => f.file === 'groups/repo.ts'), 'the sources were found');
    assert.deepEqual(foreignTables(files), []);
  });

  it('finds statements that do, in SQL text and through kysely', () => {
    const text = `sql\`SELECT t.key FROM group_members m JOIN things t ON t.id = m.member_id\`;
      executor(db).selectFrom('users').select('email');
      sql\`SELECT 1 FROM user_groups g\`;`;
    assert.deepEqual(foreignTables([{ file: 'groups/repo.ts', text }]), [
      'groups/repo.ts: things (things)',
      'groups/repo.ts: users (users)',
    ]);
    assert.deepEqual(foreignTables([{ file: 'db/database.ts', text: 'sql`DELETE FROM certs`' }]), [
      'db/database.ts: certs (certs)',
    ]);
  });
});
