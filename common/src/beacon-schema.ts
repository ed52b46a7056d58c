/**
 * Validation of the beacon payload (`BeaconPayload`, see rum-types.ts) with plausibility bounds.
 * Pure: used by the collector for `/_rum/v1/beacon` and for records mapped from boomerang.
 * Unknown keys are dropped, so only documented fields ever reach the queue.
 */
import * as v from "valibot";
import type { BeaconPayload } from "./rum-types.ts";

/** Largest plausible duration or navigation timestamp (10 minutes, in ms). */
export const MAX_DURATION_MS = 600_000;
/** Largest plausible CLS score (shifts are ≤ 1 each; a session window can add up a few). */
export const MAX_CLS = 100;
/** Page-view id: 8–64 chars of [A-Za-z0-9_-]. */
export const PVID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;
/** Site id as registered in `RUM_SITES`: lowercase letters, digits, `_` and `-`, 1–64 chars. */
export const SITE_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
/** Navigation types the beacon (Navigation Timing, web-vitals) and boomerang can report. */
export const NAV_TYPES = [
  "navigate",
  "reload",
  "back_forward",
  "back-forward",
  "back-forward-cache",
  "back_forward_cache",
  "prerender",
  "restore",
] as const;
export const EFFECTIVE_CONNECTION_TYPES = ["slow-2g", "2g", "3g", "4g"] as const;
/** Prefetch experiment arms (`BeaconPayload.arm`). */
export const PREFETCH_ARMS = ["holdout", "ours", "press"] as const;
/** Largest conversion value accepted (`conv.value`, in the site's currency). */
export const MAX_CONVERSION_VALUE = 1e9;

const MAX_URL_LENGTH = 2048;

function bounded(min: number, max: number, unit: string) {
  const message = (issue: v.BaseIssue<unknown>) =>
    `expected ${unit} between ${min} and ${max} (got ${issue.received})`;
  return v.pipe(v.number(message), v.finite(message), v.minValue(min, message), v.maxValue(max, message));
}

function boundedInt(min: number, max: number, unit: string) {
  const message = (issue: v.BaseIssue<unknown>) =>
    `expected ${unit} between ${min} and ${max} (got ${issue.received})`;
  return v.pipe(v.number(message), v.integer(message), v.minValue(min, message), v.maxValue(max, message));
}

const ms = bounded(0, MAX_DURATION_MS, "a duration in ms");
const bytes = boundedInt(0, 1e10, "a byte count");

function shortString(max: number, pattern?: RegExp) {
  const message = (issue: v.BaseIssue<unknown>) =>
    `expected a string of at most ${max} chars${pattern ? ` matching ${pattern}` : ""} (got ${issue.received})`;
  return pattern
    ? v.pipe(v.string(message), v.maxLength(max, message), v.regex(pattern, message))
    : v.pipe(v.string(message), v.maxLength(max, message));
}

const httpUrl = v.pipe(
  v.string("expected the page URL as a string"),
  v.maxLength(MAX_URL_LENGTH, `expected a URL of at most ${MAX_URL_LENGTH} chars`),
  v.check(isHttpUrl, (issue) => `expected an absolute http(s) URL (got ${issue.received})`),
);

/** The navigation entry's timestamps the beacon sends (ms since time origin), in schema order. */
export const NAV_MS_KEYS = [
  "redirectStart",
  "redirectEnd",
  "fetchStart",
  "domainLookupStart",
  "domainLookupEnd",
  "connectStart",
  "secureConnectionStart",
  "connectEnd",
  "requestStart",
  "responseStart",
  "responseEnd",
  "domInteractive",
  "domContentLoadedEventEnd",
  "loadEventEnd",
] as const;

const navSchema = v.object({
  type: v.picklist(NAV_TYPES, (issue) => `expected one of ${NAV_TYPES.join(", ")} (got ${issue.received})`),
  ...(Object.fromEntries(NAV_MS_KEYS.map((k) => [k, ms])) as Record<(typeof NAV_MS_KEYS)[number], typeof ms>),
  transferSize: bytes,
  encodedBodySize: bytes,
  deliveryType: shortString(32),
  activationStart: ms,
});

