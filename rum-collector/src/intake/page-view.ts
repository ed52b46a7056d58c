/**
 * Builds the queue message for one accepted beacon: server-side dimensions, page group,
 * cache status and attribution. Pure; the IP and the raw User-Agent go in and never come out.
 */
import { attribute, cacheStatusFromServerTiming } from "../../../common/src/attribution.ts";
import { type PageGroupRule, pageGroupFor } from "../../../common/src/page-group.ts";
import type { BeaconPayload, PageViewMessage, ServerDimensions } from "../../../common/src/rum-types.ts";
import { classifyUserAgentCached } from "../../../common/src/user-agent.ts";

/** Dimension values used when `request.cf` is absent (local dev, tests). */
export const UNKNOWN_COUNTRY = "XX";
export const UNKNOWN_COLO = "local";

/** The parts of `request.cf` the collector reads. */
export interface CfFacts {
  country?: unknown;
  colo?: unknown;
  asn?: unknown;
}

/** Server-side dimensions from `request.cf` and the UA; defaults "XX" / "local" / ASN 0. */
export function serverDimensions(cf: CfFacts | undefined, userAgent: string | null): ServerDimensions {
  const { device, browser } = classifyUserAgentCached(userAgent);
  return {
    country: typeof cf?.country === "string" && cf.country !== "" ? cf.country : UNKNOWN_COUNTRY,
    colo: typeof cf?.colo === "string" && cf.colo !== "" ? cf.colo : UNKNOWN_COLO,
    asn: typeof cf?.asn === "number" && Number.isInteger(cf.asn) ? cf.asn : 0,
    device,
    browser,
  };
}

/** How the intake builds a page view's message (all optional). */
export interface PageViewOptions {
  /** Page-group rules (default: built-in grouping). */
  rules?: readonly PageGroupRule[];
  /** Collector sample rate the page view was kept at (default 1). */
  sampleRate?: number;
  /** Invalid fields dropped from the beacon (boomerang); recorded only when > 0. */
  invalidFields?: number;
  /** Page groups whose page views are conversions (`RUM_CONVERSION_GROUPS`). */
  conversionGroups?: ReadonlySet<string>;
}

/**
 * The `PageViewMessage` for a validated beacon received at `ts` (ms). Page group from the URL
 * path (query and fragment dropped) with `opts.rules`; `sampleRate` (default 1) is recorded so
 * counts can be re-weighted. A page view in one of `opts.conversionGroups` without a `conv` of
 * its own gets `conv: { value: 0 }` (converted, value unknown).
 */
export function toPageViewMessage(
  beacon: BeaconPayload,
  dims: ServerDimensions,
  ts: number,
  opts: PageViewOptions = {},
): PageViewMessage {
  const path = pathOf(beacon.url);
  const pageGroup = pageGroupFor(path, opts.rules ?? []);
  const converted = beacon.conv === undefined && opts.conversionGroups?.has(pageGroup) === true;
  const message: PageViewMessage = {
    kind: "pageview",
    ts,
    site: beacon.site,
    pvid: beacon.pvid,
    seq: beacon.seq,
    pageGroup,
    path,
    dims,
    cacheStatus: cacheStatusFromServerTiming(beacon.serverTiming),
    beacon: converted ? { ...beacon, conv: { value: 0 } } : beacon,
    attribution: attribute(beacon),
    sampleRate: opts.sampleRate ?? 1,
  };
  if (opts.invalidFields) message.invalidFields = opts.invalidFields;
  return message;
}

/** Path of an absolute URL without query or fragment ("/" when the URL has no path). */
export function pathOf(url: string): string {
  const hostStart = url.indexOf("//") + 2;
  const rest = url.slice(hostStart);
  const cut = rest.search(/[/?#]/);
  if (cut === -1 || rest[cut] !== "/") return "/";
  const path = rest.slice(cut);
  const end = path.search(/[?#]/);
  return end === -1 ? path : path.slice(0, end);
}
