/**
 * A hand-written check of the common, well-formed beacon, in front of the valibot schema
 * (common/src/beacon-schema.ts). valibot runs a pipe of 3–4 actions per numeric field, about 200
 * actions per beacon (the largest share of the intake's own CPU after reading the body); this does
 * the same checks as plain comparisons. It never decides a rejection: whenever anything is not
 * exactly as the schema accepts (a wrong type, a value out of range, an absent required key, an
 * `undefined` value, an array where an object belongs), it returns null and the caller runs
 * valibot, which gives the 400 reason. When it returns a beacon, it is the object valibot would
 * return (same keys, unknown keys dropped, same values); a property test holds the two together.
 */
import {
  EFFECTIVE_CONNECTION_TYPES,
  MAX_CLS,
  MAX_CONVERSION_VALUE,
  MAX_DURATION_MS,
  NAV_MS_KEYS,
  NAV_TYPES,
  PREFETCH_ARMS,
  PVID_PATTERN,
  SITE_ID_PATTERN,
} from "../../../common/src/beacon-schema.ts";
import type { BeaconPayload } from "../../../common/src/rum-types.ts";

type Obj = Record<string, unknown>;

const MAX_URL_LENGTH = 2048;
const RID_PATTERN = /^[A-Za-z0-9_.:-]+$/;
const NAV_TYPE_SET: ReadonlySet<unknown> = new Set(NAV_TYPES);
const ECT_SET: ReadonlySet<unknown> = new Set(EFFECTIVE_CONNECTION_TYPES);
const ARM_SET: ReadonlySet<unknown> = new Set(PREFETCH_ARMS);
const LCP_PART_KEYS = ["ttfb", "resourceLoadDelay", "resourceLoadDuration", "elementRenderDelay"] as const;
// Vitals in schema order around `cls`: lcp, inp, (cls), fcp, ttfb.
const VITALS_BEFORE_CLS = ["lcp", "inp"] as const;
const VITALS_AFTER_CLS = ["fcp", "ttfb"] as const;

/** Thrown inside the check to bail out to valibot; never escapes `fastValidBeacon`. */
const BAIL = Symbol("bail");

function isObj(x: unknown): x is Obj {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function num(x: unknown, min: number, max: number): number {
  if (typeof x !== "number" || !(x >= min && x <= max)) throw BAIL;
  return x;
}

function int(x: unknown, min: number, max: number): number {
  if (typeof x !== "number" || !Number.isInteger(x) || x < min || x > max) throw BAIL;
  return x;
}

function str(x: unknown, max: number, pattern?: RegExp): string {
  if (typeof x !== "string" || x.length > max || (pattern !== undefined && !pattern.test(x))) throw BAIL;
  return x;
}

function bool(x: unknown): boolean {
  if (typeof x !== "boolean") throw BAIL;
  return x;
}

/** The value of an optional key: absent → undefined; present as `undefined` → bail (valibot keeps such keys). */
function optional(o: Obj, key: string): unknown {
  const x = o[key];
  if (x === undefined && key in o) throw BAIL;
  return x;
}

function nav(x: unknown): NonNullable<BeaconPayload["nav"]> {
  if (!isObj(x) || !NAV_TYPE_SET.has(x.type)) throw BAIL;
  const out: Obj = { type: x.type };
  for (const k of NAV_MS_KEYS) out[k] = num(x[k], 0, MAX_DURATION_MS);
  out.transferSize = int(x.transferSize, 0, 1e10);
  out.encodedBodySize = int(x.encodedBodySize, 0, 1e10);
  out.deliveryType = str(x.deliveryType, 32);
  out.activationStart = num(x.activationStart, 0, MAX_DURATION_MS);
  return out as unknown as NonNullable<BeaconPayload["nav"]>;
}

function serverTiming(x: unknown): NonNullable<BeaconPayload["serverTiming"]> {
  if (!Array.isArray(x) || x.length > 32) throw BAIL;
  const out: Obj[] = new Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const e: unknown = x[i];
    if (!isObj(e)) throw BAIL;
    out[i] = {
      name: str(e.name, 64),
      duration: num(e.duration, 0, MAX_DURATION_MS),
      description: str(e.description, 128),
    };
  }
  return out as unknown as NonNullable<BeaconPayload["serverTiming"]>;
}

