import { execFile } from 'node:child_process';
import https from 'node:https';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/**
 * POST /certs/renew over the HTTPS listener with curl, as a device does: authenticated by
 * its client certificate (`device`: the certificate and key files), trusting `serverCa`.
 */
export async function curlRenew(
  url: string,
  serverCa: string,
  body: unknown,
  device?: { cert: string; key: string },
): Promise<{ status: number; json: any }> {
  const args = ['-sS', '--max-time', '20', '--cacert', serverCa, '-o', '-', '-w', '\n%{http_code}'];
  if (device) args.push('--cert', device.cert, '--key', device.key);
  args.push(
    '-H',
    'content-type: application/json',
    '--data-binary',
    JSON.stringify(body),
    `${url}/certs/renew`,
  );
  const { stdout } = await execFileAsync('curl', args, { encoding: 'utf8' });
  const cut = stdout.lastIndexOf('\n');
  const text = stdout.slice(0, cut);
  return { status: Number(stdout.slice(cut + 1)), json: text ? JSON.parse(text) : undefined };
}

/** fetch over HTTPS trusting `ca` (the test server's self-signed certificate), for the operator's requests. */
export function tlsFetch(ca: Buffer): typeof fetch {
  return (async (input: string | URL, init: RequestInit = {}) => {
    const url = new URL(String(input));
    const body = init.body as string | Buffer | undefined;
    // Node frames a DELETE's body only with a length (no chunked encoding by default).
    const headers = {
      ...(init.headers as Record<string, string>),
      ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }),
    };
    return new Promise<Response>((resolve, reject) => {
      const req = https.request(url, { method: init.method ?? 'GET', headers, ca, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers.set(k, v);
          const body = Buffer.concat(chunks);
          resolve(new Response(body.length > 0 ? body : null, { status: res.statusCode ?? 0, headers }));
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  }) as typeof fetch;
}
