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
  try {
    const existing = fs.readFileSync(file, 'utf8').trim();
    if (existing) return existing;
  } catch {
    // first start: generate below
  }
  fs.mkdirSync(dataDir, { recursive: true });
  const secret = crypto.randomBytes(32).toString('base64url');
  fs.writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  log(`MF_AUTH_SECRET is not set: generated a random signing secret in ${file}`);
  return secret;
}
