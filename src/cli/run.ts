import { type Command, InvalidArgumentError } from 'commander';
import { Tethys, TethysError, TethysNetworkError } from '../../sdk/src/index.js';

/**
 * How client commands run and fail. Exit codes: 0 success; 1 the request failed (HTTP
 * error, unreachable server) or an input file is unusable; 2 the command line is wrong
 * (commander's usage errors included), in which case nothing was sent.
 */

export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** The command line is wrong; nothing was sent. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** An input file cannot be read or is not what the command expects; nothing was sent. */
export class InputError extends Error {
  override name = 'InputError';
}

/** Failure already reported on stderr by the command itself; only the exit code is left to set. */
export class ReportedFailure extends Error {
  constructor(readonly exitCode: number) {
    super('reported');
  }
}

export interface ConnectionOptions {
  url: string;
  token?: string;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printError(message: string): void {
  process.stderr.write(`error: ${message}\n`);
}

export function describeError(err: unknown): { message: string; exitCode: number } {
  // A failed request in one line: `404 non-existent entity (GET /things/…)`, `cannot reach …`.
  if (err instanceof TethysError || err instanceof TethysNetworkError) {
    return { message: err.summary, exitCode: EXIT_FAILED };
  }
  if (err instanceof InputError) return { message: err.message, exitCode: EXIT_FAILED };
  if (err instanceof UsageError) return { message: err.message, exitCode: EXIT_USAGE };
  return {
    message: `unexpected failure: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
    exitCode: EXIT_FAILED,
  };
}

export function apiFor(options: ConnectionOptions, needsToken: boolean): Tethys {
  const token = options.token?.trim();
  if (needsToken && !token) {
    throw new UsageError(
      'this command needs a token: pass --token <token> or set TETHYS_TOKEN (get one with `tethys users token <email> <password>`)',
    );
  }
  // Mainflux expects the raw token, no scheme (API.md §0.2); the SDK sends it so.
  return new Tethys({ url: options.url, token: token || undefined });
}

/**
 * Wraps a command's work: builds the SDK client from --url/--token, reports any failure
 * as one `error: ...` line on stderr and sets the exit code (the process ends by itself,
 * so stdout is flushed).
 */
export function handler<A extends unknown[]>(
  needsToken: boolean,
  work: (api: Tethys, args: A, options: Record<string, any>) => Promise<void>,
): (...params: unknown[]) => Promise<void> {
  return async (...params: unknown[]) => {
    const command = params[params.length - 1] as Command;
    const options = command.opts();
    const args = params.slice(0, -2) as A;
    // `tethys things list | head` closes the pipe early: that is not an error.
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
    try {
      await work(apiFor(options as ConnectionOptions, needsToken), args, options);
    } catch (err) {
      if (err instanceof ReportedFailure) {
        process.exitCode = err.exitCode;
        return;
      }
      const { message, exitCode } = describeError(err);
      printError(message);
      process.exitCode = exitCode;
    }
  };
}

/** Usage errors exit 2 (commander's default is 1); help and --version still exit 0. */
export function usageExitCodes(command: Command): void {
  command.exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE));
  for (const sub of command.commands) usageExitCodes(sub);
}

// Parsers for arguments and option values: a bad value is a usage error, reported by
// commander before anything is sent.

export function jsonObjectArg(value: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (err) {
    throw new InvalidArgumentError(`Not valid JSON: ${(err as Error).message}.`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InvalidArgumentError('Expected a JSON object, like \'{"name":"x","metadata":{}}\'.');
  }
  return parsed as Record<string, unknown>;
}

export function uintArg(value: string): number {
  if (!/^\d{1,15}$/.test(value)) throw new InvalidArgumentError('Expected a whole number ≥ 0.');
  return Number(value);
}

export function positiveIntArg(value: string): number {
  const n = uintArg(value);
  if (n === 0) throw new InvalidArgumentError('Expected a whole number ≥ 1.');
  return n;
}

export function intArg(value: string): number {
  if (!/^-?\d{1,15}$/.test(value)) throw new InvalidArgumentError('Expected a whole number.');
  return Number(value);
}

export function urlArg(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('Expected an http(s) URL like http://localhost:9000.');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidArgumentError('Expected an http(s) URL like http://localhost:9000.');
  }
  return value;
}

/** `a,b, c` → [a, b, c]; an empty item is a usage error. */
export function idListArg(value: string): string[] {
  const ids = value.split(',').map((s) => s.trim());
  if (ids.some((id) => id === ''))
    throw new InvalidArgumentError('Expected comma-separated ids, none empty.');
  return ids;
}
