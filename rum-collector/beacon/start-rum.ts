import { onCLS, onFCP, onINP, onLCP } from "web-vitals";
import type { BeaconPayload, NavTiming, ServerTimingEntry } from "../../common/src/rum-types.ts";
import { lcpParts } from "./lcp-parts.ts";

/** Options of `startRum`. */
export interface RumOptions {
  /** Where the page-view record is POSTed, e.g. "https://rum.example.com/_rum/v1/beacon". */
  endpoint: string;
  /** Site id registered with the collector (`RUM_SITES`). */
  site: string;
  /** Share of page views that report, 0–1, decided once per page view (default 1). */
  sampleRate?: number;
  /** "pending" holds every send until `consent(true)` (default "granted"). */
  consent?: "granted" | "pending";
}

/** What `startRum` returns. */
export interface RumHandle {
  /** Page-view id (empty when this page view is not sampled). */
  pvid: string;
  /** `true` lets records be sent; `false` discards this page view for good. */
  consent(granted: boolean): void;
}

/** Largest value the collector accepts for a duration (10 minutes). */
const MAX_MS = 600_000;
// One string (split at run time) is smaller in the bundle than an array literal.
const NAV_KEYS = (
  "redirectStart redirectEnd fetchStart domainLookupStart domainLookupEnd connectStart " +
  "secureConnectionStart connectEnd requestStart responseStart responseEnd domInteractive " +
  "domContentLoadedEventEnd loadEventEnd"
).split(" ") as (keyof NavTiming & keyof PerformanceNavigationTiming)[];

/** Milliseconds rounded to 0.1 and clamped to what the collector accepts. */
const ms = (x: number | undefined) => Math.round(Math.min(Math.max(x || 0, 0), MAX_MS) * 10) / 10;

/**
 * Starts real-user monitoring for this page view: web-vitals (LCP with sub-parts, INP, CLS, FCP,
 * TTFB), Navigation Timing phases, Server-Timing and network hints, sent as one record when the
 * page is hidden (`visibilitychange`/`pagehide`), plus an update only if INP or CLS grew.
 * Defaults: sampleRate 1, consent "granted". Never throws; sets no cookies.
 */
export function startRum(options: RumOptions): RumHandle {
  const handle: RumHandle = { pvid: "", consent() {} };
  try {
    const random = crypto.getRandomValues(new Uint32Array(4));
    // The sample decision uses its own 32 bits, independent of the id.
    if ((random[3] ?? 0) / 2 ** 32 >= (options.sampleRate ?? 1)) return handle;
    const pvid = Array.from(random.subarray(0, 3), (n) => n.toString(16).padStart(8, "0")).join("");
    let consent: boolean | undefined = options.consent === "pending" ? undefined : true;
    const vitals: BeaconPayload["vitals"] = {};
    let lcpEntry: LargestContentfulPaint | undefined;
    let seq = -1;
    let sentInp = 0;
    let sentCls = 0;

    const send = () => {
      try {
        // A prerendered page that is never activated was never seen: no page view to report.
        if (consent !== true || document.prerendering) return;
        const inp = vitals.inp ?? 0;
        const cls = vitals.cls ?? 0;
        if (seq >= 0 && inp <= sentInp && cls <= sentCls) return;
        sentInp = inp;
        sentCls = cls;
        const body = JSON.stringify(record(options.site, pvid, ++seq, vitals, lcpEntry));
        if (!navigator.sendBeacon?.(options.endpoint, new Blob([body], { type: "text/plain" }))) {
          fetch(options.endpoint, { method: "POST", body, keepalive: true, credentials: "omit" }).catch(
            () => {},
          );
        }
      } catch {
        // Reporting must never break the host page.
      }
    };

    handle.pvid = pvid;
    handle.consent = (granted) => {
      consent = consent !== false && granted;
    };
    const opts = { reportAllChanges: true };
    onLCP((m) => {
      vitals.lcp = m.value;
      lcpEntry = m.entries.at(-1);
    }, opts);
    onINP((m) => {
      vitals.inp = m.value;
    }, opts);
    onCLS((m) => {
      vitals.cls = m.value;
    }, opts);
    onFCP((m) => {
      vitals.fcp = m.value;
    }, opts);
    // Registered after web-vitals' capturing listeners, so INP/CLS are flushed before we read them.
    addEventListener("visibilitychange", () => document.visibilityState === "hidden" && send());
    addEventListener("pagehide", send);
  } catch {
    // One boundary around everything: a failure here only means no data for this page view.
  }
  return handle;
}

/** Builds the `BeaconPayload` from what the page knows right now. */
function record(
  site: string,
  pvid: string,
  seq: number,
  vitals: BeaconPayload["vitals"],
  lcpEntry: LargestContentfulPaint | undefined,
): BeaconPayload {
  const payload: BeaconPayload = {
    v: 1,
    site,
    pvid,
    seq,
    // The query and fragment are dropped here: the collector ignores them and they may carry personal data.
    url: (location.origin + location.pathname).slice(0, 2048),
    vitals: {},
    viewport: { w: innerWidth, h: innerHeight },
    dpr: devicePixelRatio,
  };
  for (const k of ["lcp", "inp", "fcp"] as const) {
    if (vitals[k] !== undefined) payload.vitals[k] = ms(vitals[k]);
  }
  if (vitals.cls !== undefined) payload.vitals.cls = Math.round(vitals.cls * 1e4) / 1e4;
  const e = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming | undefined;
  if (e) {
    const activationStart = (e as { activationStart?: number }).activationStart || 0;
    const nav = {
      type: activationStart > 0 ? "prerender" : e.type,
      deliveryType: ((e as { deliveryType?: string }).deliveryType || "").slice(0, 32),
      activationStart: ms(activationStart),
    } as NavTiming;
    for (const k of NAV_KEYS) (nav as unknown as Record<string, number>)[k] = ms(e[k] as number);
    nav.transferSize = e.transferSize || 0;
    nav.encodedBodySize = e.encodedBodySize || 0;
    payload.nav = nav;
    // TTFB exactly as web-vitals' onTTFB computes it (same validity check), without waiting for
    // the load event as onTTFB does, and without its 180 B: it is read off the same entry.
    if (e.responseStart > 0 && e.responseStart < performance.now()) {
      payload.vitals.ttfb = ms(e.responseStart - activationStart);
    }
    const st: ServerTimingEntry[] = (e.serverTiming || []).slice(0, 32).map((t) => ({
      name: t.name.slice(0, 64),
      duration: ms(t.duration),
      description: t.description.slice(0, 128),
    }));
    payload.serverTiming = st;
    const rid = st.find((t) => t.name === "rid")?.description;
    if (rid && /^[\w.:-]{1,64}$/.test(rid)) payload.rid = rid;
    if (vitals.lcp !== undefined) {
      const url = lcpEntry?.url;
      const res = url
        ? performance
            .getEntriesByType("resource")
            .findLast((r) => r.name === url && (r.requestStart || r.startTime) <= (lcpEntry?.startTime ?? 0))
        : undefined;
      payload.lcpParts = lcpParts(payload.vitals.lcp ?? 0, e.responseStart, activationStart, res);
    }
  }
  const c = (
    navigator as {
      connection?: { effectiveType?: string; rtt?: number; downlink?: number; saveData?: boolean };
    }
  ).connection;
  if (c) {
    payload.net = { rtt: c.rtt, downlink: c.downlink, saveData: c.saveData };
    // Only the four standard values pass the collector's schema.
    if (/^(slow-2g|[234]g)$/.test(c.effectiveType || "")) payload.net.ect = c.effectiveType;
  }
  return payload;
}
