/**
 * In-isolate counters the edge flushes to D1 (migrations/0007_prefetch.sql): Referer
 * transitions (previous page → this page, per hour) for learning, and speculative requests per
 * arm (requests, bytes, origin requests) for measuring. Counting is a Map increment on the
 * request path; the write is one D1 batch in `waitUntil` every `flushMs`. Bounded: at most
 * MAX_KEYS distinct keys wait for a flush (further new keys are counted as dropped, not stored).
 */

/** Distinct keys held between flushes, per counter. */
export const MAX_KEYS = 5000;
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

  /** Writes and clears the counts; on a D1 failure they are merged back for the next flush. */
  flush(db: D1Database, now: number): Promise<void> {
    if (this.flushing) return this.flushing;
    this.lastFlush = now;
    const t = this.transitions;
    const s = this.speculations;
    this.transitions = new Map();
    this.speculations = new Map();
    const stmts: D1PreparedStatement[] = [];
    const tStmt = db.prepare(
      "INSERT INTO prefetch_transitions (site, hour, from_path, to_path, n) VALUES (?, ?, ?, ?, ?) " +
        "ON CONFLICT (site, hour, from_path, to_path) DO UPDATE SET n = n + excluded.n",
    );
    for (const [key, n] of t) {
      const [hour, from, to] = key.split("\t");
      stmts.push(tStmt.bind(this.site, Number(hour), from, to, n));
    }
    const sStmt = db.prepare(
      "INSERT INTO prefetch_speculations (site, hour, arm, kind, requests, bytes, origin_requests) VALUES (?, ?, ?, ?, ?, ?, ?) " +
        "ON CONFLICT (site, hour, arm, kind) DO UPDATE SET requests = requests + excluded.requests, " +
        "bytes = bytes + excluded.bytes, origin_requests = origin_requests + excluded.origin_requests",
    );
    for (const [key, c] of s) {
      const [hour, arm, kind] = key.split("\t");
      stmts.push(sStmt.bind(this.site, Number(hour), arm, kind, c.requests, c.bytes, c.originRequests));
    }
    this.flushing = db
      .batch(stmts)
      .then(() => {
        this.lastError = null;
      })
      .catch((e: unknown) => {
        this.lastError = e instanceof Error ? e.message : String(e);
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
      })
      .finally(() => {
        this.flushing = null;
      });
    return this.flushing;
  }

  /** Pending distinct keys (for tests and health). */
  get pending(): number {
    return this.transitions.size + this.speculations.size;
  }
}
