import fs from 'node:fs';
import path from 'node:path';

/**
 * A secret kept in the data folder (mode 0600): read it when it is there, else
 * generate it once. Secure defaults without a well-known value (CONFIG.md §2, §5).
 */
export function persistentSecret(dataDir: string, file: string, generate: () => string, log: (msg: string) => void, what: string): string {
  const full = path.join(dataDir, file);
  try {
    const existing = fs.readFileSync(full, 'utf8').trim();
    if (existing) return existing;
  } catch {
    // first start: generate below
  }
  fs.mkdirSync(dataDir, { recursive: true });
  const secret = generate();
  fs.writeFileSync(full, `${secret}\n`, { mode: 0o600 });
  log(`${what} is not set: generated one in ${full}`);
  return secret;
}
