/**
 * In-isolate counters the edge flushes to D1 (migrations/0007_prefetch.sql): Referer
 * transitions (previous page → this page, per hour) for learning, and speculative requests per
 * arm (requests, bytes, origin requests) for measuring. Counting is a Map increment on the
 * request path; the write is D1 batches of at most BATCH_MAX statements in `waitUntil` every
 * `flushMs`. Bounded: at most MAX_KEYS distinct keys wait for a flush (further new keys are
 * counted as dropped, not stored).
 */

/** Distinct keys held between flushes, per counter. */
export const MAX_KEYS = 5000;
/** Most statements in one D1 batch (a flush of up to 2 × MAX_KEYS rows is split). */
export const BATCH_MAX = 500;
const HOUR = 3600_000;

export interface SpeculationCount {
  requests: number;
  bytes: number;
  originRequests: number;
}

export class PrefetchCounters {
  private transitions = new Map<string, number>();
  private speculations = new Map<string, SpeculationCount>();
  private lastFlush: number;
  private flushing: Promise<void> | null = null;
  dropped = 0;
  /** Message of the last failed flush (null after a good one). */
  lastError: string | null = null;
  private readonly site: string;
  private readonly flushMs: number;

  constructor(site: string, flushMs: number, now: number) {
    this.site = site;
    this.flushMs = flushMs;
    this.lastFlush = now;
  }

  /** Counts one navigation from → to (paths) at time `now`. */
  transition(from: string, to: string, now: number): void {
    const key = `${Math.floor(now / HOUR) * HOUR}\t${from}\t${to}`;
    const n = this.transitions.get(key);
    if (n !== undefined) this.transitions.set(key, n + 1);
    else if (this.transitions.size < MAX_KEYS) this.transitions.set(key, 1);
    else this.dropped++;
  }

  /** Counts one speculative request (`kind`: prefetch | prerender | warm) for an arm. */
  speculation(arm: string, kind: string, bytes: number, origin: boolean, now: number): void {
    const key = `${Math.floor(now / HOUR) * HOUR}\t${arm}\t${kind}`;
    let c = this.speculations.get(key);
    if (!c) {
      if (this.speculations.size >= MAX_KEYS) {
        this.dropped++;
        return;
      }
      c = { requests: 0, bytes: 0, originRequests: 0 };
      this.speculations.set(key, c);
    }
    c.requests++;
    c.bytes += bytes;
    if (origin) c.originRequests++;
  }

  /** True when a flush is due (and none is running). */
  due(now: number): boolean {
    return (
      this.flushing === null &&
      now - this.lastFlush >= this.flushMs &&
      (this.transitions.size > 0 || this.speculations.size > 0)
    );
  }

  /**
   * Writes and clears the counts, in D1 batches of at most BATCH_MAX statements (one
   * transaction each, written in order); when a batch fails, its counts and those of the batches
   * not yet written are merged back for the next flush (the ones written stay written).
   */
  flush(db: D1Database, now: number): Promise<void> {
    if (this.flushing) return this.flushing;
    this.lastFlush = now;
    const t = [...this.transitions];
    const s = [...this.speculations];
    this.transitions = new Map();
    this.speculations = new Map();
    const tStmt = db.prepare(
      "INSERT INTO prefetch_transitions (site, hour, from_path, to_path, n) VALUES (?, ?, ?, ?, ?) " +
        "ON CONFLICT (site, hour, from_path, to_path) DO UPDATE SET n = n + excluded.n",
    );
    const sStmt = db.prepare(
      "INSERT INTO prefetch_speculations (site, hour, arm, kind, requests, bytes, origin_requests) VALUES (?, ?, ?, ?, ?, ?, ?) " +
        "ON CONFLICT (site, hour, arm, kind) DO UPDATE SET requests = requests + excluded.requests, " +
        "bytes = bytes + excluded.bytes, origin_requests = origin_requests + excluded.origin_requests",
    );
    const stmts: D1PreparedStatement[] = [];
    for (const [key, n] of t) {
      const [hour, from, to] = key.split("\t");
      stmts.push(tStmt.bind(this.site, Number(hour), from, to, n));
    }
    for (const [key, c] of s) {
      const [hour, arm, kind] = key.split("\t");
      stmts.push(sStmt.bind(this.site, Number(hour), arm, kind, c.requests, c.bytes, c.originRequests));
    }
    if (stmts.length === 0) return Promise.resolve();
    this.flushing = (async () => {
      let written = 0;
      try {
        for (; written < stmts.length; written += BATCH_MAX)
          await db.batch(stmts.slice(written, written + BATCH_MAX));
        this.lastError = null;
      } catch (e) {
        this.lastError = e instanceof Error ? e.message : String(e);
        // Statements [0, written) are stored; the rest (transitions first, then speculations) are not.
        this.restore(t.slice(written), s.slice(Math.max(0, written - t.length)));
      } finally {
        this.flushing = null;
      }
    })();
    return this.flushing;
  }

  /** Merges unwritten counts back (within MAX_KEYS new keys). */
  private restore(t: Array<[string, number]>, s: Array<[string, SpeculationCount]>): void {
    for (const [k, n] of t)
      if (this.transitions.size < MAX_KEYS || this.transitions.has(k))
        this.transitions.set(k, (this.transitions.get(k) ?? 0) + n);
    for (const [k, c] of s) {
      const cur = this.speculations.get(k);
      if (cur) {
        cur.requests += c.requests;
        cur.bytes += c.bytes;
        cur.originRequests += c.originRequests;
      } else if (this.speculations.size < MAX_KEYS) this.speculations.set(k, c);
    }
  }

  /** Pending distinct keys (for tests and health). */
  get pending(): number {
    return this.transitions.size + this.speculations.size;
  }
}
