/**
 * In-isolate hot-object cache in front of `caches.default`: a Map used as an LRU (Map keeps
 * insertion order; a hit re-inserts), bounded by total bytes and per-object size. Bodies are kept
 * as ArrayBuffer so a HIT builds its Response without any I/O. Each isolate has its own; purge
 * clears it here at once and in other isolates via the purge state check (see purge-state.ts).
 */

/** A cached response with its freshness, as both cache tiers hold it (times are ms since epoch). */
export interface CachedMeta {
  /** Storage key (the URL key, or the URL key with its variant marker). */
  key: string;
  /** The URL key without variant (what purge by URL and invalidation compare). */
  base: string;
  /** Normalised request-header values this variant was selected by ("" = no Vary). */
  variant: string;
  /**
   * Non-null on a Vary marker (stored under the URL key, no body): the request headers whose
   * values select the variant; status and freshness are then those of the marker itself.
   */
  vary: string[] | null;
  status: number;
  /** End-to-end headers as stored (no Age, Server-Timing, Set-Cookie or hop-by-hop). */
  headers: [string, string][];
  storedAt: number;
  /** `Age` the response already had at the origin (seconds). */
  initialAge: number;
  freshUntil: number;
  swrUntil: number;
  sieUntil: number;
  etag: string | null;
  lastModified: string | null;
  tags: string[];
  /** text/html, for the page-view log. */
  html: boolean;
  /** `no-cache`: validated with the origin before every use. */
  revalidateAlways: boolean;
}

export interface HotEntry extends CachedMeta {
  body: ArrayBuffer;
  size: number;
  /** The purge-state version this entry was last found not purged at (see purge-state.ts). */
  checkedSeq: number;
}

/** Approximate memory of an entry: body + headers + fixed overhead. */
export function entrySize(meta: CachedMeta, bodyBytes: number): number {
  let n = bodyBytes + meta.key.length * 2 + 256;
  for (const [k, v] of meta.headers) n += (k.length + v.length) * 2 + 32;
  return n;
}

export class HotCache {
  maxBytes: number;
  maxObjectBytes: number;
  bytes = 0;
  map = new Map<string, HotEntry>();

  constructor(maxBytes: number, maxObjectBytes: number) {
    this.maxBytes = maxBytes;
    this.maxObjectBytes = maxObjectBytes;
  }

  /** True when an object of this body size may be held (default limits: 32 MB total, 256 KB each). */
  fits(bodyBytes: number): boolean {
    return this.maxBytes > 0 && bodyBytes <= this.maxObjectBytes;
  }

  get(key: string): HotEntry | undefined {
    const e = this.map.get(key);
    if (e !== undefined) {
      // Re-insert: most recently used moves to the end (eviction takes from the front).
      this.map.delete(key);
      this.map.set(key, e);
    }
    return e;
  }

  set(e: HotEntry): void {
    if (!this.fits(e.body.byteLength) || e.size > this.maxBytes) return;
    this.delete(e.key);
    this.map.set(e.key, e);
    this.bytes += e.size;
    if (this.bytes > this.maxBytes) {
      for (const [k, old] of this.map) {
        if (this.bytes <= this.maxBytes) break;
        this.map.delete(k);
        this.bytes -= old.size;
      }
    }
  }

  /** Drops every entry (all variants and the Vary marker) whose URL key is `base`. */
  deleteBase(base: string): void {
    for (const [k, e] of this.map) if (e.base === base) this.delete(k);
  }

  delete(key: string): boolean {
    const old = this.map.get(key);
    if (old === undefined) return false;
    this.map.delete(key);
    this.bytes -= old.size;
    return true;
  }

  clear(): void {
    this.map.clear();
    this.bytes = 0;
  }
}
