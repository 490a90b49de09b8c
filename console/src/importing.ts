// One CSV reader for the CLI and the console: the same quoting and leniency rules.

import type { Metadata } from '@tethys/sdk';
import { type CsvRecord, parseCsv } from '../../src/cli/csv.ts';
import type { EntityKind } from './api.ts';

/**
 * Reads an import file (CSV with a header row naming the columns name,key,metadata, or a
 * JSON array of objects) into rows. A file-level problem (no header, bad quoting) is an
 * ImportFileError; a row-level problem marks only that row, which is then not sent.
 */

export interface ImportEntity {
  name?: string;
  key?: string;
  metadata?: Metadata;
}

export interface ImportRow {
  /** 1-based among the data rows. */
  row: number;
  /** CSV: the file line the row starts on. */
  line?: number;
  entity: ImportEntity;
  /** Why the row cannot be sent, when it cannot. */
  invalid?: string;
}

export class ImportFileError extends Error {}

export const COLUMNS: Record<EntityKind, string[]> = {
  things: ['name', 'key', 'metadata'],
  channels: ['name', 'metadata'],
};

function metadataOf(value: unknown): { metadata?: Metadata; invalid?: string } {
  if (value === undefined || value === null || value === '') return {};
  let parsed = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch (err) {
      return { invalid: `metadata is not valid JSON (${(err as Error).message})` };
    }
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    return { invalid: 'metadata must be a JSON object, like {"serial":"123"}' };
  return { metadata: parsed as Metadata };
}

export function readImport(text: string, fileName: string, kind: EntityKind): ImportRow[] {
  const json = /\.json$/i.test(fileName) || (!/\.csv$/i.test(fileName) && /^\uFEFF?\s*\[/.test(text));
  const rows = json ? fromJson(text, kind) : fromCsv(text, kind);
  if (rows.length === 0) throw new ImportFileError(`The file holds no ${kind} to import.`);
  if (kind === 'things') markDuplicateKeys(rows);
  return rows;
}

function fromJson(text: string, kind: EntityKind): ImportRow[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new ImportFileError(`The file is not valid JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(parsed))
    throw new ImportFileError(`Expected a JSON array of ${kind}, like [{"name":"a"},{"name":"b"}].`);
  return parsed.map((item, index): ImportRow => {
    const row = index + 1;
    if (item === null || typeof item !== 'object' || Array.isArray(item))
      return { row, entity: {}, invalid: 'not a JSON object' };
    const entity: ImportEntity = {};
    for (const [field, value] of Object.entries(item as Record<string, unknown>)) {
      if (field === 'id' || value === null || value === undefined) continue;
      if (!COLUMNS[kind].includes(field))
        return {
          row,
          entity,
          invalid: `unknown field "${field}" (${kind} have ${COLUMNS[kind].join(', ')})`,
        };
      if (field === 'metadata') {
        const m = metadataOf(value);
        if (m.invalid) return { row, entity, invalid: m.invalid };
        entity.metadata = m.metadata;
      } else if (typeof value !== 'string') {
        return { row, entity, invalid: `${field} must be a string` };
      } else if (value !== '') {
        entity[field as 'name' | 'key'] = value;
      }
    }
    return { row, entity };
  });
}

function fromCsv(text: string, kind: EntityKind): ImportRow[] {
  let records: CsvRecord[];
  try {
    records = parseCsv(text);
  } catch (err) {
    throw new ImportFileError(`The CSV file cannot be read: ${(err as Error).message}`);
  }
  const [header, ...data] = records;
  if (!header)
    throw new ImportFileError(`The file is empty (expected a header row: ${COLUMNS[kind].join(',')}).`);
  const columns = header.fields.map((f) => f.trim().toLowerCase());
  const seen = new Set<string>();
  for (const c of columns) {
    if (!COLUMNS[kind].includes(c) && c !== 'id')
      throw new ImportFileError(
        `Line ${header.line}: unknown column "${c}". The first line must be a header naming the columns, from: ${COLUMNS[kind].join(',')}.`,
      );
    if (seen.has(c)) throw new ImportFileError(`Line ${header.line}: column "${c}" appears twice.`);
    seen.add(c);
  }
  return data.map((record, index): ImportRow => {
    const row = index + 1;
    const entity: ImportEntity = {};
    if (record.fields.length !== columns.length)
      return {
        row,
        line: record.line,
        entity,
        invalid: `${record.fields.length} fields, the header has ${columns.length} (quote fields that contain commas)`,
      };
    for (let c = 0; c < columns.length; c++) {
      const column = columns[c]!;
      const value = record.fields[c]!;
      if (value === '' || column === 'id') continue;
      if (column === 'metadata') {
        const m = metadataOf(value);
        if (m.invalid) return { row, line: record.line, entity, invalid: m.invalid };
        entity.metadata = m.metadata;
      } else entity[column as 'name' | 'key'] = value;
    }
    return { row, line: record.line, entity };
  });
}

/** Keys are unique: a key used twice in the file would fail its whole batch, so the later use is refused here. */
function markDuplicateKeys(rows: ImportRow[]): void {
  const first = new Map<string, number>();
  for (const r of rows) {
    const key = r.entity.key;
    if (r.invalid || key === undefined) continue;
    const earlier = first.get(key);
    if (earlier !== undefined) r.invalid = `the same key as row ${earlier}`;
    else first.set(key, r.row);
  }
}
