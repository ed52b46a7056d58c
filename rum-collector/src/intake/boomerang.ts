/**
 * Maps a boomerang beacon (GET query or POST form parameters) onto our `BeaconPayload`, so
 * sites already running boomerang can point `beacon_url` at `/_rum/v1/boomerang`. Pure; the
 * result still goes through `validateBeacon`. The mapping table and the page-view rules (which
 * beacons are page views, their ids and `seq` order) are in the collector README ("boomerang").
 */
import { EFFECTIVE_CONNECTION_TYPES, NAV_TYPES, PVID_PATTERN } from "../../../common/src/beacon-schema.ts";
import type { BeaconPayload, NavTiming } from "../../../common/src/rum-types.ts";
import { derivedPageViewId, type ParamReader, type Params, paramReader } from "./boomerang-params.ts";

export type { Params } from "./boomerang-params.ts";

export type BoomerangMapping =
  | { kind: "beacon"; beacon: BeaconPayload; invalidFields: number }
  | { kind: "ignored"; reason: string }
  | { kind: "invalid"; error: string };

/**
 * `seq` by beacon kind: an early beacon (`early`) < the page-load beacon < the unload beacon
 * (`rt.quit`), whatever order they arrive in, so the page-load values replace the early ones and
 * the unload beacon only adds INP/CLS (it carries nothing else).
 */
export const BOOMERANG_SEQ = { early: 0, load: 1, quit: 2 } as const;

// Navigation Timing Level 1 `performance.navigation.type` codes as boomerang sends them (a Map:
// a plain object would answer "constructor" or "__proto__" from its prototype).
const NAV_TYPE_CODES = new Map<string, NavTiming["type"]>([
  ["0", "navigate"],
  ["1", "reload"],
  ["2", "back_forward"],
  ["255", "navigate"],
]);
const ECT_PATTERN = new RegExp(`^(${EFFECTIVE_CONNECTION_TYPES.join("|")})$`);
// boomerang's session id (`rt.si`): a UUID and a random suffix.
const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;
/** Page-load initiators: none (a plain page load), a SPA hard navigation, a bfcache restore. */
const PAGE_VIEW_INITIATORS = new Set(["", "spa_hard", "bfcache"]);

/**
 * Maps boomerang params for registered site `site`. Beacons that are not page views
 * (`http.initiator` other than none, `spa_hard` or `bfcache`) come back "ignored". An invalid
 * optional value is dropped and counted in `invalidFields`; only a missing page URL or a page
 * view that cannot be identified makes the whole beacon invalid.
 */
export function boomerangToBeacon(params: Params, site: string): BoomerangMapping {
  const initiator = params.get("http.initiator") ?? "";
  if (!PAGE_VIEW_INITIATORS.has(initiator)) {
    return { kind: "ignored", reason: `not a page view (http.initiator=${initiator})` };
  }
  const bfcache = initiator === "bfcache";
  // `pgu` is the page URL on beacons whose `u` is something else (boomerang's XHR/SPA beacons).
  const url = params.get("pgu") || params.get("u");
  if (!url) return { kind: "invalid", error: "u: required field is missing" };

  const r = paramReader(params);
  const quit = params.has("rt.quit");
  const early = r.flag("early");
  const navStart = r.epoch("nt_nav_st");
  const tStart = r.epoch("rt.tstart");
  const sid = r.match("rt.si", SESSION_ID_PATTERN);
  const pid = params.get("pid");
  const validPid = pid !== null && PVID_PATTERN.test(pid) ? pid : undefined;
  if (pid !== null && validPid === undefined) r.invalid();

  const pvid = pageViewId({ bfcache, pid: validPid, sid: params.get("rt.si") ?? "", navStart, tStart, url });
  if (pvid === null) {
    return {
      kind: "invalid",
      error: bfcache
        ? "rt.tstart: required on a bfcache beacon (the restore's start names its page view)"
        : "pid: required (or nt_nav_st / rt.tstart to derive a page-view id)",
    };
  }

  const n = r.num("n", 1, 1000, true);
  const seq = quit ? Math.max(BOOMERANG_SEQ.quit, n ?? 0) : early ? BOOMERANG_SEQ.early : BOOMERANG_SEQ.load;
  const beacon: BeaconPayload = { v: 1, site, pvid, seq, url, vitals: {} };
  if (sid !== undefined) beacon.sid = sid;

  if (quit) {
    // The unload beacon is an update: final INP and CLS only, never a second page load.
    setIf(beacon.vitals, "inp", r.ms("et.inp"));
    setIf(beacon.vitals, "cls", r.cls("c.cls"));
    return { kind: "beacon", beacon, invalidFields: r.invalidCount };
  }

  const nav = bfcache ? restoredNav() : navStart === undefined ? undefined : navTiming(params, r, navStart);
  if (nav) beacon.nav = nav;
  // boomerang sends t_resp 0 on a bfcache beacon: the restore has no request.
  const ttfb = r.ms("t_resp") ?? (bfcache ? 0 : nav?.responseStart);
  if (ttfb !== undefined) beacon.vitals.ttfb = ttfb;
  setIf(beacon.vitals, "lcp", r.ms("pt.lcp"));
  setIf(beacon.vitals, "fcp", r.ms("pt.fcp"));
  setIf(beacon.vitals, "cls", r.cls("c.cls"));
  setIf(beacon.vitals, "inp", r.ms("et.inp"));

  const net: NonNullable<BeaconPayload["net"]> = {};
  const ect = r.match("mob.etype", ECT_PATTERN);
  if (ect !== undefined) net.ect = ect;
  setIf(net, "rtt", r.ms("mob.rtt"));
  setIf(net, "downlink", r.num("mob.dl", 0, 100_000));
  if (Object.keys(net).length > 0) beacon.net = net;
  setIf(beacon, "dpr", r.num("scr.dpx", 0, 16));
  return { kind: "beacon", beacon, invalidFields: r.invalidCount };
}

