import { domainToASCII } from 'node:url';

const LOCAL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}$/;

/** Mainflux's email rules (MODEL.md §2.1). */
export function isValidEmail(email: string): boolean {
  if (email.length > 254 || /\s/.test(email)) return false;
  const parts = email.split('@');
  if (parts.length !== 2) return false;
  const [local, host] = parts as [string, string];
  if (!LOCAL.test(local) || local.startsWith('.') || local.endsWith('.') || local.includes('..'))
    return false;
  const labels = host.split('.');
  if (labels.length < 2 || labels.some((l) => l.length === 0)) return false;
  const last = labels[labels.length - 1]!;
  if (last.length > 24) return false;
  if (host.length - last.length - 1 > 255) return false;
  return domainToASCII(host) !== '';
}
