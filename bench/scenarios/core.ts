import { formatInt } from '../format.js';
import type { BenchContext, Scenario, ScenarioLoad } from './types.js';

/**
 * The core scenarios: things, listing, connections, the access check and login. Each
 * request that must differ from the others (names, offsets, pairs) is built by
 * `setupRequest` from a counter or a random number, in the harness process.
 */

const json = { 'content-type': 'application/json' };
const auth = (token: string) => ({ ...json, authorization: token });
const randomInt = (n: number) => Math.floor(Math.random() * n);

/** 1. POST /things, one thing a request; the server generates the key. */
export const createThing: Scenario = {
  id: 'create',
  insertsThings: true,
  title: 'POST /things (single create)',
  stage: 'full',
  connections: 32,
  unit: 'req/s',
  target: { minThroughput: 2500, maxP99Ms: 40 },
  reference: '323 req/s, p99 320 ms',
  async prepare(ctx) {
    let n = 0;
    return {
      method: 'POST',
      path: '/things',
      headers: auth(ctx.writer.token),
      okStatus: 201,
      setupRequest: (req) => ({ ...req, body: JSON.stringify({ name: `bench-single-${n++}` }) }),
    };
  },
};

/** 2. POST /things/bulk with 100 things a request. */
export const createThingsBulk: Scenario = {
  id: 'bulk',
  insertsThings: true,
  title: 'POST /things/bulk (100 things a request)',
  stage: 'full',
  connections: 8,
  unit: 'things/s',
  target: { minThroughput: 25_000 },
  reference: '3,750 things/s',
  async prepare(ctx) {
    let n = 0;
    return {
      method: 'POST',
      path: '/things/bulk',
      headers: auth(ctx.writer.token),
      okStatus: 201,
      itemsPerRequest: 100,
      setupRequest: (req) => {
        const batch = n++;
        const things = Array.from({ length: 100 }, (_, j) => ({
          name: `bench-bulk-${batch}-${j}`,
          metadata: { serial: `b${batch}-${j}`, batch },
        }));
        return { ...req, body: JSON.stringify(things) };
      },
    };
  },
};

async function pageLoad(ctx: BenchContext): Promise<ScenarioLoad> {
  const total = ctx.seeded;
  const first = await ctx.api.listThings(ctx.main.token, { offset: 0, limit: 100 });
  if (first.total !== total || first.things.length !== Math.min(100, total)) {
    throw new Error(
      `GET /things: expected total ${total} and a full page, got total ${first.total}, ${first.things.length} things`,
    );
  }
  const maxOffset = Math.max(0, total - 100);
  return {
    method: 'GET',
    path: '/things?offset=0&limit=100',
    headers: { authorization: ctx.main.token },
    okStatus: 200,
    setupRequest: (req) => ({ ...req, path: `/things?offset=${randomInt(maxOffset + 1)}&limit=100` }),
  };
}

/** 3a. A page of 100 at a random offset, at the checkpoint size (100k). */
export const pageAtCheckpoint: Scenario = {
  id: 'page-checkpoint',
  title: 'GET /things?offset=<random>&limit=100 at {things} things',
  stage: 'checkpoint',
  connections: 16,
  unit: 'req/s',
  target: { minThroughput: 300, maxP99Ms: 150 },
  reference: '11 req/s, p99 1.9 s (at 100k)',
  prepare: pageLoad,
};

/** 3b. The same at the full size (1M). */
export const pageAtFull: Scenario = {
  id: 'page',
  title: 'GET /things?offset=<random>&limit=100 at {things} things',
  stage: 'full',
  connections: 16,
  unit: 'req/s',
  target: { minThroughput: 100, maxP99Ms: 300 },
  prepare: pageLoad,
};

