/**
 * Which request headers reach the origin, and which requests are personal. A shared cache keys a
 * response on URL (plus Vary); any request header the origin reacts to but the key does not
 * hold is an unkeyed input a client can use to poison the cache for everyone. So cacheable
 * requests carry only an allow-list of headers (plus those a rule keys on or forwards), and
 * headers that rewrite the request's meaning at common origins are dropped on every request.
 */

/** Request headers forwarded on cacheable requests (lower-case). Negotiation + client hints. */
export const CACHEABLE_FORWARD_HEADERS: readonly string[] = [
  "accept",
  "accept-encoding",
  "accept-language",
  "user-agent",
  "referer",
  "save-data",
  "ect",
  "dpr",
  "width",
  "viewport-width",
  "device-memory",
  "rtt",
  "downlink",
  "sec-ch-width",
  "sec-ch-dpr",
  "sec-ch-viewport-width",
  "sec-ch-ua",
  "sec-ch-ua-mobile",
  "sec-ch-ua-platform",
  "sec-fetch-dest",
  "sec-fetch-mode",
  "sec-fetch-site",
  "sec-purpose",
  "purpose",
  "cf-ipcountry",
  "cf-connecting-ip",
  "cf-ray",
  "cf-visitor",
];

/**
 * Headers dropped on every proxied request: method and URL overrides honoured by many
 * frameworks, and client-supplied forwarding headers (the edge sets its own).
 */
export const DROPPED_REQUEST_HEADERS: readonly string[] = [
  "x-http-method-override",
  "x-http-method",
  "x-method-override",
  "x-original-url",
  "x-rewrite-url",
  "x-original-host",
  "x-forwarded-prefix",
  "x-forwarded-server",
  "x-forwarded-port",
  "x-forwarded-scheme",
  "x-host",
  "forwarded",
  "x-forwarded-for",
  "x-forwarded-host",
  "x-forwarded-proto",
  "x-real-ip",
];

/** Session cookie names (and `prefix*` patterns) that make a request personal by default. */
export const DEFAULT_BYPASS_COOKIES: readonly string[] = [
  "session",
  "sessionid",
  "session_id",
  "sid",
  "cart",
  "PHPSESSID",
  "JSESSIONID",
  "ASP.NET_SessionId",
  ".AspNetCore.Session",
  ".ASPXAUTH",
  "connect.sid",
  "laravel_session",
  "_session_id",
  "rack.session",
  "ci_session",
  "CFID",
  "CFTOKEN",
  "wordpress_logged_in_*",
  "wordpress_sec_*",
  "wp-postpass_*",
  "woocommerce_items_in_cart",
  "woocommerce_cart_hash",
  "wp_woocommerce_session_*",
  "SESS*",
  "SSESS*",
  "__Host-session*",
  "__Secure-session*",
];

/** Compiled cookie-name list: exact names and `prefix*` patterns (case-sensitive, as cookies are). */
export interface CookieMatcher {
  exact: ReadonlySet<string>;
  prefixes: readonly string[];
}

/** Compiles names such as `["PHPSESSID", "wordpress_logged_in_*"]` (default DEFAULT_BYPASS_COOKIES). */
export function compileCookieMatcher(names: readonly string[] = DEFAULT_BYPASS_COOKIES): CookieMatcher {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const n of names) {
    if (n.endsWith("*")) prefixes.push(n.slice(0, -1));
    else exact.add(n);
  }
  return { exact, prefixes };
}

/** True when a cookie name matches the list. */
export function cookieMatches(name: string, m: CookieMatcher): boolean {
  if (m.exact.has(name)) return true;
  for (const p of m.prefixes) if (name.startsWith(p)) return true;
  return false;
}

/** True when the `Cookie` header holds a cookie the matcher lists. */
export function hasMatchingCookie(cookie: string | null, m: CookieMatcher): boolean {
  if (!cookie) return false;
  for (const part of cookie.split(";")) {
    const eq = part.indexOf("=");
    const name = (eq === -1 ? part : part.slice(0, eq)).trim();
    if (name !== "" && cookieMatches(name, m)) return true;
  }
  return false;
}

/** The `Cookie` header reduced to the cookies the matcher lists, or null when none is left. */
export function keepCookies(cookie: string | null, m: CookieMatcher): string | null {
  if (!cookie) return null;
  const kept: string[] = [];
  for (const part of cookie.split(";")) {
    const eq = part.indexOf("=");
    const name = (eq === -1 ? part : part.slice(0, eq)).trim();
    if (name !== "" && cookieMatches(name, m)) kept.push(part.trim());
  }
  return kept.length === 0 ? null : kept.join("; ");
}

/** True when `Sec-Purpose` or `Purpose` says the request is a prefetch (or prerender). */
export function isPrefetchPurpose(secPurpose: string | null, purpose: string | null): boolean {
  const v = secPurpose ?? purpose;
  return v !== null && /(^|[\s,;])prefetch($|[\s,;])/i.test(v);
}

/** Methods a cache treats as safe (RFC 9110 §9.2.1); any other method invalidates (RFC 9111 §4.4). */
export function isSafeMethod(method: string): boolean {
  return method === "GET" || method === "HEAD" || method === "OPTIONS" || method === "TRACE";
}
