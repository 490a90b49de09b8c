/**
 * The cipher of Mainflux's secure bootstrap (`GET /things/bootstrap/secure/{externalId}`):
 * AES in CFB mode with full 128-bit segments, the IV in front of the ciphertext, the key
 * MF_BOOTSTRAP_ENCRYPT_KEY (hex; 16, 24 or 32 bytes). The gateway sends
 * hex(iv ‖ AES-CFB(external key)) as Authorization and gets iv ‖ AES-CFB(config JSON).
 *
 * WebCrypto has no CFB, so it is built from AES-CBC (`globalThis.crypto.subtle`, Node 20+
 * and browsers): CBC over zero IV and one block is the block cipher E itself, and CFB's
 * chain Cᵢ = Pᵢ ⊕ E(Cᵢ₋₁) is CBC's chain over (0, P₁, …, Pₙ₋₁) started from the IV. The
 * result is byte for byte what OpenSSL's aes-*-cfb (node:crypto, the server) makes.
 * Browsers based on Chromium refuse 24-byte (AES-192) keys.
 */

const BLOCK = 16;

export class BootstrapCipher {
  private readonly key: Promise<CryptoKey>;

  /** The key as bytes (16, 24 or 32) or as the server's MF_BOOTSTRAP_ENCRYPT_KEY (32, 48 or 64 hex digits). */
  constructor(key: Uint8Array | string) {
    const raw = typeof key === 'string' ? fromHex(key) : new Uint8Array(key);
    if (!raw || ![16, 24, 32].includes(raw.length)) {
      throw new RangeError(
        'a bootstrap encryption key is 16, 24 or 32 bytes: 32, 48 or 64 hex digits, like MF_BOOTSTRAP_ENCRYPT_KEY',
      );
    }
    this.key = subtle().importKey('raw', raw, 'AES-CBC', false, ['encrypt']);
  }

  /** iv ‖ AES-CFB(plain), with a random IV unless one is given. */
  async encrypt(plain: Uint8Array | string, iv?: Uint8Array): Promise<Uint8Array> {
    const data = typeof plain === 'string' ? new TextEncoder().encode(plain) : plain;
    const start = iv ? new Uint8Array(iv) : globalThis.crypto.getRandomValues(new Uint8Array(BLOCK));
    if (start.length !== BLOCK) throw new RangeError('the IV is 16 bytes');
    const blocks = Math.ceil(data.length / BLOCK);
    const out = new Uint8Array(BLOCK + data.length);
    out.set(start);
    if (blocks === 0) return out;
    // CBC from the IV over (0, P₁, …, Pₙ₋₁) yields E(C₀), E(C₁), …, E(Cₙ₋₁): the key stream.
    const chain = new Uint8Array(blocks * BLOCK);
    chain.set(data.subarray(0, (blocks - 1) * BLOCK), BLOCK);
    const stream = new Uint8Array(
      await subtle().encrypt({ name: 'AES-CBC', iv: start }, await this.key, chain),
    );
    for (let i = 0; i < data.length; i++) out[BLOCK + i] = data[i]! ^ stream[i]!;
    return out;
  }

  /** The plain bytes of iv ‖ AES-CFB(plain); throws a RangeError when there is no IV. */
  async decrypt(sealed: Uint8Array): Promise<Uint8Array> {
    if (sealed.length < BLOCK) throw new RangeError('too short: no IV');
    const cipher = sealed.subarray(BLOCK);
    // Pᵢ = Cᵢ ⊕ E(Cᵢ₋₁), every Cᵢ₋₁ known: the blocks are independent.
    const inputs: Uint8Array[] = [];
    for (let at = 0; at < cipher.length; at += BLOCK) inputs.push(sealed.subarray(at, at + BLOCK));
    const stream = await Promise.all(inputs.map((block) => this.block(block)));
    const out = new Uint8Array(cipher.length);
    for (let i = 0; i < cipher.length; i++) out[i] = cipher[i]! ^ stream[i >> 4]![i & 15]!;
    return out;
  }

  /** What a gateway sends as Authorization to the secure fetch: hex(iv ‖ AES-CFB(external key)). */
  async encryptExternalKey(externalKey: string): Promise<string> {
    return toHex(await this.encrypt(externalKey));
  }

  /** The text of an answer of the secure fetch (the config's JSON). */
  async decryptText(sealed: Uint8Array): Promise<string> {
    return new TextDecoder('utf-8', { fatal: true }).decode(await this.decrypt(sealed));
  }

  /** E(block): CBC with a zero IV over one block (its first block; the second is padding). */
  private async block(block: Uint8Array): Promise<Uint8Array> {
    const iv = new Uint8Array(BLOCK);
    const out = await subtle().encrypt({ name: 'AES-CBC', iv }, await this.key, new Uint8Array(block));
    return new Uint8Array(out, 0, BLOCK);
  }
}

/** WebCrypto's SubtleCrypto, or an error saying where to find it. */
export function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s)
    throw new Error('WebCrypto (crypto.subtle) is not available: Node 20+, or a browser page over https');
  return s;
}

function fromHex(hex: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex)) return undefined;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function toHex(bytes: Uint8Array): string {
  let hex = '';
  for (const b of bytes) hex += b.toString(16).padStart(2, '0');
  return hex;
}
