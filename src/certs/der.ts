/**
 * The few DER encodings a CRL needs. @peculiar/x509 builds certificates, but its CRL
 * builder checks every entry against every other one (quadratic): a CRL of a few
 * thousand serials would block the event loop for seconds. These are linear.
 */

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), length(content.length), content]);
}

export const sequence = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
export const octetString = (content: Buffer) => tlv(0x04, content);
export const bitString = (content: Buffer) => tlv(0x03, Buffer.concat([Buffer.from([0]), content]));
export const explicit = (n: number, content: Buffer) => tlv(0xa0 | n, content);

/** A non-negative INTEGER from big-endian magnitude bytes (minimal, positive). */
export function unsignedInteger(magnitude: Buffer): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  let bytes = magnitude.subarray(start);
  if (bytes.length === 0) bytes = Buffer.from([0]);
  if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return tlv(0x02, bytes);
}

export function integerFromNumber(n: number): Buffer {
  const hex = Math.trunc(n).toString(16);
  return unsignedInteger(Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex'));
}

export function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out: number[] = [parts[0]! * 40 + parts[1]!];
  for (const part of parts.slice(2)) {
    const chunk: number[] = [];
    let v = part;
    do {
      chunk.unshift(v & 0x7f);
      v = Math.floor(v / 128);
    } while (v > 0);
    for (let i = 0; i < chunk.length - 1; i++) chunk[i]! |= 0x80;
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050, seconds, Zulu. */
export function time(date: Date): Buffer {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  const year = date.getUTCFullYear();
  return year < 2050
    ? tlv(0x17, Buffer.from(digits.slice(2), 'ascii'))
    : tlv(0x18, Buffer.from(digits, 'ascii'));
}

export const NULL = Buffer.from([0x05, 0x00]);

const BOOLEAN_TRUE = Buffer.from([0x01, 0x01, 0xff]);

/** An X.509 Extension: its OID, the critical flag when set, the DER value wrapped in an OCTET STRING. */
export function extension(id: string, value: Buffer, critical = false): Buffer {
  return sequence(oid(id), ...(critical ? [BOOLEAN_TRUE] : []), octetString(value));
}

/** PEM armour: base64 in 64-character lines between BEGIN and END lines (no final newline). */
export function pem(der: Buffer, label: string): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----`;
}

export interface Tlv {
  tag: number;
  /** Offset of the tag byte. */
  start: number;
  /** Offset of the content. */
  contentStart: number;
  /** Offset just past the content. */
  end: number;
}

/** Reads one DER element at `offset`; throws on truncated or indefinite-length input. */
export function readTlv(buf: Buffer, offset: number): Tlv {
  if (offset + 2 > buf.length) throw new Error('truncated DER');
  const tag = buf[offset]!;
  let len = buf[offset + 1]!;
  let contentStart = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || contentStart + n > buf.length) throw new Error('unsupported DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[contentStart + i]!;
    contentStart += n;
  }
  const end = contentStart + len;
  if (end > buf.length) throw new Error('truncated DER');
  return { tag, start: offset, contentStart, end };
}

/** The exact bytes of a certificate's subject Name (so a CRL names its issuer byte for byte). */
export function certificateSubject(certDer: Buffer): Buffer {
  const cert = readTlv(certDer, 0);
  const tbs = readTlv(certDer, cert.contentStart);
  let field = readTlv(certDer, tbs.contentStart);
  if (field.tag === 0xa0) field = readTlv(certDer, field.end); // [0] version
  // serial, signature algorithm, issuer, validity, subject
  for (let i = 0; i < 4; i++) field = readTlv(certDer, field.end);
  return certDer.subarray(field.start, field.end);
}
