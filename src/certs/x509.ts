// reflect-metadata must be loaded before @peculiar/x509 (its DI container needs it).
import 'reflect-metadata';
import crypto from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(crypto.webcrypto as unknown as Crypto);

export { x509 };

export type KeyType = 'rsa' | 'ec';

/** Serials as Vault prints them: lowercase hex byte pairs joined by colons, no leading zero byte. */
export function formatSerial(serial: string): string {
  let hex = serial.replace(/[:\s-]/g, '').toLowerCase();
  if (hex.length % 2) hex = `0${hex}`;
  while (hex.length > 2 && hex.startsWith('00')) hex = hex.slice(2);
  return hex.match(/../g)?.join(':') ?? '';
}

export const serialHex = (serial: string) => serial.replace(/:/g, '');

/** 128 random bits with the top bit clear: a positive INTEGER of 16 bytes, never shorter. */
export function randomSerial(): string {
  const bytes = crypto.randomBytes(16);
  bytes[0] = (bytes[0]! % 0x7f) + 1;
  return bytes.toString('hex');
}

export interface KeyInfo {
  type: KeyType;
  /** RSA modulus length, or the EC curve size (256, 384, 521). */
  bits: number;
  /** The hash to sign with, when this key signs (SHA-256 for RSA and P-256). */
  hash: 'SHA-256' | 'SHA-384' | 'SHA-512';
  /** WebCrypto import parameters. */
  algorithm: RsaHashedImportParams | EcKeyImportParams;
}

const CURVES: Record<string, { name: string; bits: number; hash: KeyInfo['hash'] }> = {
  prime256v1: { name: 'P-256', bits: 256, hash: 'SHA-256' },
  secp384r1: { name: 'P-384', bits: 384, hash: 'SHA-384' },
  secp521r1: { name: 'P-521', bits: 521, hash: 'SHA-512' },
};

/** What kind of key this is, or null when it is one certificates here cannot carry. */
export function keyInfo(key: crypto.KeyObject): KeyInfo | null {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') {
    const bits = details.modulusLength ?? 0;
    return { type: 'rsa', bits, hash: 'SHA-256', algorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } };
  }
  if (key.asymmetricKeyType === 'ec') {
    const curve = CURVES[details.namedCurve ?? ''];
    if (!curve) return null;
    return {
      type: 'ec',
      bits: curve.bits,
      hash: curve.hash,
      algorithm: { name: 'ECDSA', namedCurve: curve.name },
    };
  }
  return null;
}

export function spkiDer(key: crypto.KeyObject): Buffer {
  return key.export({ type: 'spki', format: 'der' });
}

/** The certificate's CN values (normally one). */
export function commonNames(cert: x509.X509Certificate): string[] {
  return cert.subjectName.getField('CN');
}
