/**
 * Purge times, shared through KV (binding EDGE_KV) so a purge holds in every location, not only
 * in the data centre whose Cache API it reached.
 *
 * - `edge:purges` → `{"v": n, "all": t, "urls": {urlKey: t}, "tags": {tag: t}}` (times in ms).
 *   A stored object is purged when it was stored at or before `all`, its URL's time or one of its
 *   tags' times. Each list is bounded (PURGE_LOG_MAX); past it the oldest entries fold into `all`
 *   (purging more, never less).
 * - Every isolate keeps the last state it read in memory: a lookup compares times without I/O,
 *   and a hot object found not purged remembers the state version (`seq`), so a hot HIT pays one
 *   integer comparison. The state is re-read from `waitUntil` at most every
 *   EDGE_PURGE_CHECK_SECONDS; the first request of an isolate waits for the read at most
 *   EDGE_PURGE_READ_TIMEOUT_MS. A failed or slow read keeps the last known state.
 * - Local invalidations (RFC 9111 §4.4, unsafe methods) only enter this isolate's state.
 */

/** Entries kept per list (URLs, tags) before the oldest fold into `all`. */
export const PURGE_LOG_MAX = 5000;

/** What the purge check needs from a stored object. */
export interface PurgeCheckable {
  base: string;
  tags: readonly string[];
  storedAt: number;
  checkedSeq?: number;
}

/** The KV document (`edge:purges`). */
export interface PurgeDoc {
  v: number;
  all: number;
  urls: Record<string, number>;
  tags: Record<string, number>;
}

/** One purge: everything, URL keys and/or tags (lower-case), at one time. */
export interface PurgeRecord {
  all?: boolean;
  urls?: readonly string[];
  tags?: readonly string[];
}

/**
 * The single writer of the KV document (purge-coordinator.ts, a Durable Object): merges a purge
 * into the document and writes it, one purge at a time, and answers the merged document.
 */
export interface PurgeWriter {
  record(p: PurgeRecord, now: number): Promise<PurgeDoc>;
}

export const PURGE_STATE_KEY = "edge:purges";

/**
 * `doc` with purge `p` at `now` merged in (later times win per key; each list bounded, the
 * oldest entries folded into `all`) and its version bumped. Pure; `doc` is not changed.
 */
export function mergePurge(doc: PurgeDoc | null, p: PurgeRecord, now: number): PurgeDoc {
  const urls = timeMap(doc?.urls);
  const tags = timeMap(doc?.tags);
  let all = typeof doc?.all === "number" && Number.isFinite(doc.all) ? doc.all : 0;
  if (p.all) all = Math.max(all, now);
  for (const u of p.urls ?? []) urls.set(u, Math.max(now, urls.get(u) ?? 0));
  for (const t of p.tags ?? []) tags.set(t, Math.max(now, tags.get(t) ?? 0));
  all = bounded(urls, bounded(tags, all));
  const v = typeof doc?.v === "number" && Number.isFinite(doc.v) ? doc.v + 1 : 1;
  return { v, all, urls: Object.fromEntries(urls), tags: Object.fromEntries(tags) };
}

function bounded(m: Map<string, number>, all: number): number {
  if (m.size <= PURGE_LOG_MAX) return all;
  const sorted = [...m].sort((a, b) => a[1] - b[1]);
  let folded = all;
  for (const [k, t] of sorted.slice(0, m.size - PURGE_LOG_MAX)) {
    m.delete(k);
    folded = Math.max(folded, t);
  }
  return folded;
}

function timeMap(o: unknown): Map<string, number> {
  const m = new Map<string, number>();
  if (typeof o !== "object" || o === null) return m;
  for (const [k, v] of Object.entries(o)) if (typeof v === "number" && Number.isFinite(v)) m.set(k, v);
  return m;
}

export class PurgeState {
  kv: KVNamespace | null;
  checkSeconds: number;
  readTimeoutMs: number;
  all = 0;
  urls = new Map<string, number>();
  tags = new Map<string, number>();
  /** Local invalidations (never written to KV). */
  local = new Map<string, number>();
  /** KV document version last read or written. */
  version = -1;
  /** Bumped whenever any time changes: objects checked at an older `seq` are checked again. */
  seq = 1;
  loaded = false;
  checkedAt = Number.NEGATIVE_INFINITY;
  loading: Promise<void> | null = null;

  /** The single writer of the KV document when one is bound (binding PURGE_COORDINATOR). */
  writer: PurgeWriter | null;
  /** How this isolate's last purge reached KV (`/_edge/health`): through the writer, directly, or none yet. */
  lastWrite: "coordinator" | "direct" | null = null;
  /** Why the last call to the writer failed (null after a success), for `/_edge/health`. */
  writerError: string | null = null;

