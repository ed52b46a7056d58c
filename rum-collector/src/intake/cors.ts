/**
 * CORS for the intake: only origins registered in `RUM_SITES` get `Access-Control-Allow-Origin`
 * (echoed, with `Vary: Origin`); a request carrying any other Origin is refused with 403 and no
 * CORS headers. Requests without an Origin (server-side senders, image beacons) pass here; the
 * handlers then accept them only for sites listed in `RUM_NO_ORIGIN_SITES`.
 */
import type { CollectorConfig } from "../config.ts";

export type OriginCheck =
  | { kind: "absent" }
  | { kind: "registered"; origin: string; site: string }
  | { kind: "forbidden"; origin: string };

/** Classifies the request's `Origin` header against the registered sites. */
export function checkOrigin(request: Request, config: CollectorConfig): OriginCheck {
  const origin = request.headers.get("origin");
  if (origin === null) return { kind: "absent" };
  const site = config.siteByOrigin.get(origin);
  return site === undefined ? { kind: "forbidden", origin } : { kind: "registered", origin, site };
}

/** Headers every response to a registered origin carries (`Vary: Origin` in all cases). */
export function corsHeaders(check: OriginCheck): Record<string, string> {
  return check.kind === "registered"
    ? { "Access-Control-Allow-Origin": check.origin, Vary: "Origin" }
    : { Vary: "Origin" };
}

/** Preflight answer for `methods`; the allowed request header is Content-Type only (cached 1 day). */
export function preflightHeaders(check: OriginCheck, methods: string): Record<string, string> {
  return {
    ...corsHeaders(check),
    "Access-Control-Allow-Methods": methods,
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Max-Age": "86400",
  };
}

/**
 * The origin (`scheme://host[:port]`, normalised as `URL.origin`) of an absolute page URL, or null
 * when it does not parse. A URL whose literal prefix already is a registered origin skips the parse.
 */
export function pageOrigin(url: string, registered: ReadonlyMap<string, string>): string | null {
  const hostStart = url.indexOf("//") + 2;
  let end = hostStart;
  while (end < url.length) {
    const c = url.charCodeAt(end);
    if (c === 47 /* / */ || c === 63 /* ? */ || c === 35 /* # */) break;
    end++;
  }
  const prefix = url.slice(0, end);
  if (hostStart > 1 && registered.has(prefix)) return prefix;
  try {
    const origin = new URL(url).origin;
    return origin === "null" ? null : origin;
  } catch {
    return null;
  }
}
