import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The machine's openssl as the independent judge of what the certs service produces:
 * a scratch folder for PEM files and a runner that returns stdout, or the failure.
 */
export interface Workdir {
  dir: string;
  /** Writes a file in the folder; returns its path. */
  file(name: string, content: string | Buffer): string;
  path(name: string): string;
  remove(): void;
}

export function workdir(): Workdir {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tethys-certs-'));
  return {
    dir,
    file(name, content) {
      const p = path.join(dir, name);
      fs.writeFileSync(p, content);
      return p;
    },
    path: (name) => path.join(dir, name),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** stdout of a successful openssl command; throws with stderr when it fails. */
export function openssl(...args: string[]): string {
  return execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The outcome of an openssl command that may fail (verify). */
export function opensslResult(...args: string[]): { ok: boolean; output: string } {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

/** The SubjectPublicKeyInfo PEM of a certificate, and of a private key: equal when they belong together. */
export function certPublicKey(certFile: string): string {
  return openssl('x509', '-in', certFile, '-noout', '-pubkey').trim();
}

export function keyPublicKey(keyFile: string): string {
  return openssl('pkey', '-in', keyFile, '-pubout').trim();
}

export function csrPublicKey(csrFile: string): string {
  return openssl('req', '-in', csrFile, '-noout', '-pubkey').trim();
}

export function certText(certFile: string): string {
  return openssl('x509', '-in', certFile, '-noout', '-text');
}

/** The subject's CN, as openssl prints it with RFC 2253 names. */
export function commonName(certFile: string): string {
  const subject = openssl('x509', '-in', certFile, '-noout', '-subject', '-nameopt', 'RFC2253').trim();
  const m = /CN=([^,]+)/.exec(subject);
  return m?.[1] ?? '';
}

/** notBefore / notAfter as dates. */
export function validity(certFile: string): { notBefore: Date; notAfter: Date } {
  const out = openssl('x509', '-in', certFile, '-noout', '-startdate', '-enddate');
  const start = /notBefore=(.+)/.exec(out)![1]!;
  const end = /notAfter=(.+)/.exec(out)![1]!;
  return { notBefore: new Date(start), notAfter: new Date(end) };
}

/** Serial as openssl prints it (uppercase hex), from the service's colon form. */
export const opensslSerial = (colonHex: string) => colonHex.replace(/:/g, '').toUpperCase();

export function certSerial(certFile: string): string {
  return openssl('x509', '-in', certFile, '-noout', '-serial')
    .trim()
    .replace(/^serial=/, '');
}

/** A new EC P-256 key and a PKCS#10 request for it (subject CN), in the work folder: their paths and the PEM. */
export function ecCsr(work: Workdir, cn: string): { key: string; csr: string; pem: string } {
  const key = work.path(`${cn}.key`);
  const csr = work.path(`${cn}.csr`);
  const args = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key];
  openssl('req', '-new', ...args, '-out', csr, '-subj', `/CN=${cn}`);
  return { key, csr, pem: openssl('req', '-in', csr) };
}

/** A self-signed EC P-256 certificate valid for a day, `<name>.crt` and `<name>.key` in the work folder. */
export function selfSigned(work: Workdir, name: string, subject: string, extra: string[] = []) {
  const cert = work.path(`${name}.crt`);
  const key = work.path(`${name}.key`);
  const args = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key];
  openssl('req', '-x509', ...args, '-out', cert, '-days', '1', '-subj', subject, ...extra);
  return { cert, key };
}

/**
 * `openssl req` making an EC P-256 key (no passphrase) in `keyFile`, and in `outFile`
 * either a CSR for it or, with `x509`, a self-signed certificate (a CA, or a server's
 * certificate for `ip`), with the subject `subject` (`/CN=…`).
 */
export function ecRequest(
  keyFile: string,
  outFile: string,
  subject: string,
  options: { x509?: boolean; days?: number; ip?: string } = {},
): void {
  openssl(
    'req',
    ...(options.x509 ? ['-x509', '-days', String(options.days ?? 1)] : ['-new']),
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    keyFile,
    '-out',
    outFile,
    '-subj',
    subject,
    ...(options.ip ? ['-addext', `subjectAltName=IP:${options.ip}`] : []),
  );
}

/** A certificate for a CSR, signed by a CA's certificate and key (openssl x509 -req). */
export function signCsr(csrFile: string, ca: { cert: string; key: string }, outFile: string, days = 1): void {
  openssl(
    'x509',
    '-req',
    '-in',
    csrFile,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-CAcreateserial',
    '-out',
    outFile,
    '-days',
    String(days),
  );
}
