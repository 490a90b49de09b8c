import { AsyncLocalStorage } from 'node:async_hooks';

/** Where a request came from, for the events it causes (set by the HTTP server). */
export interface RequestContext {
  /** The client's address (behind a trusted proxy, the address it forwarded). */
  source: string | null;
  /** The client's X-Request-Id when it sent a usable one, else one the server made. */
  requestId: string | null;
}

const context = new AsyncLocalStorage<RequestContext>();

/** Runs `next` (the rest of a request's handling) with its context. */
export function withRequestContext(ctx: RequestContext, next: () => void): void {
  context.run(ctx, next);
}

export function requestContext(): RequestContext | undefined {
  return context.getStore();
}
