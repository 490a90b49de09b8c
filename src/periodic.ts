/**
 * Background work on a timer: `work` runs every `everyMs`, never twice at once (a run
 * still going when the next is due is not doubled), until stop(). The timer does not
 * keep the process alive; a failed run is reported and the next one comes as planned.
 */
export class Periodic {
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(
    private work: () => Promise<unknown>,
    private everyMs: number,
    private onError: (err: unknown) => void,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = true;
      this.work()
        .catch(this.onError)
        .finally(() => {
          this.running = false;
        });
    }, this.everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/**
 * Deletes in batches until one comes back short or `maxBatches` ran (each batch its own
 * statement, so no lock is held long); returns how many were deleted.
 */
export async function deleteInBatches(
  deleteBatch: (limit: number) => Promise<number>,
  batch: number,
  maxBatches: number,
): Promise<number> {
  let deleted = 0;
  for (let i = 0; i < maxBatches; i++) {
    const n = await deleteBatch(batch);
    deleted += n;
    if (n < batch) break;
  }
  return deleted;
}
