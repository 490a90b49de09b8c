import fs from 'node:fs';
import { InputError, UsageError } from './run.js';

/**
 * The files client commands read (layouts, requests, certificates) and write (--out:
 * certificates, keys, configs), with failures worded for the command line.
 */

/** A text file the command needs; missing or unreadable is an InputError (nothing sent). */
export function readInput(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`${file}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
}

/** A PEM file holding at least one block of this label (`CERTIFICATE`, `CERTIFICATE REQUEST`, …). */
export function readPem(file: string, label: string, what: string): string {
  const text = readInput(file);
  if (!text.includes(`-----BEGIN ${label}-----`)) {
    throw new InputError(`${file}: not ${what} (-----BEGIN ${label}-----)`);
  }
  return text;
}

/** A private key PEM file (PKCS#8, PKCS#1 or SEC 1). */
export function readPrivateKey(file: string): string {
  const text = readInput(file);
  if (!/-----BEGIN (RSA |EC |ENCRYPTED )?PRIVATE KEY-----/.test(text)) {
    throw new InputError(`${file}: not a PEM private key (-----BEGIN PRIVATE KEY-----)`);
  }
  return text;
}

/** A thing id used as a file name must not leave the folder. */
export function fileStem(id: string): string {
  if (!id || id === '.' || id === '..' || /[/\\\0]/.test(id)) {
    throw new InputError(`the answer holds a thing id unusable as a file name: ${JSON.stringify(id)}`);
  }
  return id;
}

/** --out <dir>: a folder, made (0700) when missing, before anything is sent. */
export function prepareOutDir(dir: string): string {
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new InputError(`${dir}: ${(err as Error).message}`);
  }
  if (stat && !stat.isDirectory()) throw new UsageError(`--out ${dir}: not a folder`);
  if (!stat) {
    try {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new InputError(`${dir}: cannot make the folder: ${(err as Error).message}`);
    }
  }
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch {
    throw new InputError(`${dir}: not writable`);
  }
  return dir;
}

/** Writes a file; private keys get mode 0600 (also when the file was there before). */
export function writeOut(file: string, content: string | Uint8Array, secret = false): void {
  try {
    if (!secret) {
      fs.writeFileSync(file, content);
      return;
    }
    const fd = fs.openSync(file, 'w', 0o600);
    try {
      fs.fchmodSync(fd, 0o600);
      fs.writeFileSync(fd, content);
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    throw new InputError(`${file}: cannot write: ${(err as Error).message}`);
  }
}

/** PEM text ends with a newline in the file, whatever the server sent. */
export const pemFile = (pem: string) => (pem.endsWith('\n') ? pem : `${pem}\n`);
