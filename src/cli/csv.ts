/**
 * A small RFC 4180 reader: comma-separated fields, records ended by LF or CRLF, fields
 * in double quotes may hold commas, line breaks and doubled quotes (`""` is one `"`).
 * Lenient where spreadsheets are sloppy: a BOM is skipped, blanks around a quoted field
 * are dropped, a quote inside an unquoted field is kept as is, empty lines are skipped.
 */

export interface CsvRecord {
  /** 1-based line of the file where the record starts. */
  line: number;
  fields: string[];
}

export class CsvError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'CsvError';
  }
}

export function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  const n = text.length;

  while (i < n) {
    const start = line;
    // An empty line is no record (a trailing newline, blank lines between blocks).
    if (text[i] === '\n' || (text[i] === '\r' && text[i + 1] === '\n')) {
      i += text[i] === '\r' ? 2 : 1;
      line++;
      continue;
    }
    const fields: string[] = [];
    for (;;) {
      // One field, starting at i.
      let j = i;
      while (text[j] === ' ' || text[j] === '\t') j++;
      let value: string;
      if (text[j] === '"') {
        const quoteLine = line;
        j++;
        let out = '';
        for (;;) {
          const q = text.indexOf('"', j);
          if (q < 0) throw new CsvError(quoteLine, 'a quoted field is not closed');
          const chunk = text.slice(j, q);
          out += chunk;
          line += countNewlines(chunk);
          if (text[q + 1] === '"') {
            out += '"';
            j = q + 2;
            continue;
          }
          j = q + 1;
          break;
        }
        while (text[j] === ' ' || text[j] === '\t') j++;
        if (j < n && text[j] !== ',' && text[j] !== '\n' && text[j] !== '\r') {
          throw new CsvError(
            line,
            `unexpected ${JSON.stringify(text[j])} after a closing quote (a quote inside a quoted field is written "")`,
          );
        }
        value = out;
      } else {
        while (j < n && text[j] !== ',' && text[j] !== '\n' && text[j] !== '\r') j++;
        value = text.slice(i, j);
      }
      fields.push(value);
      i = j;
      if (text[i] === ',') {
        i++;
        continue;
      }
      // End of record: LF, CRLF, a lone CR (old Mac files), or end of text.
      if (text[i] === '\r') i++;
      if (text[i] === '\n') i++;
      line++;
      break;
    }
    records.push({ line: start, fields });
  }
  return records;
}

function countNewlines(s: string): number {
  let count = 0;
  for (let k = s.indexOf('\n'); k >= 0; k = s.indexOf('\n', k + 1)) count++;
  return count;
}
