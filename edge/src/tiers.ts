/**
 * The two cache tiers behind one lookup: the in-isolate hot cache (hot-cache.ts), then
 * `caches.default` (cache-api.ts). Handles Vary markers (a URL key holding the names of the
 * headers its variants are selected by) and drops objects purged since they were stored.
 */
import { hash64, mergeNames, variantOf } from "../../common/src/http-cache/vary.ts";
import { cacheApiRequest, metaFromCacheApi, toCacheApiResponse } from "./cache-api.ts";
import type { PathRule } from "./config.ts";
import type { RequestContext } from "./context.ts";
import { type CachedMeta, entrySize, type HotCache, type HotEntry } from "./hot-cache.ts";
import type { PurgeState } from "./purge-state.ts";

/** Body of a cached object as a tier returns it: bytes (hot) or the Cache API response (large objects). */
export type CachedBody = ArrayBuffer | Response | null;

export interface Candidate {
  meta: CachedMeta;
  body: CachedBody;
}

/** What a stored object allows now: serve it, serve it stale and refresh, or refresh first. */
export type Freshness = "HIT" | "STALE" | "EXPIRED";

/** The one HIT/STALE/EXPIRED decision, for both tiers. */
export function freshness(meta: CachedMeta, now: number): Freshness {
  if (now < meta.freshUntil) return "HIT";
  if (now < meta.swrUntil) return "STALE";
  return "EXPIRED";
}

/** Releases a body that will not be sent. */
export function cancelBody(b: CachedBody | ReadableStream | undefined): void {
  try {
    if (b instanceof Response) b.body?.cancel().catch(() => {});
    else if (b instanceof ReadableStream) b.cancel().catch(() => {});
  } catch {
    // Already consumed or locked.
  }
}

/**
 * The storage key of a variant. Variants live at the URL key's path plus `%2Fv=<hash>`: a client
 * path can never hold an encoded slash (it is refused with 400), so no request URL can reach a
 * variant's key, and the stored object also keeps the variant string it compares on lookup.
 */
export function variantKey(ctx: RequestContext, variant: string): string {
  const u = ctx.url;
  return `${u.protocol}//${u.host}${ctx.path}%2Fv=${hash64(variant)}${ctx.nq}`;
}

/** The request's variant for the names a marker lists plus the rule's key headers (values lower-cased for those). */
export function requestVariant(ctx: RequestContext, names: readonly string[]): string {
  const rule: PathRule | undefined = ctx.rule;
  const keyed = rule?.keyHeaders ?? [];
  const all = keyed.length === 0 ? names : mergeNames(names, [...keyed].sort());
  const h = ctx.request.headers;
  return variantOf(all, (n) => {
    const v = h.get(n);
    return v !== null && keyed.includes(n) ? v.trim().toLowerCase() : v;
  });
}

export class CacheTiers {
  hot: HotCache;
  purge: PurgeState;
  cacheOverride: Cache | null | undefined;

  constructor(hot: HotCache, purge: PurgeState, cache: Cache | null | undefined) {
    this.hot = hot;
    this.purge = purge;
    this.cacheOverride = cache;
  }

  get cache(): Cache | null {
    if (this.cacheOverride !== undefined) return this.cacheOverride;
    return typeof caches === "undefined" ? null : caches.default;
  }

  /** The hot object for the request (through its Vary marker), or undefined; drops purged ones. */
  hotFind(ctx: RequestContext): HotEntry | undefined {
    let e = this.hot.get(ctx.key);
    if (e === undefined) return undefined;
    if (e.vary !== null) {
      const variant = requestVariant(ctx, e.vary);
      e = this.hot.get(variantKey(ctx, variant));
      if (e === undefined || e.variant !== variant) return undefined;
    }
    if (this.purge.isPurged(e)) {
      this.hot.delete(e.key);
      return undefined;
    }
    return e;
  }

  /** The Cache API object for the request (through its Vary marker), or null; drops purged ones. */
  async apiFind(ctx: RequestContext): Promise<Candidate | null> {
    let c = await this.apiGet(ctx.key);
    if (c === null) return null;
    if (c.meta.vary !== null) {
      const variant = requestVariant(ctx, c.meta.vary);
      c = await this.apiGet(variantKey(ctx, variant));
      if (c === null) return null;
      if (c.meta.variant !== variant) {
        cancelBody(c.body);
        return null;
      }
    }
    if (this.purge.isPurged(c.meta)) {
      cancelBody(c.body);
      return null;
    }
    return c;
  }

  /** Looks a key up in `caches.default`; small bodies are read and promoted to the hot cache. */
  async apiGet(key: string): Promise<Candidate | null> {
    const cache = this.cache;
    if (cache === null) return null;
    let res: Response | undefined;
    try {
      res = await cache.match(cacheApiRequest(key));
    } catch {
      return null;
    }
    if (!res) return null;
    const meta = metaFromCacheApi(res, key);
    if (meta === null) {
      cancelBody(res);
      return null;
    }
    const len = Number(res.headers.get("content-length") ?? Number.NaN);
    if (!Number.isNaN(len) && !this.hot.fits(len)) return { meta, body: res };
    const body = await res.arrayBuffer();
    this.hot.set({ ...meta, body, size: entrySize(meta, body.byteLength), checkedSeq: 0 });
    return { meta, body };
  }

  /** Puts an object (bytes) into both tiers. */
  async put(meta: CachedMeta, body: ArrayBuffer, storageTtl: number): Promise<void> {
    this.hot.set({ ...meta, body, size: entrySize(meta, body.byteLength), checkedSeq: 0 });
    const cache = this.cache;
    if (cache !== null)
      await cache.put(cacheApiRequest(meta.key), toCacheApiResponse(meta, body, storageTtl));
  }

  /** Streams a large object into the Cache API only. */
  async putStream(meta: CachedMeta, body: ReadableStream | null, storageTtl: number): Promise<void> {
    const cache = this.cache;
    if (cache !== null)
      await cache.put(cacheApiRequest(meta.key), toCacheApiResponse(meta, body, storageTtl));
  }

  /** Drops a key from both tiers (best effort). */
  delete(key: string): Promise<void> {
    this.hot.delete(key);
    const cache = this.cache;
    if (cache === null) return Promise.resolve();
    return cache.delete(cacheApiRequest(key)).then(
      () => {},
      () => {},
    );
  }
}
