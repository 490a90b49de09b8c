/** An answer as a replay repeats it: status, the headers a client reads, the body's bytes. */
export interface Answer {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

/** One execution holding a key: until it settles, a retry with the key is told to wait. */
export interface Claim {
  /** Whose keys: a user (`user:<id>`), or what a route names as its caller. */
  scope: string;
  key: string;
  /** Random: tells this execution from a later one that took an expired claim over. */
  id: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
}

/** What is kept for a key: the request's fingerprint and, once it has one, its answer. */
export interface KeyRecord {
  fingerprint: string;
  /** Milliseconds since the epoch: the end of a running row's lease, or of an answer's retention. */
  expiresAt: number;
  /** null while the first request is running. */
  answer: Answer | null;
}