/** 4. Metadata containment filter with exactly one match. */
export const metadataFilter: Scenario = {
  id: 'filter',
  title: 'GET /things?metadata={"serial":"s<random>"} (one match) at {things} things',
  stage: 'full',
  connections: 16,
  unit: 'req/s',
  target: { minThroughput: 2000, maxP99Ms: 30 },
  reference: '21 req/s, p99 1 s (at 100k)',
  async prepare(ctx) {
    const total = ctx.seeded;
    const filter = (i: number) => ({ serial: `s${i}` });
    const query = (i: number) => `metadata=${encodeURIComponent(JSON.stringify(filter(i)))}`;
    for (const i of [0, total - 1, randomInt(total)]) {
      const page = await ctx.api.listThings(ctx.main.token, { metadata: filter(i) });
      if (page.total !== 1 || page.things.length !== 1) {
        throw new Error(
          `metadata filter serial s${i}: expected exactly one match, got total ${page.total}, ${page.things.length} things`,
        );
      }
    }
    return {
      method: 'GET',
      path: `/things?${query(0)}`,
      headers: { authorization: ctx.main.token },
      okStatus: 200,
      setupRequest: (req) => ({ ...req, path: `/things?${query(randomInt(total))}` }),
    };
  },
};

/** 5. PUT /channels/{c}/things/{t}: every request connects a pair not connected before. */
function connectScenario(): Scenario {
  let walked = 0;
  let capacity = 0;
  return {
    id: 'connect',
    title: 'PUT /channels/{c}/things/{t} (a new pair each request)',
    stage: 'full',
    connections: 16,
    unit: 'req/s',
    target: { minThroughput: 2500 },
    reference: '330 req/s',
    async prepare(ctx) {
      const things = ctx.kept.all().map((t) => t.id);
      const channels = ctx.channels;
      capacity = things.length * channels.length;
      walked = 0;
      return {
        method: 'PUT',
        path: `/channels/${channels[0]}/things/${things[0]}`,
        headers: { authorization: ctx.main.token },
        okStatus: 200,
        // Thing-major walk: consecutive requests use different things of one channel,
        // so concurrent requests never insert the same pair.
        setupRequest: (req) => {
          const n = walked++ % capacity;
          const thing = things[n % things.length];
          const channel = channels[Math.floor(n / things.length)];
          return { ...req, path: `/channels/${channel}/things/${thing}` };
        },
      };
    },
    afterLoad() {
      return walked > capacity
        ? [
            `ran out of new pairs: ${formatInt(walked)} requests for ${formatInt(capacity)} pairs (the rest answer 409)`,
          ]
        : [];
    },
  };
}
export const connectPair = connectScenario();

/** 6. The access check message adapters make for every message. */
export const accessByKey: Scenario = {
  id: 'access',
  title: 'POST /identify/channels/{c}/access-by-key (connected pair)',
  stage: 'full',
  connections: 32,
  unit: 'req/s',
  async prepare(ctx) {
    const things = ctx.accessThings;
    const path = `/identify/channels/${ctx.accessChannel}/access-by-key`;
    const answer = await ctx.api.call('POST', path, { body: { token: things[0]!.key } });
    if (answer?.id !== things[0]!.id)
      throw new Error(`access-by-key: expected id ${things[0]!.id}, got ${JSON.stringify(answer)}`);
    const bodies = things.map((t) => JSON.stringify({ token: t.key }));
    return {
      method: 'POST',
      path,
      headers: json,
      okStatus: 200,
      setupRequest: (req) => ({ ...req, body: bodies[randomInt(bodies.length)] }),
    };
  },
};

/** 7. Login: one argon2id verification a request, at the server's default cost. */
export const login: Scenario = {
  id: 'login',
  title: 'POST /tokens (login, argon2id at default cost)',
  stage: 'full',
  connections: 8,
  unit: 'req/s',
  target: { minThroughput: 50 },
  reference: '23 req/s',
  async prepare(ctx) {
    return {
      method: 'POST',
      path: '/tokens',
      headers: json,
      body: JSON.stringify({ email: ctx.main.email, password: ctx.main.password }),
      okStatus: 201,
    };
  },
};

/** In the order they run within their stage. */
export const coreScenarios: Scenario[] = [
  pageAtCheckpoint,
  pageAtFull,
  metadataFilter,
  connectPair,
  accessByKey,
  createThing,
  createThingsBulk,
  login,
];