function vitals(x: unknown): BeaconPayload["vitals"] {
  if (!isObj(x)) throw BAIL;
  const out: Obj = {};
  for (const k of VITALS_BEFORE_CLS) {
    const v = optional(x, k);
    if (v !== undefined) out[k] = num(v, 0, MAX_DURATION_MS);
  }
  const cls = optional(x, "cls");
  if (cls !== undefined) out.cls = num(cls, 0, MAX_CLS);
  for (const k of VITALS_AFTER_CLS) {
    const v = optional(x, k);
    if (v !== undefined) out[k] = num(v, 0, MAX_DURATION_MS);
  }
  return out as BeaconPayload["vitals"];
}

function lcpParts(x: unknown): NonNullable<BeaconPayload["lcpParts"]> {
  if (!isObj(x)) throw BAIL;
  const out: Obj = {};
  for (const k of LCP_PART_KEYS) out[k] = num(x[k], 0, MAX_DURATION_MS);
  return out as unknown as NonNullable<BeaconPayload["lcpParts"]>;
}

function net(x: unknown): NonNullable<BeaconPayload["net"]> {
  if (!isObj(x)) throw BAIL;
  const out: Obj = {};
  const ect = optional(x, "ect");
  if (ect !== undefined) {
    if (!ECT_SET.has(ect)) throw BAIL;
    out.ect = ect;
  }
  const rtt = optional(x, "rtt");
  if (rtt !== undefined) out.rtt = num(rtt, 0, MAX_DURATION_MS);
  const downlink = optional(x, "downlink");
  if (downlink !== undefined) out.downlink = num(downlink, 0, 100_000);
  const saveData = optional(x, "saveData");
  if (saveData !== undefined) out.saveData = bool(saveData);
  return out as NonNullable<BeaconPayload["net"]>;
}

function httpUrl(x: unknown): string {
  const url = str(x, MAX_URL_LENGTH);
  if (!(url.startsWith("http://") || url.startsWith("https://")) || !URL.canParse(url)) throw BAIL;
  return url;
}

/**
 * The validated beacon for a JSON-parsed `input` of the common shape, or null when valibot must
 * decide (no defaults; null is never a verdict by itself).
 */
export function fastValidBeacon(input: unknown): BeaconPayload | null {
  if (!isObj(input)) return null;
  try {
    if (input.v !== 1) return null;
    const out: Obj = {
      v: 1,
      site: str(input.site, 64, SITE_ID_PATTERN),
      pvid: str(input.pvid, 64, PVID_PATTERN),
      seq: int(input.seq, 0, 1000),
      url: httpUrl(input.url),
    };
    const rid = optional(input, "rid");
    if (rid !== undefined) out.rid = str(rid, 64, RID_PATTERN);
    const n = optional(input, "nav");
    if (n !== undefined) out.nav = nav(n);
    const st = optional(input, "serverTiming");
    if (st !== undefined) out.serverTiming = serverTiming(st);
    out.vitals = vitals(input.vitals);
    const lp = optional(input, "lcpParts");
    if (lp !== undefined) out.lcpParts = lcpParts(lp);
    const nt = optional(input, "net");
    if (nt !== undefined) out.net = net(nt);
    const vp = optional(input, "viewport");
    if (vp !== undefined) {
      if (!isObj(vp)) return null;
      out.viewport = { w: int(vp.w, 0, 100_000), h: int(vp.h, 0, 100_000) };
    }
    const dpr = optional(input, "dpr");
    if (dpr !== undefined) out.dpr = num(dpr, 0, 16);
    const holdout = optional(input, "holdout");
    if (holdout !== undefined) out.holdout = bool(holdout);
    const sid = optional(input, "sid");
    if (sid !== undefined) out.sid = str(sid, 64, PVID_PATTERN);
    const prev = optional(input, "prev");
    if (prev !== undefined) out.prev = str(prev, 64, PVID_PATTERN);
    const arm = optional(input, "arm");
    if (arm !== undefined) {
      if (!ARM_SET.has(arm)) return null;
      out.arm = arm;
    }
    const conv = optional(input, "conv");
    if (conv !== undefined) {
      if (!isObj(conv)) return null;
      out.conv = { value: num(conv.value, 0, MAX_CONVERSION_VALUE) };
    }
    return out as unknown as BeaconPayload;
  } catch (e) {
    if (e === BAIL) return null;
    throw e;
  }
}
