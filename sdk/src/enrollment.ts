/**
 * What a device needs to enroll itself with a symmetric_key group: its own key, derived
 * from the group key as Azure DPS derives it, so a device holds a key that opens no
 * other device's registration. WebCrypto only (Node ≥ 20 and browsers).
 */

const subtle = () => globalThis.crypto.subtle;

function base64ToBytes(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function bytesToBase64(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

/** base64(HMAC-SHA256(base64-decoded group key, registration id)): what `SharedKey` carries. */
export async function deriveDeviceKey(groupKey: string, registrationId: string): Promise<string> {
  const key = await subtle().importKey(
    'raw',
    base64ToBytes(groupKey),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const mac = await subtle().sign('HMAC', key, new TextEncoder().encode(registrationId));
  return bytesToBase64(new Uint8Array(mac));
}
