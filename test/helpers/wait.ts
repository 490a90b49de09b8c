/**
 * Waiting for something observable instead of sleeping for a fixed time: the condition
 * is checked every `intervalMs` until it holds (its value is returned) or `timeoutMs`
 * passes (then the error says what was awaited and the last value seen).
 */
export async function eventually<T>(
  what: string,
  check: () => T | Promise<T>,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<NonNullable<T>> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 25;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      last = await check();
      if (last) return last as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      const seen = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${seen})`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Waits until the clock is past `instant` (ms since the epoch). For tests whose subject
 * is time itself (an expiry, a delay, timestamps that must differ), never to wait for
 * something to happen: that is `eventually`, or a fence.
 */
export async function clockPast(instant: number): Promise<void> {
  for (let left = instant - Date.now(); left >= 0; left = instant - Date.now())
    await new Promise((r) => setTimeout(r, left + 1));
}
