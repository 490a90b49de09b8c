import crypto from 'node:crypto';

/**
 * The secure bootstrap exchange (MODEL.md §6): AES in CFB mode with full 128-bit
 * segments, the key hex-decoded from MF_BOOTSTRAP_ENCRYPT_KEY, the IV in front.
 */
export class BootstrapCipher {
  private algorithm: string;

  constructor(private key: Buffer) {
    this.algorithm = `aes-${key.length * 8}-cfb`;
  }

  /** The external key inside a hex header, or null when it is not hex or too short. */
  decryptHeader(hex: string): { ok: true; value: string } | { ok: false; reason: 'not-hex' | 'too-short' } {
    if (!/^[0-9a-fA-F]*$/.test(hex) || hex.length % 2 !== 0) return { ok: false, reason: 'not-hex' };
    const raw = Buffer.from(hex, 'hex');
    if (raw.length < 16) return { ok: false, reason: 'too-short' };
    const decipher = crypto.createDecipheriv(this.algorithm, this.key, raw.subarray(0, 16));
    return {
      ok: true,
      value: Buffer.concat([decipher.update(raw.subarray(16)), decipher.final()]).toString('utf8'),
    };
  }

  encrypt(plain: Buffer): Buffer {
    const iv = crypto.randomBytes(16);
    const cipher = crypto.createCipheriv(this.algorithm, this.key, iv);
    return Buffer.concat([iv, cipher.update(plain), cipher.final()]);
  }
}
