/**
 * Cache-key normalisation for the edge page cache: scheme + host + path + query, with
 * marketing parameters removed and the remaining parameters sorted by name, so that
 * `?utm_source=x&b=2&a=1` and `?a=1&b=2` share one cache entry.
 */

/** Marketing/click-id parameters dropped from cache keys by default (`name*` = prefix match). */
export const DEFAULT_MARKETING_PARAMS: readonly string[] = [
  "utm_*",
  "gclid",
  "gclsrc",
  "dclid",
  "gbraid",
  "wbraid",
  "fbclid",
  "msclkid",
  "yclid",
  "twclid",
  "ttclid",
  "li_fat_id",
  "igshid",
  "mc_cid",
  "mc_eid",
  "_ga",
  "_gl",
  "_hsenc",
  "_hsmi",
  "_ke",
];

/** Compiled form of a parameter list: exact names and `prefix*` patterns (lower-cased). */
export interface ParamMatcher {
  exact: ReadonlySet<string>;
  prefixes: readonly string[];
}

/** Compiles a list such as `["utm_*", "gclid"]` (default: DEFAULT_MARKETING_PARAMS) into a matcher. */
export function compileParamMatcher(list: readonly string[] = DEFAULT_MARKETING_PARAMS): ParamMatcher {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const raw of list) {
    const p = raw.trim().toLowerCase();
    if (!p) continue;
    if (p.endsWith("*")) prefixes.push(p.slice(0, -1));
    else exact.add(p);
  }
  return { exact, prefixes };
}

/** True when the (raw, possibly percent-encoded) parameter name is in the matcher (case-insensitive). */
export function matchesParam(rawName: string, m: ParamMatcher): boolean {
  let name = rawName;
  if (name.includes("%") || name.includes("+")) {
    try {
      name = decodeURIComponent(name.replace(/\+/g, " "));
    } catch {
      // Undecodable names are kept in the key as they are.
    }
  }
  name = name.toLowerCase();
  if (m.exact.has(name)) return true;
  for (const p of m.prefixes) if (name.startsWith(p)) return true;
  return false;
}

/**
 * Normalises a query string (with or without the leading `?`): drops empty pairs and the
 * parameters in `drop`, sorts the rest by name (stable, so repeated names keep their order)
 * and keeps each pair's original encoding. Returns "" or a string starting with "?".
 */
export function normalizeQuery(search: string, drop: ParamMatcher): string {
  const q = search.startsWith("?") ? search.slice(1) : search;
  if (!q) return "";
  const kept: { name: string; pair: string }[] = [];
  for (const pair of q.split("&")) {
    if (!pair) continue;
    const eq = pair.indexOf("=");
    const name = eq === -1 ? pair : pair.slice(0, eq);
    if (matchesParam(name, drop)) continue;
    kept.push({ name, pair });
  }
  if (kept.length === 0) return "";
  if (kept.length > 1) kept.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let out = "?";
  for (let i = 0; i < kept.length; i++) out += (i ? "&" : "") + (kept[i] as { pair: string }).pair;
  return out;
}

/** The parts of a parsed URL the key is built from (a WHATWG `URL` fits). */
export interface KeyUrl {
  protocol: string;
  host: string;
  pathname: string;
  search: string;
}

/**
 * Cache key for a URL: `scheme://host/path?sorted-query`, marketing parameters removed
 * (default list: DEFAULT_MARKETING_PARAMS), fragment never included.
 */
export function cacheKeyFor(url: KeyUrl, drop: ParamMatcher = compileParamMatcher()): string {
  const base = `${url.protocol}//${url.host}${url.pathname}`;
  return url.search ? base + normalizeQuery(url.search, drop) : base;
}
