import { useEffect, useState } from 'preact/hooks';

/**
 * The login token lives in sessionStorage: it survives a reload of the tab but not the
 * tab itself, and other tabs do not share it. A 401/403 to a call made with the token
 * ends the session (api.ts) and the login page says why.
 */

export interface Session {
  token: string;
  email: string;
}

const STORAGE_KEY = 'tethys.session';
const listeners = new Set<() => void>();
let notice = '';

function read(): Session | null {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Session;
    return typeof s.token === 'string' && s.token ? s : null;
  } catch {
    return null;
  }
}

let current: Session | null = read();
let expiryTimer: ReturnType<typeof setTimeout> | undefined;

function changed(): void {
  clearTimeout(expiryTimer);
  const exp = current ? tokenExpiry(current.token) : null;
  // Say so when the token runs out, rather than at the next failed click.
  if (exp !== null) {
    const ms = exp * 1000 - Date.now();
    if (ms < 2 ** 31 - 1) {
      expiryTimer = setTimeout(
        () => signOut('Your session has expired (login tokens last 10 hours). Please log in again.'),
        Math.max(0, ms),
      );
    }
  }
  for (const l of listeners) l();
}

export function currentSession(): Session | null {
  return current;
}

export function signIn(session: Session): void {
  current = session;
  notice = '';
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
  changed();
}

/** Ends the session; `message` is shown on the login page. */
export function signOut(message = ''): void {
  current = null;
  notice = message;
  sessionStorage.removeItem(STORAGE_KEY);
  changed();
}

/** The message left by the last sign-out (expired token, signed out), read once. */
export function takeNotice(): string {
  const n = notice;
  notice = '';
  return n;
}

/** Seconds since the epoch at which the token expires (its `exp`), when it says. */
export function tokenExpiry(token: string): number | null {
  try {
    const part = token.split('.')[1];
    if (!part) return null;
    const json = JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/')));
    return typeof json.exp === 'number' ? json.exp : null;
  } catch {
    return null;
  }
}

export function useSession(): Session | null {
  const [, setTick] = useState(0);
  useEffect(() => {
    const l = () => setTick((t) => t + 1);
    listeners.add(l);
    return () => {
      listeners.delete(l);
    };
  }, []);
  return current;
}

changed();
