/// <reference path="./autocannon.d.ts" />
import autocannon from 'autocannon';

/** One bounded HTTP load: what to send, for how long, and what counts as success. */
export interface LoadSpec {
  url: string;
  connections: number;
  /** Seconds; the load stops by itself. */
  duration: number;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
  headers?: Record<string, string>;
  /** Fixed request (path and body); `setupRequest` may change both for every request. */
  path: string;
  body?: string;
  setupRequest?: autocannon.Request['setupRequest'];
  /**
   * Requests that differ only in headers (say, one thing key each), sent in turn on every
   * connection. autocannon builds each one once, where a `setupRequest` rebuilds the
   * request (and makes an id) every time: about a third of the generator's CPU a
   * request on the message adapter's load, on the same two cores as the server.
   */
  headerVariants?: Record<string, string>[];
  /** The status a successful response has; anything else is flagged. */
  okStatus: number;
  /** Items one successful request creates or handles (bulk: things per request). */
  itemsPerRequest?: number;
  /** Requests a second over all connections (open loop); without it each connection sends as fast as it is answered. */
  overallRate?: number;
  /** Called with every response's status and latency (ms). */
  onResponse?: (status: number, ms: number) => void;
}

export interface LoadResult {
  okStatus: number;
  seconds: number;
  responses: number;
  ok: number;
  /** Responses with a status other than okStatus (not only non-2xx). */
  notOk: number;
  non2xx: number;
  /** Connection errors and timeouts. */
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  /** Successful requests per second. */
  okPerSecond: number;
  /** Successful items per second (okPerSecond × itemsPerRequest). */
  itemsPerSecond: number;
  p50: number;
  p99: number;
  max: number;
}

let current: autocannon.Instance | null = null;

/** Stops the load in progress, if any (on Ctrl-C); its results are still reported. */
export function stopCurrentLoad(): void {
  current?.stop();
}

function requestsOf(spec: LoadSpec): autocannon.Request[] {
  const request = {
    method: spec.method,
    path: spec.path,
    ...(spec.body === undefined ? {} : { body: spec.body }),
    ...(spec.setupRequest ? { setupRequest: spec.setupRequest } : {}),
  };
  if (!spec.headerVariants) return [request];
  if (spec.setupRequest) throw new Error('a load takes headerVariants or setupRequest, not both');
  return spec.headerVariants.map((headers) => ({ ...request, headers: { ...spec.headers, ...headers } }));
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    current = autocannon(
      {
        url: spec.url,
        connections: spec.connections,
        duration: spec.duration,
        // A request slower than this counts as a timeout error, and the load still ends in time.
        timeout: 30,
        headers: spec.headers,
        // An explicit `setupRequest: undefined` would replace autocannon's default and fail.
        requests: requestsOf(spec),
        ...(spec.overallRate ? { overallRate: spec.overallRate } : {}),
      },
      (err, res) => {
        current = null;
        if (err) reject(err);
        else resolve(res);
      },
    );
    const onResponse = spec.onResponse;
    if (onResponse) {
      current.on('response', (_client: unknown, status: number, _bytes: number, ms: number) =>
        onResponse(status, ms),
      );
    }
  });
  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {}))
    statusCodes[code] = Number(stat.count);
  const responses = Object.values(statusCodes).reduce((a, b) => a + b, 0);
  const ok = statusCodes[String(spec.okStatus)] ?? 0;
  const seconds = result.duration;
  return {
    okStatus: spec.okStatus,
    seconds,
    responses,
    ok,
    notOk: responses - ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    okPerSecond: ok / seconds,
    itemsPerSecond: (ok * (spec.itemsPerRequest ?? 1)) / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
  };
}
