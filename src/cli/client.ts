/**
 * The CLI's HTTP client: JSON in, JSON out, every failure a typed error that says what
 * was asked (method and path) and what went wrong, so commands can print it in one line.
 */

/** The server answered with a status ≥ 400. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    /** The server's `{"error": ...}` message, or the raw body, or the status text. */
    readonly detail: string,
    readonly method: string,
    readonly path: string,
  ) {
    super(`${status} ${detail} (${method} ${path})`);
    this.name = 'HttpError';
  }
}

/** No HTTP answer at all: connection refused, DNS failure, reset, TLS failure. */
export class NetworkError extends Error {
  constructor(
    readonly base: string,
    readonly method: string,
    readonly path: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot reach ${base}: ${reason} (${method} ${path})`, options);
    this.name = 'NetworkError';
  }
}

export interface Reply {
  status: number;
  headers: Headers;
  /** The parsed JSON body; undefined when the body is empty. */
  body: unknown;
}

export type QueryValue = string | number | boolean | undefined;

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, QueryValue>;
  /** Answer the body as bytes (a Buffer), not parsed: encrypted or DER answers. Errors are still parsed. */
  binary?: boolean;
}

export class ApiClient {
  readonly base: string;

  constructor(
    base: string,
    private readonly token?: string,
  ) {
    this.base = base.replace(/\/+$/, '');
  }

  async request(method: string, path: string, options: RequestOptions = {}): Promise<Reply> {
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) search.set(name, String(value));
    }
    const qs = search.toString();
    const target = qs ? `${path}?${qs}` : path;
    const headers: Record<string, string> = { accept: 'application/json' };
    // Mainflux expects the raw token, no scheme (API.md §0.2).
    if (this.token) headers.authorization = this.token;
    let payload: string | undefined;
    if (options.body !== undefined) {
      payload = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }

    let res: Response;
    let bytes: Buffer;
    try {
      res = await fetch(this.base + target, { method, headers, body: payload });
      bytes = Buffer.from(await res.arrayBuffer());
    } catch (err) {
      throw new NetworkError(this.base, method, target, networkReason(err), { cause: err });
    }
    if (options.binary && res.status < 400) return { status: res.status, headers: res.headers, body: bytes };
    const text = bytes.toString('utf8');

    let body: unknown;
    if (text.length > 0) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    if (res.status >= 400) throw new HttpError(res.status, errorDetail(res, body), method, target);
    return { status: res.status, headers: res.headers, body };
  }

  get(path: string, query?: Record<string, QueryValue>): Promise<Reply> {
    return this.request('GET', path, { query });
  }

  post(path: string, body: unknown): Promise<Reply> {
    return this.request('POST', path, { body });
  }

  put(path: string, body?: unknown): Promise<Reply> {
    return this.request('PUT', path, { body });
  }

  delete(path: string, body?: unknown): Promise<Reply> {
    return this.request('DELETE', path, { body });
  }

  /** POST a create request and return the new id from `Location` (`/things/<id>`). */
  async create(path: string, body: unknown): Promise<string> {
    const reply = await this.post(path, body);
    const location = reply.headers.get('location') ?? '';
    const id = location.slice(location.lastIndexOf('/') + 1);
    if (!id) throw new HttpError(reply.status, 'the answer has no Location header', 'POST', path);
    return decodeURIComponent(id);
  }
}

/** Path segment from user input: an id with `/` or `?` must not change the route. */
export const seg = (value: string): string => encodeURIComponent(value);

function errorDetail(res: Response, body: unknown): string {
  if (body && typeof body === 'object' && typeof (body as { error?: unknown }).error === 'string') {
    return (body as { error: string }).error;
  }
  if (typeof body === 'string' && body.trim()) return body.trim().split('\n')[0]!.slice(0, 200);
  return res.statusText || 'error';
}

/** undici wraps the real reason (ECONNREFUSED, ENOTFOUND, ...) in `cause`. */
function networkReason(err: unknown): string {
  let e: unknown = err;
  const seen = new Set<unknown>();
  while (e && typeof e === 'object' && !seen.has(e)) {
    seen.add(e);
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && code !== 'UND_ERR_SOCKET') {
      return typeof message === 'string' && message && !message.includes(code)
        ? `${code} ${message}`
        : String(message || code);
    }
    const cause = (e as { cause?: unknown }).cause;
    if (!cause) return typeof message === 'string' && message ? message : String(e);
    e = cause;
  }
  return String(err);
}
