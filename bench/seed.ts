import type { Api, CreatedThing } from './api.js';
import { formatDuration, formatInt } from './format.js';

export const SEED_BATCH = 1000;

export interface SeedResult {
  from: number;
  to: number;
  seconds: number;
  /** Things created per second over the whole step. */
  rate: number;
}

/**
 * Things the scenarios address by id or key (connections, the access check), by their
 * seeding index. Only the first few are kept: a million ids would weigh on the harness.
 */
export class KeptThings {
  readonly items: (CreatedThing | undefined)[];

  constructor(readonly size: number) {
    this.items = new Array(size);
  }

  take(index: number, created: CreatedThing[]): void {
    for (let i = 0; i < created.length && index + i < this.size; i++) this.items[index + i] = created[i];
  }

  all(): CreatedThing[] {
    return this.items.filter((t): t is CreatedThing => t !== undefined);
  }
}

/** The body of the seeding batch starting at thing `start`: serial s<i> is unique per account. */
export function seedBatch(
  start: number,
  count: number,
): { name: string; metadata: { serial: string; batch: number } }[] {
  return Array.from({ length: count }, (_, j) => ({
    name: `bench-${start + j}`,
    metadata: { serial: `s${start + j}`, batch: Math.floor((start + j) / SEED_BATCH) },
  }));
}

/**
 * Creates things [from, to) in the account THROUGH THE API: POST /things/bulk with 1000
 * things a request, `concurrency` requests in flight. Shows progress on stderr.
 */
export async function seedThings(
  api: Api,
  token: string,
  range: { from: number; to: number },
  options: { concurrency: number; keep?: KeptThings; label: string },
): Promise<SeedResult> {
  const { from, to } = range;
  const started = performance.now();
  let next = from;
  let done = 0;
  const total = to - from;
  let lastPrint = 0;
  const tty = process.stderr.isTTY;
  const progress = (final = false) => {
    const now = performance.now();
    if (!final && now - lastPrint < (tty ? 500 : 5000)) return;
    lastPrint = now;
    const secs = (now - started) / 1000;
    const rate = done / Math.max(secs, 0.001);
    const eta = rate > 0 ? (total - done) / rate : 0;
    const line = `  seeding ${options.label}: ${formatInt(from + done)} / ${formatInt(to)} things, ${formatInt(rate)} things/s${final ? `, ${formatDuration(secs)}` : `, ETA ${formatDuration(eta)}`}`;
    if (tty) process.stderr.write(`\r${line.padEnd(100)}${final ? '\n' : ''}`);
    else process.stderr.write(`${line}\n`);
  };

  let failed = false;
  const worker = async () => {
    while (next < to && !failed) {
      const start = next;
      const count = Math.min(SEED_BATCH, to - start);
      next += count;
      let created: CreatedThing[];
      try {
        created = await api.createThings(token, seedBatch(start, count));
      } catch (err) {
        failed = true;
        throw err;
      }
      if (created.length !== count)
        throw new Error(`seeding: asked for ${count} things, got ${created.length}`);
      options.keep?.take(start, created);
      done += count;
      progress();
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  progress(true);
  const seconds = (performance.now() - started) / 1000;
  return { from, to, seconds, rate: total / Math.max(seconds, 0.001) };
}
