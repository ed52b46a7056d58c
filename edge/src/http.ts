/** Small HTTP helpers for the proxy: hop-by-hop headers, personal requests, conditionals. */

/** Hop-by-hop headers (RFC 9110 §7.6.1) never forwarded in either direction. */
const HOP_BY_HOP = [
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

/** Removes hop-by-hop headers, including any the `Connection` header names. */
export function dropHopByHop(h: Headers): void {
  const conn = h.get("connection");
  if (conn) for (const name of conn.split(",")) if (name.trim()) h.delete(name.trim());
  for (const name of HOP_BY_HOP) h.delete(name);
}

/** True when the request carries `Authorization` or a cookie named in `cookieNames`. */
export function isPersonal(headers: Headers, cookieNames: ReadonlySet<string>): boolean {
  if (headers.has("authorization")) return true;
  const cookie = headers.get("cookie");
  if (!cookie) return false;
  for (const part of cookie.split(";")) {
    const eq = part.indexOf("=");
    const name = (eq === -1 ? part : part.slice(0, eq)).trim();
    if (cookieNames.has(name)) return true;
  }
  return false;
}

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
  const a = Date.parse(lastModified);
  const b = Date.parse(ims);
  return !Number.isNaN(a) && !Number.isNaN(b) && a <= b;
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
export function responseTags(h: Headers): string[] {
  const out = new Set<string>();
  const ct = h.get("cache-tag");
  if (ct) for (const t of ct.split(",")) if (t.trim()) out.add(t.trim().toLowerCase());
  const sk = h.get("surrogate-key");
  if (sk) for (const t of sk.split(/\s+/)) if (t) out.add(t.toLowerCase());
  return [...out];
}

/** JSON error body with the given status (`{ "error": reason }`). */
export function jsonError(status: number, error: string, headers?: HeadersInit): Response {
  const h = new Headers(headers);
  h.set("content-type", "application/json; charset=utf-8");
  return new Response(JSON.stringify({ error }), { status, headers: h });
}
