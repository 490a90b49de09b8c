import crypto from 'node:crypto';
import { persistentSecret } from '../secrets.js';

/** The configured signing secret, or one generated at first start in the data folder. */
export function resolveAuthSecret(configured: string, dataDir: string, log: (msg: string) => void): string {
  if (configured) return configured;
  return persistentSecret(
    dataDir,
    'auth-secret',
    () => crypto.randomBytes(32).toString('base64url'),
    log,
    'MF_AUTH_SECRET',
  );
}
