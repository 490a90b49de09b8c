/**
 * The sealed bootstrap answer (`GET /things/bootstrap/sealed/{externalId}`), opened with
 * WebCrypto alone (Node 20+ and browsers): the config, encrypted and authenticated for
 * one gateway, under a key derived from its own external key:
 *
 *     nonce (12 bytes) ‖ AES-256-GCM ciphertext ‖ tag (16 bytes)
 *     key = HKDF-SHA256(ikm = external key, salt = external id, info "tethys bootstrap v1"), 32 bytes
 *     additional authenticated data = external id
 *
 * All strings as UTF-8. An answer changed on the way, or sealed for another id or key,
 * does not open.
 */
import { subtle } from './cipher.js';

const INFO = 'tethys bootstrap v1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** The plain bytes (the config's JSON); rejects when the answer does not open. */
export async function openSealed(
  sealed: Uint8Array,
  externalId: string,
  externalKey: string,
): Promise<Uint8Array> {
  if (sealed.length < NONCE_BYTES + TAG_BYTES) throw new RangeError('too short for a nonce and a tag');
  const utf8 = new TextEncoder();
  const secret = await subtle().importKey('raw', utf8.encode(externalKey), 'HKDF', false, ['deriveKey']);
  const key = await subtle().deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: utf8.encode(externalId), info: utf8.encode(INFO) },
    secret,
    { name: 'AES-GCM', length: 256 },
    false,
    ['decrypt'],
  );
  const bytes = new Uint8Array(sealed);
  const plain = await subtle().decrypt(
    {
      name: 'AES-GCM',
      iv: bytes.subarray(0, NONCE_BYTES),
      additionalData: utf8.encode(externalId),
      tagLength: TAG_BYTES * 8,
    },
    key,
    bytes.subarray(NONCE_BYTES),
  );
  return new Uint8Array(plain);
}

/** The config's JSON text; rejects when the answer does not open or is not UTF-8. */
export async function openSealedText(sealed: Uint8Array, externalId: string, externalKey: string) {
  return new TextDecoder('utf-8', { fatal: true }).decode(await openSealed(sealed, externalId, externalKey));
}
