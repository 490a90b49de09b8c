import { parseGoDuration } from '../durations.js';
import type { KeyType } from './x509.js';

/**
 * What a certificate may be: the one place key sizes and validity periods are checked,
 * for requests (`POST /certs`), provision layouts and the settings that give their
 * defaults, so that nothing is accepted at start that a request would then refuse.
 */
export const KEY_BITS: Record<KeyType, readonly number[]> = { rsa: [2048, 3072, 4096], ec: [256, 384] };

/** Why a key of this type and size cannot be issued, or null when it can. */
export function keySizeProblem(type: KeyType, bits: number): string | null {
  return KEY_BITS[type].includes(bits)
    ? null
    : `${bits} is not a ${type} key size (${KEY_BITS[type].join(', ')})`;
}

/** A validity period in Go's duration syntax ("8760h"), in milliseconds; null when it is not one of at least a second. */
export function parseValidity(text: string): number | null {
  const ms = parseGoDuration(text);
  return ms === null || ms < 1000 ? null : ms;
}
