import fs from 'node:fs';
import path from 'node:path';
import { type Tethys, TethysError, TethysNetworkError } from '../../sdk/src/index.js';
import { CsvError, type CsvRecord, parseCsv } from './csv.js';
import { Progress } from './progress.js';
import { InputError } from './run.js';

/**
 * Bulk import of things or channels from a CSV or JSON file: the whole file is read
 * and checked first (so a typo on row 9,000 sends nothing), then sent batch by batch
 * with the SDK's `createMany` (`POST /<kind>/bulk`). Each batch is all or nothing on the
 * server; the import stops at the first failed batch and says which rows it held.
 */

export type BulkKind = 'things' | 'channels';

export interface BulkEntity {
  name?: string;
  key?: string;
  metadata?: Record<string, unknown>;
}

export interface BulkRow {
  /** 1-based position among the data rows (CSV: header not counted; JSON: array index + 1). */
  row: number;
  /** CSV only: 1-based line of the file where the row starts. */
  line?: number;
  entity: BulkEntity;
}

const FIELDS: Record<BulkKind, string[]> = {
  things: ['name', 'key', 'metadata'],
  channels: ['name', 'metadata'],
};

// Exports of `things list` carry ids; the server makes new ones, so they are skipped.
const IGNORED = new Set(['id']);

export function readBulkFile(file: string, kind: BulkKind): BulkRow[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder' : (err as Error).message;
    throw new InputError(`${file}: ${reason}`);
  }
  const ext = path.extname(file).toLowerCase();
  const json = ext === '.json' || (ext !== '.csv' && /^\uFEFF?\s*\[/.test(text));
  const rows = json ? fromJson(text, file, kind) : fromCsv(text, file, kind);
  if (rows.length === 0) throw new InputError(`${file}: no ${kind} to import`);
  if (kind === 'things') checkDuplicateKeys(rows, file);
  return rows;
}

