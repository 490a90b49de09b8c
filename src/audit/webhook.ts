import crypto from 'node:crypto';
import type { Logger } from 'pino';
import { Periodic } from '../periodic.js';
import { type EventsRepository, idBound } from './repo.js';

const SINK = 'webhook';
const BATCH = 100;
const POLL_MS = 1000;
const LEASE_MS = 15_000;
const TIMEOUT_MS = 10_000;
const MAX_BACKOFF_MS = 60_000;

/**
 * Delivers the audit trail to a webhook (TETHYS_EVENTS_WEBHOOK_URL): batches of events,
 * oldest first, POSTed as `{"events": […]}` with `X-Tethys-Signature: sha256=<hex of
 * HMAC-SHA256(secret, body)>`. The place in the trail is a cursor in the database,
 * moved only after the receiver answered 2xx: a receiver that fails (or a server that
 * stops) gets the same batch again later, with backoff, so nothing is lost and events
 * arrive in the trail's order (so in order for each entity). Delivery is at least
 * once: a receiver that answered 2xx to a batch whose cursor could not be moved gets it
 * again; events carry their ids to tell.
 *
 * Event ids are taken in their transaction, before it commits, so a slow transaction
 * can commit an event older than one already visible. Events are delivered once they
 * are `settleMs` old, when every transaction that took an id before them has long
 * ended. Of several instances, the one holding the cursor's lease delivers.
 */
export class WebhookSink {
  private poller = new Periodic(
    () => this.tick(),
    POLL_MS,
    () => {}, // tick reports its own failures and backs off
  );
  private busy = false;
  private failures = 0;
  private retryAt = 0;
  private holder = crypto.randomUUID();
  /** How old an event must be to go (see above); tests shorten it. */
  settleMs = 5000;

  constructor(
    private repo: EventsRepository,
    private target: { url: string; secret: string },
    private logger: Logger,
  ) {}

  start(): void {
    this.poller.start();
  }

  close(): void {
    this.poller.stop();
  }

  /** One round: delivers what is due, batch after batch, until nothing is or a delivery fails. */
  async tick(now = Date.now()): Promise<void> {
    if (this.busy || now < this.retryAt) return;
    this.busy = true;
    try {
      let cursor = await this.repo.claimCursor(SINK, this.holder, now, now + LEASE_MS, idBound(now));
      while (cursor !== null) {
        const due = idBound(Date.now() - this.settleMs);
        const batch = await this.repo.between(cursor, due, BATCH);
        if (batch.length === 0) return;
        await this.post(JSON.stringify({ events: batch }));
        const last = batch[batch.length - 1]!.id;
        if (!(await this.repo.advanceCursor(SINK, this.holder, last))) return;
        cursor = last;
        this.failures = 0;
      }
    } catch (err) {
      this.failures++;
      const backoff = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (this.failures - 1));
      this.retryAt = Date.now() + backoff * (0.5 + Math.random() / 2);
      this.logger.warn(
        {
          err: (err as Error).message,
          url: this.target.url,
          retryInMs: Math.round(this.retryAt - Date.now()),
        },
        'the events webhook failed; the same events go again',
      );
    } finally {
      this.busy = false;
    }
  }

  private async post(body: string): Promise<void> {
    const signature = crypto.createHmac('sha256', this.target.secret).update(body).digest('hex');
    const res = await fetch(this.target.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tethys-signature': `sha256=${signature}` },
      body,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    await res.arrayBuffer().catch(() => undefined);
    if (res.status < 200 || res.status > 299) throw new Error(`the receiver answered ${res.status}`);
  }
}
