import crypto from 'node:crypto';

/**
 * A mixed load for the fault tests: a few workers, each looping over its operations,
 * recording every answer (status, when it was sent, how long it took, Retry-After,
 * body). Writes that were acknowledged are kept, so a test can check afterwards that
 * each one is still there.
 */
export type Operation = 'create' | 'mapping' | 'publish' | 'list';

export interface Answer {
  op: Operation;
  status: number | 'failed';
  /** Date.now() when the request was sent. */
  sentAt: number;
  ms: number;
  retryAfter: string | null;
  contentType: string | null;
  body: string;
}

export interface AcknowledgedWrites {
  /** Things from 201s of POST /things. */
  things: string[];
  /** Gateways from 201s of POST /mapping: their things and channels. */
  mappings: { externalId: string; things: string[]; channels: string[] }[];
}

export interface MixedLoad {
  answers: Answer[];
  acknowledged: AcknowledgedWrites;
  /** Answers of one operation sent at or after `from` (and before `to`). */
  of(op: Operation, from: number, to?: number): Answer[];
  stop(): Promise<void>;
}

export interface LoadTarget {
  base: string;
  token: string;
  /** A channel the thing is connected to, and the thing's key (already used once: cached). */
  channel: string;
  thingKey: string;
}

export function startMixedLoad(
  target: LoadTarget,
  operations: Operation[] = ['create', 'mapping', 'publish', 'list'],
  workersPerOperation = 2,
): MixedLoad {
  const answers: Answer[] = [];
  const acknowledged: AcknowledgedWrites = { things: [], mappings: [] };
  let running = true;

  const send = async (op: Operation): Promise<void> => {
    const sentAt = Date.now();
    const started = performance.now();
    let url = target.base;
    const init: RequestInit = { method: 'GET', headers: { authorization: target.token } };
    const externalId = `gw-${crypto.randomBytes(6).toString('hex')}`;
    switch (op) {
      case 'create':
        url += '/things';
        init.method = 'POST';
        init.headers = { authorization: target.token, 'content-type': 'application/json' };
        init.body = JSON.stringify({ name: 'load' });
        break;
      case 'mapping':
        url += '/mapping';
        init.method = 'POST';
        init.headers = { authorization: target.token, 'content-type': 'application/json' };
        init.body = JSON.stringify({ external_id: externalId, external_key: 'k', name: 'gw' });
        break;
      case 'publish':
        url += `/http/channels/${target.channel}/messages`;
        init.method = 'POST';
        init.headers = { authorization: target.thingKey, 'content-type': 'text/plain' };
        init.body = 'load';
        break;
      case 'list':
        url += '/things?limit=5';
        break;
    }
    try {
      const res = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
      const body = await res.text();
      answers.push({
        op,
        status: res.status,
        sentAt,
        ms: performance.now() - started,
        retryAfter: res.headers.get('retry-after'),
        contentType: res.headers.get('content-type'),
        body,
      });
      if (op === 'create' && res.status === 201) {
        acknowledged.things.push(res.headers.get('location')!.split('/').pop()!);
      }
      if (op === 'mapping' && res.status === 201) {
        const json = JSON.parse(body);
        acknowledged.mappings.push({
          externalId,
          things: json.things.map((t: { id: string }) => t.id),
          channels: json.channels.map((c: { id: string }) => c.id),
        });
      }
    } catch (err) {
      answers.push({
        op,
        status: 'failed',
        sentAt,
        ms: performance.now() - started,
        retryAfter: null,
        contentType: null,
        body: String((err as Error).cause ?? err),
      });
      // A refused connection (a server not listening) would otherwise spin.
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  const workers: Promise<void>[] = [];
  for (const op of operations) {
    for (let i = 0; i < workersPerOperation; i++) {
      workers.push(
        (async () => {
          while (running) {
            await send(op);
            // A quick 503 must not turn the load into a busy loop over one operation.
            const last = answers[answers.length - 1];
            if (last && last.status !== 200 && last.status !== 201 && last.status !== 202) {
              await new Promise((r) => setTimeout(r, 10));
            }
          }
        })(),
      );
    }
  }
  return {
    answers,
    acknowledged,
    of: (op, from, to = Number.POSITIVE_INFINITY) =>
      answers.filter((a) => a.op === op && a.sentAt >= from && a.sentAt < to),
    async stop() {
      running = false;
      await Promise.all(workers);
    },
  };
}
