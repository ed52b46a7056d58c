/**
 * Second cache tier: `caches.default`. The stored response carries its own storage lifetime
 * (`Cache-Control: public, max-age=<fresh + stale windows>`) and the real headers + freshness in
 * one `x-edge-meta` header (URI-encoded JSON), so what the Cache API implementation does with
 * Cache-Control, Vary, Set-Cookie or Expires cannot change what the edge serves.
 */
import type { CachedMeta } from "./hot-cache.ts";

const META = "x-edge-meta";

/** The GET request a key is stored under (keys are URLs). */
export function cacheApiRequest(key: string): Request {
  return new Request(key, { method: "GET" });
}

/** Response to `cache.put`: body + meta header + storage lifetime. */
export function toCacheApiResponse(meta: CachedMeta, body: BodyInit | null, storageTtl: number): Response {
  const h = new Headers();
  h.set("cache-control", `public, max-age=${storageTtl}`);
  const ct = meta.headers.find(([k]) => k === "content-type");
  if (ct) h.set("content-type", ct[1]);
  h.set(META, encodeURIComponent(JSON.stringify(meta)));
  const noBody = meta.status === 204 || meta.status === 205 || meta.status === 304;
  return new Response(noBody ? null : body, { status: meta.status, headers: h });
}

/** Meta of a Cache API response, or null when it is not one of ours / is malformed. */
export function metaFromCacheApi(res: Response, key: string): CachedMeta | null {
  const raw = res.headers.get(META);
  if (!raw) return null;
  try {
    const m = JSON.parse(decodeURIComponent(raw)) as CachedMeta;
    if (m.key !== key || !Array.isArray(m.headers) || typeof m.freshUntil !== "number") return null;
    if (typeof m.base !== "string" || typeof m.variant !== "string" || !Array.isArray(m.tags)) return null;
    return m;
  } catch {
    return null;
  }
}
