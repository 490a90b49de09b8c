import fs from 'node:fs';

function read(): string {
  for (const candidate of ['../package.json', '../../package.json']) {
    try {
      return JSON.parse(fs.readFileSync(new URL(candidate, import.meta.url), 'utf8')).version;
    } catch {
      // try the next layout (tsx runs src/, node runs dist/src/)
    }
  }
  return '0.0.0';
}

export const TETHYS_VERSION = read();
