/**
 * Speculation safety, pure: which URLs may be speculated (same origin, non-personal, not denied),
 * which responses may be speculated or warmed (cacheable, not private), and which clients get no
 * speculation (Save-Data, slow effective connection type). A prefetched personal page would leak
 * state into a shared cache or act on the visitor's behalf (a logout link), so every check fails
 * closed.
 */
import { parseCacheControl } from "../cache-control.ts";

/** Path rules (`/cart` matches `/cart` and `/cart/…`; a trailing `*` matches any rest). */
export interface SpeculationPolicy {
  /** Never speculated. Default: cart, checkout, account, login, logout, signin/out, register, admin. */
  denyPaths: string[];
  /** Never speculated when they carry a query (a search result is personal and endless). Default `/search`. */
  queryDenyPaths: string[];
  /** Cookie names that mark a visitor's session: a request carrying one gets no speculation. */
  sessionCookies: string[];
  /** Slowest effective connection type (`ECT` client hint) that still gets speculation. Default "3g". */
  minEct: Ect;
}

export type Ect = "slow-2g" | "2g" | "3g" | "4g";
const ECT_ORDER: readonly Ect[] = ["slow-2g", "2g", "3g", "4g"];

export const DEFAULT_SPECULATION_POLICY: Readonly<SpeculationPolicy> = Object.freeze({
  denyPaths: [
    "/cart",
    "/checkout",
    "/account",
    "/login",
    "/logout",
    "/signin",
    "/signout",
    "/register",
    "/admin",
  ],
  queryDenyPaths: ["/search"],
  sessionCookies: ["session", "sid", "sessionid"],
  minEct: "3g",
});

function matches(path: string, rule: string): boolean {
  if (rule.endsWith("*")) return path.startsWith(rule.slice(0, -1));
  return path === rule || path.startsWith(`${rule.endsWith("/") ? rule : `${rule}/`}`);
}

/** Why a candidate URL may not be speculated, or null when it may (relative to `origin`). */
export function urlDenyReason(candidate: string, origin: string, policy: SpeculationPolicy): string | null {
  let u: URL;
  try {
    u = new URL(candidate, origin);
  } catch {
    return "not a URL";
  }
  if (u.origin !== new URL(origin).origin) return "cross-origin";
  if (u.username !== "" || u.password !== "") return "credentials in URL";
  const decoded = decodePath(u.pathname);
  if (decoded === null) return "undecodable path";
  const path = decoded.toLowerCase();
  for (const rule of policy.denyPaths) if (matches(path, rule.toLowerCase())) return `denied path ${rule}`;
  if (u.search !== "" && u.search !== "?")
    for (const rule of policy.queryDenyPaths)
      if (matches(path, rule.toLowerCase())) return `query on ${rule}`;
  return null;
}

/** Percent-decoded path (so `/%63art` is `/cart`), or null when it does not decode. */
function decodePath(p: string): string | null {
  try {
    return decodeURIComponent(p).replace(/\/{2,}/g, "/");
  } catch {
    return null;
  }
}

/** Why a response may not be speculated or warmed (private, uncacheable, sets a cookie), or null. */
export function responseDenyReason(
  status: number,
  headers: { get(name: string): string | null },
): string | null {
  if (status !== 200) return `status ${status}`;
  const ct = headers.get("content-type") ?? "";
  if (!/^\s*text\/html\b/i.test(ct)) return "not HTML";
  if (headers.get("set-cookie") !== null) return "sets a cookie";
  const cc = parseCacheControl(headers.get("cache-control"));
  if (cc.private || cc.noStore) return "Cache-Control private/no-store";
  const vary = (headers.get("vary") ?? "").toLowerCase();
  if (/(^|,)\s*(cookie|authorization|\*)\s*(,|$)/.test(vary)) return `Vary: ${vary}`;
  return null;
}

/** Names of the cookies of a `Cookie` header. */
function cookieNames(header: string): string[] {
  return header.split(";").map((c) => c.split("=")[0]?.trim().toLowerCase() ?? "");
}

/** Why this request gets no speculation at all (personal, Save-Data, slow network), or null. */
export function clientDenyReason(
  headers: { get(name: string): string | null },
  policy: SpeculationPolicy,
): string | null {
  if (headers.get("authorization") !== null) return "Authorization";
  const cookie = headers.get("cookie");
  if (cookie) {
    const session = new Set(policy.sessionCookies.map((c) => c.toLowerCase()));
    if (cookieNames(cookie).some((n) => session.has(n))) return "session cookie";
  }
  if ((headers.get("save-data") ?? "").trim().toLowerCase() === "on") return "Save-Data";
  const ect = (headers.get("ect") ?? "").trim().toLowerCase() as Ect;
  const rank = ECT_ORDER.indexOf(ect);
  if (rank !== -1 && rank < ECT_ORDER.indexOf(policy.minEct)) return `ECT ${ect}`;
  return null;
}

/**
 * True when the request is a speculative load (`Sec-Purpose: prefetch` or `prefetch;prerender`,
 * RFC 8941 list; also the legacy `Purpose: prefetch`). Such a request is no page view and must
 * never lead to further speculation.
 */
export function isSpeculativeRequest(headers: { get(name: string): string | null }): boolean {
  return isSpeculativePurpose(headers.get("sec-purpose") ?? headers.get("purpose"));
}

/** `isSpeculativeRequest` on the value already read (`Sec-Purpose`, else `Purpose`; null = neither). */
export function isSpeculativePurpose(v: string | null): boolean {
  if (!v) return false;
  return v.split(",").some((item) => item.split(";")[0]?.trim().toLowerCase() === "prefetch");
}

/** True when `Sec-Purpose` says prerender (`prefetch;prerender`). */
export function isPrerenderRequest(headers: { get(name: string): string | null }): boolean {
  const v = headers.get("sec-purpose") ?? "";
  return v.split(",").some((item) => item.split(";").some((t) => t.trim().toLowerCase() === "prerender"));
}
