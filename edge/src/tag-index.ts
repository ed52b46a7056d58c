/**
 * Tag index in KV: which stored objects carry a tag, so a purge by tag can also delete them from
 * this location's Cache API (correctness does not depend on it: purge times do, see
 * purge-state.ts). Keys are `t:<sha256(tag)>:<sha256(key)>` (128-bit prefixes, collision-free in
 * practice), the object key in metadata (or the value when too long), expiring with the object.
 * Writes happen after the object is stored; deletions in chunks of INDEX_CHUNK.
 */

const MAX_METADATA_KEY = 900;
/** KV operations started at once (Workers allow a bounded number of concurrent subrequests). */
export const INDEX_CHUNK = 50;

async function sha128(s: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(s));
  return Array.from(new Uint8Array(d, 0, 16), (x) => x.toString(16).padStart(2, "0")).join("");
}

/** Runs `fn` over `items`, at most INDEX_CHUNK at a time. */
export async function inChunks<T>(items: readonly T[], fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += INDEX_CHUNK)
    await Promise.all(items.slice(i, i + INDEX_CHUNK).map(fn));
}

export class TagIndex {
  kv: KVNamespace | null;
  constructor(kv: KVNamespace | null) {
    this.kv = kv;
  }

  /** Indexes `key` under each tag until the object expires (KV minimum 60 s). */
  async add(key: string, tags: readonly string[], ttlSeconds: number): Promise<void> {
    const kv = this.kv;
    if (!kv || tags.length === 0) return;
    const expirationTtl = Math.max(60, ttlSeconds);
    const k = await sha128(key);
    const long = key.length > MAX_METADATA_KEY;
    await inChunks(tags, async (tag) =>
      kv.put(`t:${await sha128(tag)}:${k}`, long ? key : "", {
        expirationTtl,
        metadata: long ? { v: 1 } : { k: key },
      }),
    );
  }

  /** Every key indexed under the tags, and the index entries (delete them with `drop` after the objects). */
  async find(tags: readonly string[]): Promise<{ keys: string[]; entries: string[] }> {
    const kv = this.kv;
    if (!kv) return { keys: [], entries: [] };
    const keys = new Set<string>();
    const entries: string[] = [];
    for (const tag of tags) {
      const prefix = `t:${await sha128(tag)}:`;
      let cursor: string | undefined;
      for (;;) {
        const page: KVNamespaceListResult<{ k?: string; v?: number }> = await kv.list({ prefix, cursor });
        await inChunks(page.keys, async (e) => {
          const k = e.metadata?.k ?? (e.metadata?.v ? await kv.get(e.name) : null);
          if (k) keys.add(k);
          entries.push(e.name);
        });
        if (page.list_complete) break;
        cursor = page.cursor;
      }
    }
    return { keys: [...keys], entries };
  }

  /** Deletes index entries, in chunks. */
  async drop(entries: readonly string[]): Promise<void> {
    const kv = this.kv;
    if (!kv) return;
    await inChunks(entries, (e) => kv.delete(e));
  }
}
