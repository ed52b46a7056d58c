/**
 * Request collapsing: concurrent misses for one key in an isolate share one origin fetch. The
 * leader settles the entry with what the others may use: the stored object, the origin's error
 * (status and small body: waiters answer with it instead of each calling the origin), or "pass"
 * (not shareable: each waiter fetches its own copy). An entry older than its deadline
 * (time-to-headers + body deadline) is replaced by the next miss.
 */
import type { CachedMeta } from "./hot-cache.ts";

export type Shared =
  | { kind: "stored"; meta: CachedMeta; body: ArrayBuffer; originMs: number; appMs: number | null }
  | { kind: "error"; status: number; headers: [string, string][]; body: ArrayBuffer | null; originMs: number }
  | { kind: "pass" };

export type Settle = (s: Shared) => void;

/** Placeholder settle for work that nobody waits on (module-level: no closure per request). */
export const NO_SETTLE: Settle = () => {};

interface Entry {
  p: Promise<Shared>;
  until: number;
}

export class Inflight {
  map = new Map<string, Entry>();
  /** How long an entry may stand, ms. */
  deadlineMs: number;

  constructor(deadlineMs: number) {
    this.deadlineMs = deadlineMs;
  }

  has(key: string, now: number): boolean {
    const e = this.map.get(key);
    return e !== undefined && now < e.until;
  }

  /** The leader's promise when one is in flight and within its deadline. */
  join(key: string, now: number): { p: Promise<Shared>; waitMs: number } | undefined {
    const e = this.map.get(key);
    if (e === undefined) return undefined;
    if (now >= e.until) {
      this.map.delete(key);
      return undefined;
    }
    return { p: e.p, waitMs: e.until - now };
  }

  /** Registers the caller as the key's leader; returns its settle function. */
  lead(key: string, now: number): Settle {
    let settle: Settle = NO_SETTLE;
    const p = new Promise<Shared>((resolve) => {
      settle = resolve;
    });
    const entry = { p, until: now + this.deadlineMs };
    this.map.set(key, entry);
    p.then(() => {
      if (this.map.get(key) === entry) this.map.delete(key);
    });
    return settle;
  }

  get size(): number {
    return this.map.size;
  }
}

/** Waits for a leader at most `waitMs`; a leader that never settles counts as "pass". */
export async function awaitShared(j: { p: Promise<Shared>; waitMs: number }): Promise<Shared> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<Shared>((resolve) => {
    timer = setTimeout(() => resolve({ kind: "pass" }), j.waitMs);
  });
  try {
    return await Promise.race([j.p, t]);
  } finally {
    clearTimeout(timer);
  }
}
