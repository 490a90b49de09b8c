/**
 * At most `limit` tasks at once; the rest wait in order. Bounds memory-hungry work (an
 * argon2id hash holds its memory cost, 7 MiB by default, while it runs) to what the
 * cores can do anyway.
 */
export class Limiter {
  private running = 0;
  private waiting: (() => void)[] = [];

  constructor(private limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
    try {
      return await task();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}
