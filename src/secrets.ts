import fs from 'node:fs';
import path from 'node:path';

/**
 * A secret kept in the data folder (mode 0600): read it when it is there, else
 * generate it once. Secure defaults without a well-known value (CONFIG.md §2, §5).
 */
export function persistentSecret(
  dataDir: string,
  file: string,
  generate: () => string,
  log: (msg: string) => void,
  what: string,
): string {
  const full = path.join(dataDir, file);
  try {
    const existing = fs.readFileSync(full, 'utf8').trim();
    if (existing) return existing;
  } catch {
    // first start: generate below
  }
  fs.mkdirSync(dataDir, { recursive: true });
  // Written aside and linked into place: when several processes start at once, exactly
  // one secret wins and every process reads that one.
  const temp = `${full}.${process.pid}.tmp`;
  fs.writeFileSync(temp, `${generate()}\n`, { mode: 0o600 });
  try {
    fs.linkSync(temp, full);
    log(`${what} is not set: generated one in ${full}`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    fs.rmSync(temp, { force: true });
  }
  return fs.readFileSync(full, 'utf8').trim();
}
