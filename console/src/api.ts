/**
 * The console's client is the SDK (sdk/), for the origin the console was loaded from
 * (Mainflux 0.12 paths). What the console adds sits around the SDK's fetch: answers are
 * never taken from the browser's cache, and a 401/403 to a call made with the session
 * token ends the session (the token expired or was revoked). Failures are put in words
 * here too: what the status means, then the server's own message.
 */
import { Tethys, TethysError, TethysNetworkError } from '@tethys/sdk';
import { currentSession, signOut } from './session.ts';

export type EntityKind = 'things' | 'channels';

/** The client of the current session; its calls are cancelled when `signal` aborts. */
export function api(signal?: AbortSignal): Tethys {
  return new Tethys({ url: location.origin, token: currentSession()?.token, fetch: consoleFetch, signal });
}

async function consoleFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const res = await fetch(input, { ...init, cache: 'no-store' });
  const token = currentSession()?.token;
  if (
    (res.status === 401 || res.status === 403) &&
    token &&
    new Headers(init?.headers).get('authorization') === token
  ) {
    const body: unknown = await res
      .clone()
      .json()
      .catch(() => null);
    const detail = (body as { error?: unknown } | null)?.error;
    signOut(
      `Your session has ended: the server refused the login token (${describe(res.status, typeof detail === 'string' ? detail : '')}). It may have expired (tokens last 10 hours) or been revoked. Please log in again.`,
    );
  }
  return res;
}

const STATUS_WORDS: Record<number, string> = {
  400: 'Bad request',
  401: 'Not signed in',
  403: 'Not allowed',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Conflict',
  413: 'Too large',
  415: 'Unsupported content type',
  429: 'Too many requests',
  500: 'Server error',
  502: 'Bad gateway',
  503: 'Service unavailable',
};

function describe(status: number, detail: string): string {
  const words = STATUS_WORDS[status] ?? `HTTP ${status}`;
  return detail ? `${words} (${status}): ${detail}` : `${words} (${status})`;
}

/** The words for a failure of a call, or undefined when it is not one. */
export function failureText(error: unknown): string | undefined {
  if (error instanceof TethysError) return describe(error.status, error.message);
  if (error instanceof TethysNetworkError)
    return `The server could not be reached (${error.reason}). Check that it is running.`;
  return undefined;
}

/** What `call` answers, or null when the server answers 404 (not there, or not yours). */
export async function orMissing<T>(call: Promise<T>): Promise<T | null> {
  try {
    return await call;
  } catch (err) {
    if (err instanceof TethysError && err.status === 404) return null;
    throw err;
  }
}
