/** Small HTTP helpers for the proxy: hop-by-hop headers, conditionals, cache tags. */
import { parseHttpDate } from "../../common/src/http-cache/http-date.ts";

/** Hop-by-hop headers (RFC 9110 §7.6.1) never forwarded in either direction. */
export const HOP_BY_HOP: readonly string[] = [
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
];

function stripWeak(tag: string): string {
  const t = tag.trim();
  return t.startsWith("W/") ? t.slice(2) : t;
}

/**
 * True when a conditional GET/HEAD may be answered 304 from a stored response: `If-None-Match`
 * (weak comparison, lists, `*`) wins over `If-Modified-Since` (compared with `Last-Modified`).
 */
export function isNotModified(req: Headers, etag: string | null, lastModified: string | null): boolean {
  const inm = req.get("if-none-match");
  if (inm !== null) {
    if (etag === null) return false;
    if (inm.trim() === "*") return true;
    const mine = stripWeak(etag);
    for (const t of inm.split(",")) if (stripWeak(t) === mine) return true;
    return false;
  }
  const ims = req.get("if-modified-since");
  if (ims === null || lastModified === null) return false;
  const a = parseHttpDate(lastModified);
  const b = parseHttpDate(ims);
  return a !== null && b !== null && a <= b;
}

/** Headers a 304 keeps from the stored response (RFC 9110 §15.4.5). */
export const NOT_MODIFIED_HEADERS = new Set([
  "cache-control",
  "content-location",
  "date",
  "etag",
  "expires",
  "vary",
  "last-modified",
]);

/** Tags from `Cache-Tag` (comma-separated) and `Surrogate-Key` (space-separated), lower-cased, de-duplicated. */
export function responseTags(get: (name: string) => string | null): string[] {
  const out = new Set<string>();
  const ct = get("cache-tag");
  if (ct) for (const t of ct.split(",")) if (t.trim()) out.add(t.trim().toLowerCase());
  const sk = get("surrogate-key");
  if (sk) for (const t of sk.split(/\s+/)) if (t) out.add(t.toLowerCase());
  return [...out];
}