function fromJson(text: string, file: string, kind: BulkKind): BulkRow[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new InputError(`${file}: not valid JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(parsed))
    throw new InputError(`${file}: expected a JSON array of ${kind}, like [{"name":"a"},{"name":"b"}]`);
  return parsed.map((item, index) => {
    const where = `${file}: item ${index + 1}`;
    if (item === null || typeof item !== 'object' || Array.isArray(item))
      throw new InputError(`${where}: expected a JSON object`);
    const entity: BulkEntity = {};
    for (const [field, value] of Object.entries(item as Record<string, unknown>)) {
      if (IGNORED.has(field)) continue;
      if (!FIELDS[kind].includes(field)) {
        throw new InputError(`${where}: unknown field "${field}" (${kind} have ${FIELDS[kind].join(', ')})`);
      }
      if (value === null || value === undefined) continue;
      if (field === 'metadata') {
        if (typeof value !== 'object' || Array.isArray(value))
          throw new InputError(`${where}: metadata must be a JSON object`);
        entity.metadata = value as Record<string, unknown>;
      } else {
        if (typeof value !== 'string') throw new InputError(`${where}: ${field} must be a string`);
        if (value !== '') entity[field as 'name' | 'key'] = value;
      }
    }
    return { row: index + 1, entity };
  });
}

function fromCsv(text: string, file: string, kind: BulkKind): BulkRow[] {
  let records: CsvRecord[];
  try {
    records = parseCsv(text);
  } catch (err) {
    if (err instanceof CsvError) throw new InputError(`${file}: ${err.message}`);
    throw err;
  }
  if (records.length === 0)
    throw new InputError(`${file}: empty file (expected a header row: ${FIELDS[kind].join(',')})`);
  const [header, ...data] = records as [CsvRecord, ...CsvRecord[]];
  const columns = header.fields.map((f) => f.trim().toLowerCase());
  const seen = new Set<string>();
  for (const column of columns) {
    if (!FIELDS[kind].includes(column) && !IGNORED.has(column)) {
      const hint = kind === 'channels' && column === 'key' ? ' (channels have no key)' : '';
      throw new InputError(
        `${file}: line ${header.line}: unknown column "${column}"${hint}; the first line must be a header naming the columns, from: ${FIELDS[kind].join(',')}`,
      );
    }
    if (seen.has(column))
      throw new InputError(`${file}: line ${header.line}: column "${column}" appears twice`);
    seen.add(column);
  }
  return data.map((record, index) => {
    const where = `${file}: line ${record.line} (row ${index + 1})`;
    if (record.fields.length !== columns.length) {
      throw new InputError(
        `${where}: ${record.fields.length} field${record.fields.length === 1 ? '' : 's'}, the header has ${columns.length} (quote fields that contain commas: "a, b")`,
      );
    }
    const entity: BulkEntity = {};
    columns.forEach((column, c) => {
      const value = record.fields[c]!;
      if (value === '' || IGNORED.has(column)) return;
      if (column === 'metadata') {
        let parsed: unknown;
        try {
          parsed = JSON.parse(value);
        } catch (err) {
          throw new InputError(`${where}: metadata is not valid JSON: ${(err as Error).message}`);
        }
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
          throw new InputError(`${where}: metadata must be a JSON object, like "{""serial"":""123""}"`);
        }
        entity.metadata = parsed as Record<string, unknown>;
      } else {
        entity[column as 'name' | 'key'] = value;
      }
    });
    return { row: index + 1, line: record.line, entity };
  });
}

/** Keys are unique across all things: a key used twice in the file would fail mid-import, so refuse it up front. */
function checkDuplicateKeys(rows: BulkRow[], file: string): void {
  const first = new Map<string, BulkRow>();
  const clashes: string[] = [];
  for (const r of rows) {
    const key = r.entity.key;
    if (key === undefined) continue;
    const earlier = first.get(key);
    if (earlier) clashes.push(`key ${JSON.stringify(key)} on ${describeRow(earlier)} and ${describeRow(r)}`);
    else first.set(key, r);
  }
  if (clashes.length === 0) return;
  const more = clashes.length > 3 ? ` (and ${clashes.length - 3} more)` : '';
  throw new InputError(
    `${file}: duplicate thing keys, nothing imported: ${clashes.slice(0, 3).join('; ')}${more}`,
  );
}

function describeRow(r: BulkRow): string {
  return r.line === undefined ? `row ${r.row}` : `row ${r.row} (line ${r.line})`;
}

/** `rows 2001-2500 (lines 2002-2501)`. */
export function describeRows(rows: BulkRow[]): string {
  const a = rows[0]!;
  const b = rows[rows.length - 1]!;
  const span = (x: number, y: number) => (x === y ? `${x}` : `${x}-${y}`);
  const lines =
    a.line !== undefined && b.line !== undefined
      ? ` (line${a.line === b.line ? '' : 's'} ${span(a.line, b.line)})`
      : '';
  return `row${a === b ? '' : 's'} ${span(a.row, b.row)}${lines}`;
}

export interface BulkOptions {
  batch: number;
  /** Keep the created entities (for --print). */
  keep: boolean;
  progress: boolean;
}

export interface BulkFailure {
  /** The rows of the failed batch. */
  rows: BulkRow[];
  /** Rows after the failed batch, never sent. */
  notSent: number;
  error: TethysError | TethysNetworkError;
}

export interface BulkOutcome {
  created: number;
  items: unknown[];
  failure?: BulkFailure;
}

export async function importBulk(
  api: Tethys,
  kind: BulkKind,
  rows: BulkRow[],
  options: BulkOptions,
): Promise<BulkOutcome> {
  const progress = new Progress(rows.length, process.stderr, {
    verb: 'imported',
    unit: kind,
    enabled: options.progress,
  });
  const outcome: BulkOutcome = { created: 0, items: [] };
  progress.update(0);
  try {
    for (let start = 0; start < rows.length; start += options.batch) {
      const batch = rows.slice(start, start + options.batch);
      try {
        const list: unknown[] = await api[kind].createMany(batch.map((r) => r.entity));
        outcome.created += list.length || batch.length;
        if (options.keep) outcome.items.push(...list);
      } catch (err) {
        if (err instanceof TethysError || err instanceof TethysNetworkError) {
          outcome.failure = { rows: batch, notSent: rows.length - start - batch.length, error: err };
          return outcome;
        }
        throw err;
      }
      progress.update(outcome.created);
    }
    return outcome;
  } finally {
    progress.finish();
  }
}

/** The lines that explain a failed import on stderr, first line `error: ...`. */
export function describeFailure(
  kind: BulkKind,
  failure: BulkFailure,
  created: number,
  file: string,
): string[] {
  const { error, rows } = failure;
  const lines = [`error: ${error.summary}`];
  if (error instanceof TethysNetworkError) {
    lines.push(
      `  ${describeRows(rows)} of ${file}: unknown whether they were created (no answer); check with \`tethys ${kind} list\``,
    );
  } else {
    let why = '';
    if (error.status === 409 && kind === 'things') why = ': a key in them is already used by another thing';
    else if (error.status === 413) why = ': the batch is too large for the server, use a smaller --batch';
    lines.push(`  ${describeRows(rows)} of ${file} were not imported (a batch is all or nothing)${why}`);
  }
  const lastSent = rows[0]!.row - 1;
  const before =
    created === 0
      ? `no ${kind} were created before it`
      : `${created} ${kind} were created before it (rows 1-${lastSent})`;
  lines.push(
    `  ${before}${failure.notSent > 0 ? `; the ${failure.notSent} rows after it were not sent` : ''}`,
  );
  return lines;
}
