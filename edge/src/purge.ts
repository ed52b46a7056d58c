/**
 * Purge and invalidation. A purge applies in this isolate at once (hot tier, Cache API objects
 * it can name), is recorded as a purge time in KV for every other isolate and location
 * (purge-state.ts), and is sent to the zone purge API when configured (zone-purge.ts).
 * Invalidation after unsafe methods (RFC 9111 §4.4) is local to this isolate and location.
 */
import { normalizeQuery } from "../../common/src/cache-key.ts";
import { normalizePath } from "../../common/src/http-cache/path.ts";
import { isSafeMethod } from "../../common/src/http-cache/request-policy.ts";
import type { RequestContext } from "./context.ts";
import type { Edge } from "./edge.ts";
import { inChunks } from "./tag-index.ts";
import { zonePurge } from "./zone-purge.ts";

/** The URL key of an absolute URL (as lookups build it), or null when its path is refused. */
export function urlKey(
  edge: Edge,
  u: { protocol: string; host: string; pathname: string; search: string },
): string | null {
  const p = normalizePath(u.pathname);
  if (!p.ok) return null;
  const nq = u.search ? normalizeQuery(u.search, edge.config.marketingMatcher) : "";
  return `${u.protocol}//${u.host}${p.path}${nq}`;
}

/** Drops every object of a URL key (all variants, the Vary marker) from this location. */
async function dropBase(edge: Edge, base: string): Promise<void> {
  edge.hot.deleteBase(base);
  edge.variants.delete(base);
  await edge.tiers.delete(base);
}

/** Purges exact URLs (every variant); returns the number of URL keys purged. */
export async function purgeUrls(edge: Edge, urls: readonly URL[]): Promise<number> {
  edge.purgeEpoch++;
  const keys = [...new Set(urls.map((u) => urlKey(edge, u)).filter((k): k is string => k !== null))];
  await edge.purge.record({ urls: keys }, edge.now());
  await inChunks(keys, (k) => dropBase(edge, k));
  await zonePurge(edge, { files: urls.map((u) => u.href) });
  return keys.length;
}

/** Purges by tag (`Cache-Tag`/`Surrogate-Key`, case-insensitive); returns the number of indexed objects dropped here. */
export async function purgeTags(edge: Edge, tags: readonly string[]): Promise<number> {
  edge.purgeEpoch++;
  const lower = tags.map((t) => t.toLowerCase());
  await edge.purge.record({ tags: lower }, edge.now());
  for (const [k, e] of edge.hot.map) if (e.tags.some((t) => lower.includes(t))) edge.hot.delete(k);
  const found = await edge.tags.find(lower);
  // Objects first, then their index entries (a failure in between leaves entries, never orphans).
  await inChunks(found.keys, (k) => edge.tiers.delete(k));
  await edge.tags.drop(found.entries);
  await zonePurge(edge, { tags });
  return found.keys.length;
}

/** Purges everything; returns the purge time (ms since the epoch). */
export async function purgeEverything(edge: Edge): Promise<number> {
  edge.purgeEpoch++;
  edge.hot.clear();
  edge.variants.clear();
  const now = edge.now();
  await edge.purge.record({ all: true }, now);
  await zonePurge(edge, { purge_everything: true });
  return now;
}

/** Same-origin `Location` / `Content-Location` URLs of a response, absolute. */
function relatedUrls(ctx: RequestContext, raw: ReadonlyMap<string, string>): URL[] {
  const out: URL[] = [];
  const base = `${ctx.url.protocol}//${ctx.url.host}${ctx.path}`;
  for (const n of ["location", "content-location"]) {
    const v = raw.get(n);
    if (v === undefined) continue;
    try {
      const u = new URL(v, base);
      if (u.host === ctx.url.host && u.protocol === ctx.url.protocol) out.push(u);
    } catch {
      // Not a URL: nothing to invalidate.
    }
  }
  return out;
}

/**
 * After a non-error answer to an unsafe method (anything but GET/HEAD/OPTIONS/TRACE), the
 * stored responses for the target URL and same-origin Location/Content-Location are invalid
 * here (RFC 9111 §4.4).
 */
export function invalidateAfterUnsafe(
  edge: Edge,
  ctx: RequestContext,
  raw: ReadonlyMap<string, string>,
): void {
  if (isSafeMethod(ctx.method)) return;
  const now = edge.now();
  const keys: string[] = [];
  const own = urlKey(edge, { ...ctx.url, pathname: ctx.path });
  if (own !== null) keys.push(own);
  for (const u of relatedUrls(ctx, raw)) {
    const k = urlKey(edge, u);
    if (k !== null) keys.push(k);
  }
  for (const k of keys) edge.purge.invalidateLocal(k, now);
  ctx.exec.waitUntil(Promise.all(keys.map((k) => dropBase(edge, k))));
}
