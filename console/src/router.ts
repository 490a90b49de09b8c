import { useEffect, useState } from 'preact/hooks';

/**
 * Hash routing (`#/things/<id>?offset=20`): console routes never reach the server, so
 * they cannot clash with API paths, and the server needs no fallback route.
 */

export interface Route {
  path: string;
  query: URLSearchParams;
}

export function parseHash(hash: string = location.hash): Route {
  const raw = hash.replace(/^#/, '') || '/';
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  return {
    path: path.startsWith('/') ? path : `/${path}`,
    query: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)),
  };
}

export function href(path: string, query?: Record<string, string | number | undefined | null>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v === undefined || v === null || v === '') continue;
    params.set(k, String(v));
  }
  const s = params.toString();
  return `#${path}${s ? `?${s}` : ''}`;
}

export function navigate(
  path: string,
  query?: Record<string, string | number | undefined | null>,
  replace = false,
): void {
  const target = href(path, query);
  if (replace) history.replaceState(null, '', target);
  else history.pushState(null, '', target);
  window.dispatchEvent(new HashChangeEvent('hashchange'));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(parseHash);
  useEffect(() => {
    const update = () => setRoute(parseHash());
    window.addEventListener('hashchange', update);
    window.addEventListener('popstate', update);
    return () => {
      window.removeEventListener('hashchange', update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return route;
}

/** `/things/:id` against `/things/abc` → { id: 'abc' }, or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/');
  const s = path.split('/');
  if (p.length !== s.length) return null;
  const out: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    const a = p[i]!;
    const b = s[i]!;
    if (a.startsWith(':')) {
      if (!b) return null;
      out[a.slice(1)] = decodeURIComponent(b);
    } else if (a !== b) return null;
  }
  return out;
}

/** The page of a list from the URL (`?offset=20&limit=25`): back, forward and links keep it. */
export function pageOf(query: URLSearchParams, size: number): { offset: number; limit: number } {
  const num = (k: string, d: number) => {
    const n = Number.parseInt(query.get(k) ?? '', 10);
    return Number.isFinite(n) && n >= 0 ? n : d;
  };
  return { offset: num('offset', 0), limit: Math.min(100, Math.max(1, num('limit', size))) };
}