const serverTimingSchema = v.pipe(
  v.array(
    v.object({
      name: shortString(64),
      duration: ms,
      description: shortString(128),
    }),
  ),
  v.maxLength(32, "expected at most 32 Server-Timing entries"),
);

/** valibot schema of `BeaconPayload` (schema version 1). */
export const beaconSchema = v.object({
  v: v.literal(1, (issue) => `unsupported schema version (got ${issue.received}, expected 1)`),
  site: shortString(64, SITE_ID_PATTERN),
  pvid: shortString(64, PVID_PATTERN),
  seq: boundedInt(0, 1000, "an integer"),
  url: httpUrl,
  rid: v.optional(shortString(64, /^[A-Za-z0-9_.:-]+$/)),
  nav: v.optional(navSchema),
  serverTiming: v.optional(serverTimingSchema),
  vitals: v.object({
    lcp: v.optional(ms),
    inp: v.optional(ms),
    cls: v.optional(bounded(0, MAX_CLS, "a layout shift score")),
    fcp: v.optional(ms),
    ttfb: v.optional(ms),
  }),
  lcpParts: v.optional(
    v.object({
      ttfb: ms,
      resourceLoadDelay: ms,
      resourceLoadDuration: ms,
      elementRenderDelay: ms,
    }),
  ),
  net: v.optional(
    v.object({
      ect: v.optional(
        v.picklist(
          EFFECTIVE_CONNECTION_TYPES,
          (issue) => `expected one of ${EFFECTIVE_CONNECTION_TYPES.join(", ")} (got ${issue.received})`,
        ),
      ),
      rtt: v.optional(ms),
      downlink: v.optional(bounded(0, 100_000, "a downlink in Mbit/s")),
      saveData: v.optional(v.boolean((issue) => `expected a boolean (got ${issue.received})`)),
    }),
  ),
  viewport: v.optional(
    v.object({ w: boundedInt(0, 100_000, "CSS pixels"), h: boundedInt(0, 100_000, "CSS pixels") }),
  ),
  dpr: v.optional(bounded(0, 16, "a device pixel ratio")),
  holdout: v.optional(v.boolean((issue) => `expected a boolean (got ${issue.received})`)),
  sid: v.optional(shortString(64, PVID_PATTERN)),
  prev: v.optional(shortString(64, PVID_PATTERN)),
  arm: v.optional(
    v.picklist(
      PREFETCH_ARMS,
      (issue) => `expected one of ${PREFETCH_ARMS.join(", ")} (got ${issue.received})`,
    ),
  ),
  conv: v.optional(v.object({ value: bounded(0, MAX_CONVERSION_VALUE, "a conversion value") })),
});

export type BeaconValidation = { ok: true; beacon: BeaconPayload } | { ok: false; error: string };

/**
 * Validates an already JSON-parsed value as a `BeaconPayload`. Returns the first problem as
 * `"<path>: <reason>"` (e.g. `vitals.lcp: expected a duration in ms between 0 and 600000 (got 700000)`).
 * Unknown keys are dropped from the result; no defaults are filled in.
 */
export function validateBeacon(input: unknown): BeaconValidation {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return { ok: false, error: "expected a JSON object" };
  }
  const result = v.safeParse(beaconSchema, input, { abortEarly: true, abortPipeEarly: true });
  if (result.success) return { ok: true, beacon: result.output as BeaconPayload };
  const issue = result.issues[0];
  const path = issue.path?.map((p) => String(p.key)).join(".");
  // valibot reports a missing key as "Invalid key: Expected "x" but received undefined".
  if (path && issue.type === "object" && issue.input === undefined) {
    return { ok: false, error: `${path}: required field is missing` };
  }
  return { ok: false, error: path ? `${path}: ${issue.message}` : issue.message };
}

function isHttpUrl(value: string): boolean {
  if (!value.startsWith("http://") && !value.startsWith("https://")) return false;
  return URL.canParse(value);
}
