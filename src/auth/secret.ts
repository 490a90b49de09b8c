import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * The signing secret: the configured one, or one generated at first start and kept in
 * the data folder (mode 0600), so no installation runs on a well-known default.
 */
export function resolveAuthSecret(configured: string, dataDir: string, log: (msg: string) => void): string {
  if (configured) return configured;
  const file = path.join(dataDir, 'auth-secret');
  const existing = readSecret(file);
  if (existing) return existing;
  fs.mkdirSync(dataDir, { recursive: true });
  const secret = crypto.randomBytes(32).toString('base64url');
  // Written whole to a private temporary file, then linked into place: a process
  // starting at the same time (--workers) never reads a half-written or empty file, and
  // whichever links first wins; the others read its secret.
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(tmp, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  try {
    if (readSecret(file) === null) fs.rmSync(file, { force: true }); // empty leftover of a crash
    fs.linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const theirs = readSecret(file);
    if (!theirs) throw new Error(`${file} exists but holds no secret`);
    return theirs;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  log(`MF_AUTH_SECRET is not set: generated a random signing secret in ${file}`);
  return secret;
}

/** The secret in the file; null when the file exists but is empty; '' when there is none. */
function readSecret(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8').trim() || null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}
