import assert from 'node:assert/strict';
import type { NewChannel, NewThing } from '../../sdk/src/index.js';
import type { Reply, Request } from './server.js';

/** Helpers shared by the things, channels, connections and identify tests. */

export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export interface ThingView {
  id: string;
  name?: string;
  key: string;
  metadata?: Record<string, unknown>;
}

export interface ChannelView {
  id: string;
  name?: string;
  metadata?: Record<string, unknown>;
}

/** An error reply as every service must send it: the status, JSON, `{"error":"<message>"}`. */
export function assertError(reply: Reply, status: number, message?: string): void {
  assert.equal(reply.status, status, `expected ${status}, got ${reply.status}: ${reply.text}`);
  assert.match(reply.headers.get('content-type') ?? '', /^application\/json/, `content-type of a ${status}`);
  assert.equal(typeof reply.json, 'object', `body of a ${status} is JSON: ${reply.text}`);
  assert.deepEqual(Object.keys(reply.json), ['error'], `body of a ${status}: ${reply.text}`);
  assert.equal(typeof reply.json.error, 'string');
  assert.ok(reply.json.error.length > 0, 'error message is not empty');
  if (message !== undefined) assert.equal(reply.json.error, message);
}

/** A success with an empty body that still says it is JSON. */
export function assertEmpty(reply: Reply, status: number): void {
  assert.equal(reply.status, status, `expected ${status}, got ${reply.status}: ${reply.text}`);
  assert.equal(reply.text, '');
}

/*
 * Set-up goes through the SDK (its traffic recorded for the contract check); a refusal
 * throws its TethysError. Tests of these operations' wire send raw requests.
 */

export async function createThings(
  request: Request,
  token: string,
  specs: Record<string, unknown>[],
): Promise<ThingView[]> {
  return (await request.sdk(token).things.createMany(specs as NewThing[])) as ThingView[];
}

export async function createThing(
  request: Request,
  token: string,
  spec: Record<string, unknown> = {},
): Promise<ThingView> {
  const [thing] = await createThings(request, token, [spec]);
  return thing!;
}

export async function createChannels(
  request: Request,
  token: string,
  specs: Record<string, unknown>[],
): Promise<ChannelView[]> {
  return (await request.sdk(token).channels.createMany(specs as NewChannel[])) as ChannelView[];
}

export async function createChannel(
  request: Request,
  token: string,
  spec: Record<string, unknown> = {},
): Promise<ChannelView> {
  const [channel] = await createChannels(request, token, [spec]);
  return channel!;
}

export async function connect(
  request: Request,
  token: string,
  channelIds: string[],
  thingIds: string[],
): Promise<void> {
  await request.sdk(token).connect(channelIds, thingIds);
}

/** `GET path` (a list) and its page, asserting a 200. */
export async function page(request: Request, token: string, path: string): Promise<any> {
  const reply = await request('GET', path, { token });
  assert.equal(reply.status, 200, `GET ${path}: ${reply.text}`);
  return reply.json;
}

/** Every item of a list, paged through with limit 100. */
export async function listAll(
  request: Request,
  token: string,
  path: string,
  key: 'things' | 'channels',
): Promise<any[]> {
  const out: any[] = [];
  const sep = path.includes('?') ? '&' : '?';
  for (let offset = 0; ; offset += 100) {
    const p = await page(request, token, `${path}${sep}offset=${offset}&limit=100`);
    out.push(...p[key]);
    if (p[key].length < 100) {
      assert.equal(out.length, p.total, `${path}: paged items = total`);
      return out;
    }
  }
}

export const ids = (items: { id: string }[]) => items.map((i) => i.id);
export const sorted = (values: string[]) => [...values].sort();

export const q = (value: unknown) =>
  encodeURIComponent(typeof value === 'string' ? value : JSON.stringify(value));

/** `n` things (t0, t1, …) and one channel they are all connected to. */
export async function connectedGroup(
  request: Request,
  token: string,
  n: number,
): Promise<{ channel: string; things: ThingView[] }> {
  const things = await createThings(
    request,
    token,
    Array.from({ length: n }, (_, i) => ({ name: `t${i}` })),
  );
  const channel = (await createChannel(request, token, { name: 'c' })).id;
  await connect(
    request,
    token,
    [channel],
    things.map((t) => t.id),
  );
  return { channel, things };
}
