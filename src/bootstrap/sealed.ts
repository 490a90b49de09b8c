import crypto from 'node:crypto';

/**
 * The sealed bootstrap answer (`GET /things/bootstrap/sealed/{externalId}`): the config,
 * encrypted and authenticated for one gateway with a key only it and the server hold.
 * Unlike the CFB exchange (secure.ts), which shares MF_BOOTSTRAP_ENCRYPT_KEY across the
 * fleet and lets a changed byte through unnoticed, each config is sealed with its own
 * secret and cannot be altered in transit. The layout (what sdk/src/sealed.ts opens):
 *
 *     nonce (12 random bytes) ‖ AES-256-GCM ciphertext ‖ tag (16 bytes)
 *     key = HKDF-SHA256(ikm = external key, salt = external id, info = SEALED_INFO), 32 bytes
 *     AAD = external id
 *
 * All strings as UTF-8. The external id as salt and AAD binds the answer to its gateway:
 * one sealed for another id does not open, even under the same external key.
 */
export const SEALED_INFO = 'tethys bootstrap v1';
export const SEALED_NONCE_BYTES = 12;
export const SEALED_TAG_BYTES = 16;

export function sealConfig(externalId: string, externalKey: string, plain: Buffer): Buffer {
  const key = Buffer.from(crypto.hkdfSync('sha256', externalKey, externalId, SEALED_INFO, 32));
  const nonce = crypto.randomBytes(SEALED_NONCE_BYTES);
  const cipher = crypto.createCipheriv('aes-256-gcm', key, nonce, { authTagLength: SEALED_TAG_BYTES });
  cipher.setAAD(Buffer.from(externalId, 'utf8'));
  return Buffer.concat([nonce, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
}
