/**
 * Purge bookkeeping in KV (binding EDGE_KV):
 * - `edge:purge` → `{"gen": n, "seq": t}`. `gen` is part of every cache key and is bumped by
 *   "purge everything" (old objects become unreachable); `seq` changes on every purge. Each
 *   isolate re-reads it in `waitUntil` at most every EDGE_PURGE_CHECK_SECONDS and clears its
 *   hot-object cache when `seq` changed, so a purge made in another isolate reaches this one's
 *   hot cache within that interval (a purge in this isolate applies at once). Only the first
 *   request of an isolate waits for the read.
 * - `t:<hash(tag)>:<hash(key)>` → tag index entry (metadata `{k: key}`, or the key as the value
 *   when it is too long for metadata), expiring with the cached object.
 * KV failures never fail a request: the edge then runs with generation 0 and no tag index.
 */

const STATE_KEY = "edge:purge";
const MAX_METADATA_KEY = 900;

/** 64-bit FNV-1a-style hash as 16 hex chars (two 32-bit lanes with different offsets). */
export function hash64(s: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
  }
  return (a >>> 0).toString(16).padStart(8, "0") + (b >>> 0).toString(16).padStart(8, "0");
}

export class PurgeState {
  kv: KVNamespace | null;
  checkSeconds: number;
  gen: number | null = null;
  seq = 0;
  checkedAt = 0;
  loading: Promise<void> | null = null;
  /** Called when another isolate purged (seq changed): clear local caches. */
  onRemotePurge: () => void;

  constructor(kv: KVNamespace | null, checkSeconds: number, onRemotePurge: () => void) {
    this.kv = kv;
    this.checkSeconds = checkSeconds;
    this.onRemotePurge = onRemotePurge;
  }

  /** Resolves when `gen` is known (awaits only the first time); schedules background re-checks. */
  ready(now: number, ctx: ExecutionContext): Promise<void> | null {
    if (this.gen === null) return this.load(now);
    if (now - this.checkedAt >= this.checkSeconds * 1000 && this.loading === null)
      ctx.waitUntil(this.load(now));
    return null;
  }

  load(now: number): Promise<void> {
    if (this.loading) return this.loading;
    this.checkedAt = now;
    this.loading = (async () => {
      let gen = 0;
      let seq = 0;
      try {
        const v = this.kv ? await this.kv.get<{ gen?: unknown; seq?: unknown }>(STATE_KEY, "json") : null;
        if (v && typeof v.gen === "number") gen = v.gen;
        if (v && typeof v.seq === "number") seq = v.seq;
      } catch {
        gen = this.gen ?? 0;
        seq = this.seq;
      }
      if (this.gen !== null && seq !== this.seq) this.onRemotePurge();
      this.gen = Math.max(gen, this.gen ?? 0);
      this.seq = seq;
    })().finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  /** Records a purge made here; `everything` bumps the generation. Returns the generation. */
  async record(everything: boolean, now: number): Promise<number> {
    if (this.gen === null) await this.load(now);
    if (everything) this.gen = (this.gen ?? 0) + 1;
    this.seq = Math.max(now, this.seq + 1);
    if (this.kv) await this.kv.put(STATE_KEY, JSON.stringify({ gen: this.gen, seq: this.seq }));
    return this.gen ?? 0;
  }
}

export class TagIndex {
  kv: KVNamespace | null;
  constructor(kv: KVNamespace | null) {
    this.kv = kv;
  }

  /** Indexes `key` under each tag until the object expires (KV minimum 60 s). */
  async add(key: string, tags: readonly string[], ttlSeconds: number): Promise<void> {
    if (!this.kv || tags.length === 0) return;
    const kv = this.kv;
    const expirationTtl = Math.max(60, ttlSeconds);
    const k = hash64(key);
    const long = key.length > MAX_METADATA_KEY;
    await Promise.all(
      tags.map((tag) =>
        kv.put(`t:${hash64(tag)}:${k}`, long ? key : "", {
          expirationTtl,
          metadata: long ? { v: 1 } : { k: key },
        }),
      ),
    );
  }

  /** Every key indexed under the tags; removes those index entries. */
  async take(tags: readonly string[]): Promise<string[]> {
    if (!this.kv) return [];
    const kv = this.kv;
    const keys = new Set<string>();
    for (const tag of tags) {
      const prefix = `t:${hash64(tag)}:`;
      let cursor: string | undefined;
      for (;;) {
        const page: KVNamespaceListResult<{ k?: string; v?: number }> = await kv.list({ prefix, cursor });
        await Promise.all(
          page.keys.map(async (e) => {
            const k = e.metadata?.k ?? (e.metadata?.v ? await kv.get(e.name) : null);
            if (k) keys.add(k);
            await kv.delete(e.name);
          }),
        );
        if (page.list_complete) break;
        cursor = page.cursor;
      }
    }
    return [...keys];
  }
}
