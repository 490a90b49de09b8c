import http from 'node:http';
import https from 'node:https';

/**
 * A `fetch` for the SDK over node:http and node:https, for what the global fetch cannot
 * do without undici's Agent: present a TLS client certificate (a device of an x509
 * enrollment group proves itself with it) and trust a CA of the command line's (a
 * server with a self-signed certificate). It takes what the SDK sends (a string or
 * bytes as the body, plain headers, a signal) and answers a WHATWG `Response`.
 */
export interface TlsOptions {
  /** PEM: CAs trusted for the server's certificate instead of the system's. */
  ca?: string;
  /** PEM: the client certificate (with its chain, leaf first) and its private key. */
  cert?: string;
  key?: string;
}

/** Answers that carry no body, whatever the server sent (the Response constructor refuses one). */
const NO_BODY = new Set([101, 204, 205, 304]);

export function tlsFetch(tls: TlsOptions): typeof fetch {
  return (input, init = {}) =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const body = init.body;
      if (body !== undefined && body !== null && typeof body !== 'string' && !(body instanceof Uint8Array)) {
        reject(new TypeError('tlsFetch sends only a string or bytes as the body'));
        return;
      }
      const headers = Object.fromEntries(new Headers(init.headers).entries());
      const options: https.RequestOptions = {
        method: init.method ?? 'GET',
        headers,
        signal: init.signal ?? undefined,
        ...(url.protocol === 'https:' ? tls : {}),
      };
      const request = (url.protocol === 'https:' ? https : http).request(url, options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const answer = new Headers();
          for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
            answer.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
          }
          const status = res.statusCode ?? 0;
          resolve(
            new Response(NO_BODY.has(status) ? null : Buffer.concat(chunks), {
              status,
              statusText: res.statusMessage ?? '',
              headers: answer,
            }),
          );
        });
      });
      request.on('error', reject);
      request.end(body ?? undefined);
    });
}
