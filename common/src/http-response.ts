/**
 * The Worker's shared HTTP helpers: one JSON error shape, one bearer-token check and one
 * path-prefix test, used by the edge, the collector and the dashboards. Pure (no runtime imports
 * beyond the web-standard Response/Headers).
 */
import { bearerToken, tokensEqual } from "./secret-token.ts";

/** JSON error body `{ "error": reason }` with the given status and `content-type: application/json`. */
export function jsonError(status: number, error: string, headers?: HeadersInit): Response {
  const h = new Headers(headers);
  h.set("content-type", "application/json; charset=utf-8");
  return new Response(JSON.stringify({ error }), { status, headers: h });
}

/** Result of checking an `Authorization` header against the configured token. */
export type BearerCheck = "ok" | "missing" | "invalid";

/**
 * Checks `Authorization: Bearer <token>` against `expected` in constant time (per length):
 * "missing" when there is no bearer token at all, "invalid" when it does not match.
 */
export function checkBearer(header: string | null | undefined, expected: string): BearerCheck {
  const token = bearerToken(header?.trim());
  if (token === null) return "missing";
  return tokensEqual(token, expected) ? "ok" : "invalid";
}

/** Index of the path's first "/" in a serialised absolute URL, or -1 (no path). */
export function pathStart(url: string): number {
  return url.indexOf("/", url.indexOf("//") + 2);
}

/**
 * True when the path of the absolute URL `url` starts with `prefix` (e.g. "/_edge/"), tested in
 * place without parsing the URL. A prefix without a trailing "/" matches only at a segment end
 * ("/_dash" matches "/_dash", "/_dash/x", "/_dash?q", not "/_dashboard").
 */
export function hasPathPrefix(url: string, prefix: string): boolean {
  const p = pathStart(url);
  if (p === -1 || !url.startsWith(prefix, p)) return false;
  if (prefix.endsWith("/")) return true;
  const next = url.charAt(p + prefix.length);
  return next === "" || next === "/" || next === "?" || next === "#";
}
