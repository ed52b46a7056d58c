/**
 * Maps a boomerang beacon (GET query or POST form parameters) onto our `BeaconPayload`, so
 * sites already running boomerang can point `beacon_url` at `/_rum/v1/boomerang`. Pure; the
 * result still goes through `validateBeacon`. The mapping table is in the collector README.
 */
import { NAV_TYPES, PVID_PATTERN } from "../../../common/src/beacon-schema.ts";
import type { BeaconPayload, NavTiming } from "../../../common/src/rum-types.ts";

/** Read access to the beacon's parameters (URLSearchParams fits). */
export interface Params {
  get(name: string): string | null;
}

export type BoomerangMapping =
  | { kind: "beacon"; beacon: BeaconPayload }
  | { kind: "ignored"; reason: string }
  | { kind: "invalid"; error: string };

// Navigation Timing Level 1 `performance.navigation.type` codes as boomerang sends them.
const NAV_TYPE_CODES: Record<string, NavTiming["type"]> = {
  "0": "navigate",
  "1": "reload",
  "2": "back_forward",
  "255": "navigate",
};

/**
 * Maps boomerang params for registered site `site`. Beacons that are not page loads
 * (`http.initiator` other than `spa_hard`) come back "ignored". Unload beacons (`rt.quit`)
 * are updates of their page view (seq ≥ 1): they carry the final INP and CLS.
 */
export function boomerangToBeacon(params: Params, site: string): BoomerangMapping {
  const initiator = params.get("http.initiator");
  if (initiator !== null && initiator !== "" && initiator !== "spa_hard") {
    return { kind: "ignored", reason: `not a page load (http.initiator=${initiator})` };
  }

  const url = params.get("u");
  if (url === null || url === "") return { kind: "invalid", error: "u: required field is missing" };

  const navStart = num(params.get("nt_nav_st")) ?? num(params.get("rt.tstart"));
  const pvid = pageViewId(params, navStart);
  if (pvid === null) return { kind: "invalid", error: "pid: required (or rt.si with nt_nav_st/rt.tstart)" };

  const n = num(params.get("n"));
  let seq = n !== undefined && Number.isInteger(n) && n >= 1 ? n - 1 : 0;
  if (params.get("rt.quit") !== null) seq = Math.max(seq, 1);
  const beacon: BeaconPayload = {
    v: 1,
    site,
    pvid,
    seq,
    url,
    vitals: {},
  };
  const nav = navStart === undefined ? undefined : navTiming(params, navStart);
  if (nav) beacon.nav = nav;

  const ttfb = num(params.get("t_resp")) ?? nav?.responseStart;
  if (ttfb !== undefined) beacon.vitals.ttfb = ttfb;
  setIf(beacon.vitals, "lcp", num(params.get("pt.lcp")));
  setIf(beacon.vitals, "fcp", num(params.get("pt.fcp")));
  // Newer boomerang builds may compress c.cls; only a plain decimal score is taken.
  const cls = params.get("c.cls");
  if (cls !== null && /^(0|\d*\.\d+)$/.test(cls)) beacon.vitals.cls = Number(cls);
  setIf(beacon.vitals, "inp", num(params.get("et.inp")));

  const ect = params.get("mob.etype");
  const net: NonNullable<BeaconPayload["net"]> = {};
  if (ect !== null && ect !== "") net.ect = ect;
  setIf(net, "rtt", num(params.get("mob.rtt")));
  setIf(net, "downlink", num(params.get("mob.dl")));
  if (Object.keys(net).length > 0) beacon.net = net;

  const dpr = num(params.get("scr.dpx"));
  if (dpr !== undefined) beacon.dpr = dpr;
  return { kind: "beacon", beacon };
}

function pageViewId(params: Params, navStart: number | undefined): string | null {
  const pid = params.get("pid");
  if (pid !== null && PVID_PATTERN.test(pid)) return pid;
  // rt.si is the session id: with the navigation start it names one page view.
  const si = params.get("rt.si");
  if (si !== null && si !== "" && navStart !== undefined) {
    const id = `${si.replace(/[^A-Za-z0-9_-]/g, "")}-${Math.round(navStart)}`;
    return id.length > 64 ? id.slice(id.length - 64) : id;
  }
  return pid === null || pid === "" ? null : pid; // an invalid pid is reported by the schema
}

function navTiming(params: Params, navStart: number): NavTiming | undefined {
  const responseStart = num(params.get("nt_res_st"));
  if (responseStart === undefined) return undefined;
  // Boomerang sends epoch ms; 0 or absent means "did not happen" (as in Navigation Timing).
  const rel = (name: string): number | undefined => {
    const t = num(params.get(name));
    return t === undefined || t === 0 ? undefined : t - navStart;
  };
  const dnsStart = rel("nt_dns_st");
  const requestStart = rel("nt_req_st") ?? 0;
  const rawType = params.get("nt_nav_type") ?? "0";
  const type =
    NAV_TYPE_CODES[rawType] ??
    ((NAV_TYPES as readonly string[]).includes(rawType) ? (rawType as NavTiming["type"]) : "navigate");
  const responseEnd = rel("nt_res_end") ?? responseStart - navStart;
  const tDone = num(params.get("t_done"));
  return {
    type,
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
    responseStart: responseStart - navStart,
    responseEnd,
    domInteractive: rel("nt_domint") ?? 0,
    domContentLoadedEventEnd: rel("nt_domcontloaded_end") ?? 0,
    loadEventEnd: rel("nt_load_end") ?? tDone ?? 0,
    transferSize: num(params.get("nt_trn_size")) ?? 0,
    encodedBodySize: num(params.get("nt_enc_size")) ?? 0,
    deliveryType: "",
    activationStart: 0,
  };
}

function num(s: string | null): number | undefined {
  if (s === null || s === "") return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}

function setIf<T extends object, K extends keyof T>(obj: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) obj[key] = value;
}