  constructor(
    kv: KVNamespace | null,
    checkSeconds: number,
    readTimeoutMs: number,
    writer: PurgeWriter | null = null,
  ) {
    this.kv = kv;
    this.writer = kv === null ? null : writer;
    this.checkSeconds = checkSeconds;
    this.readTimeoutMs = readTimeoutMs;
    if (kv === null) this.loaded = true;
  }

  /** Null when the state may be used now; else a promise (first read, bounded). Schedules re-reads. */
  ready(now: number, exec: ExecutionContext): Promise<void> | null {
    if (now - this.checkedAt < this.checkSeconds * 1000 || this.kv === null) return null;
    if (this.loading !== null) return this.loaded ? null : this.bounded(this.loading);
    const p = this.load(now);
    exec.waitUntil(p);
    return this.loaded ? null : this.bounded(p);
  }

  private bounded(p: Promise<void>): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const t = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.readTimeoutMs);
    });
    return Promise.race([p, t]).finally(() => clearTimeout(timer));
  }

  /** Reads the KV document; on failure keeps what it had. */
  load(now: number): Promise<void> {
    if (this.loading) return this.loading;
    this.checkedAt = now;
    this.loading = (async () => {
      try {
        const doc = this.kv ? await this.kv.get<PurgeDoc>(PURGE_STATE_KEY, "json") : null;
        this.apply(doc);
        this.loaded = true;
      } catch {
        // Keep the last known state; the next check tries again.
      }
    })().finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  private apply(doc: PurgeDoc | null): void {
    if (doc === null) {
      this.loaded = true;
      return;
    }
    if (typeof doc.v !== "number" || doc.v === this.version) return;
    this.version = doc.v;
    this.all = Math.max(this.all, typeof doc.all === "number" ? doc.all : 0);
    for (const [k, t] of timeMap(doc.urls)) this.urls.set(k, Math.max(t, this.urls.get(k) ?? 0));
    for (const [k, t] of timeMap(doc.tags)) this.tags.set(k, Math.max(t, this.tags.get(k) ?? 0));
    this.all = bounded(this.urls, bounded(this.tags, this.all));
    this.seq++;
  }

  /** True when the object was purged or invalidated after it was stored. */
  isPurged(o: PurgeCheckable): boolean {
    if (o.checkedSeq === this.seq) return false;
    const t = o.storedAt;
    if (t <= this.all) return true;
    const u = this.urls.get(o.base);
    if (u !== undefined && t <= u) return true;
    const l = this.local.get(o.base);
    if (l !== undefined && t <= l) return true;
    for (const tag of o.tags) {
      const x = this.tags.get(tag);
      if (x !== undefined && t <= x) return true;
    }
    if (o.checkedSeq !== undefined) o.checkedSeq = this.seq;
    return false;
  }

  /** Invalidates a URL key in this isolate only (unsafe request through the edge). */
  invalidateLocal(base: string, now: number): void {
    if (this.local.size >= PURGE_LOG_MAX) this.local.clear();
    this.local.set(base, now);
    this.seq++;
  }

  /**
   * Records a purge: applies here at once, then merges it into the KV document. With a writer
   * (the PurgeCoordinator Durable Object) the merge and the write happen there, one purge at a
   * time, so two purges from two places at the same instant both reach KV. Without one (or when
   * it fails) this isolate reads, merges and writes the document itself; two such writes at the
   * same instant can race in KV, though the zone purge API and the purge here still apply.
   */
  async record(p: PurgeRecord, now: number): Promise<void> {
    if (p.all) this.all = Math.max(this.all, now);
    for (const u of p.urls ?? []) this.urls.set(u, now);
    for (const t of p.tags ?? []) this.tags.set(t, now);
    this.all = bounded(this.urls, bounded(this.tags, this.all));
    this.seq++;
    if (this.kv === null) return;
    if (this.writer !== null) {
      try {
        const merged = await this.writer.record(p, now);
        this.apply(merged);
        this.version = merged.v;
        this.lastWrite = "coordinator";
        this.writerError = null;
        return;
      } catch (e) {
        this.writerError = String(e);
        console.warn(`edge: purge coordinator failed, writing the purge to KV directly (${String(e)})`);
      }
    }
    const doc = await this.kv.get<PurgeDoc>(PURGE_STATE_KEY, "json");
    this.apply(doc);
    const v = Math.max(this.version, doc?.v ?? 0) + 1;
    const out: PurgeDoc = {
      v,
      all: this.all,
      urls: Object.fromEntries(this.urls),
      tags: Object.fromEntries(this.tags),
    };
    await this.kv.put(PURGE_STATE_KEY, JSON.stringify(out));
    this.version = v;
    this.lastWrite = "direct";
  }
}