interface IdFacts {
  bfcache: boolean;
  pid: string | undefined;
  sid: string;
  navStart: number | undefined;
  tStart: number | undefined;
  url: string;
}

/**
 * `pid` when valid; a bfcache beacon carries the pid of the page it restores, so its id is
 * derived from that pid and the restore's start (`rt.tstart`); without a pid, from the session
 * id, the start (`rt.tstart`, else `nt_nav_st`) and the URL. null when nothing identifies it.
 */
function pageViewId(f: IdFacts): string | null {
  if (f.bfcache) {
    if (f.tStart === undefined) return null;
    return derivedPageViewId(["bfcache", f.pid ?? f.sid, String(f.tStart), stripFragment(f.url)]);
  }
  if (f.pid !== undefined) return f.pid;
  const start = f.tStart ?? f.navStart;
  if (start === undefined) return null;
  return derivedPageViewId([f.sid, String(start), stripFragment(f.url)]);
}

function stripFragment(url: string): string {
  const hash = url.indexOf("#");
  return hash === -1 ? url : url.slice(0, hash);
}

/** A page view restored from the back/forward cache: no network phases at all. */
function restoredNav(): NavTiming {
  return {
    type: "back_forward_cache",
    redirectStart: 0,
    redirectEnd: 0,
    fetchStart: 0,
    domainLookupStart: 0,
    domainLookupEnd: 0,
    connectStart: 0,
    secureConnectionStart: 0,
    connectEnd: 0,
    requestStart: 0,
    responseStart: 0,
    responseEnd: 0,
    domInteractive: 0,
    domContentLoadedEventEnd: 0,
    loadEventEnd: 0,
    transferSize: 0,
    encodedBodySize: 0,
    deliveryType: "",
    activationStart: 0,
  };
}

function navTiming(params: Params, r: ParamReader, navStart: number): NavTiming | undefined {
  // boomerang sends epoch ms; 0 or absent means "did not happen" (as in Navigation Timing). A
  // value before the navigation start or more than 10 minutes after it is dropped and counted.
  const rel = (name: string): number | undefined => {
    if (params.get(name) === "0") return undefined;
    const t = r.epoch(name);
    if (t === undefined) return undefined;
    const d = t - navStart;
    if (d < 0 || d > 600_000) {
      r.invalid();
      return undefined;
    }
    return d;
  };
  const responseStart = rel("nt_res_st");
  if (responseStart === undefined) return undefined;
  const dnsStart = rel("nt_dns_st");
  const requestStart = rel("nt_req_st") ?? 0;
  const prerendered = r.flag("vis.pre");
  const tDone = r.ms("t_done");
  return {
    type: prerendered ? "prerender" : navType(params.get("nt_nav_type"), r),
    redirectStart: rel("nt_red_st") ?? 0,
    redirectEnd: rel("nt_red_end") ?? 0,
    // Unreported phase starts collapse onto the next phase, so they add 0 ms, never a guess.
    fetchStart: rel("nt_fet_st") ?? dnsStart ?? requestStart,
    domainLookupStart: dnsStart ?? requestStart,
    domainLookupEnd: rel("nt_dns_end") ?? dnsStart ?? requestStart,
    connectStart: rel("nt_con_st") ?? requestStart,
    secureConnectionStart: rel("nt_ssl_st") ?? 0,
    connectEnd: rel("nt_con_end") ?? requestStart,
    requestStart,
    responseStart,
    responseEnd: rel("nt_res_end") ?? responseStart,
    domInteractive: rel("nt_domint") ?? 0,
    domContentLoadedEventEnd: rel("nt_domcontloaded_end") ?? 0,
    loadEventEnd: rel("nt_load_end") ?? tDone ?? 0,
    transferSize: r.num("nt_trn_size", 0, 1e10, true) ?? 0,
    encodedBodySize: r.num("nt_enc_size", 0, 1e10, true) ?? 0,
    deliveryType: "",
    // boomerang's t_prerender: from the start of the prerender to the page being shown.
    activationStart: prerendered ? (r.ms("t_prerender") ?? 0) : 0,
  };
}

function navType(raw: string | null, r: ParamReader): NavTiming["type"] {
  if (raw === null || raw === "") return "navigate";
  const t = NAV_TYPE_CODES.get(raw) ?? ((NAV_TYPES as readonly string[]).includes(raw) ? raw : undefined);
  if (t === undefined) {
    r.invalid();
    return "navigate";
  }
  return t;
}

function setIf<T extends object, K extends keyof T>(obj: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) obj[key] = value;
}
