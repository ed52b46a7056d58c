import { onINP } from "web-vitals";
import type { BeaconPayload, NavTiming, ServerTimingEntry } from "../../common/src/rum-types.ts";
import { lcpParts } from "./lcp-parts.ts";
import { observePaints } from "./paint-metrics.ts";
import { prefetchOnPress, randomHex, type TabSession, tabSession } from "./tab-session.ts";

/** Options of `startRum`. */
export interface RumOptions {
  /** Where the page-view record is POSTed, e.g. "https://rum.example.com/_rum/v1/beacon". */
  endpoint: string;
  /** Site id registered with the collector (`RUM_SITES`). */
  site: string;
  /** Share of page views that report, 0–1, decided once per document (default 1). */
  sampleRate?: number;
  /** "pending" holds every send until `consent(true)` (default "granted"). */
  consent?: "granted" | "pending";
  /** Prefetch arm shares, e.g. "holdout:0.1,ours:0.8,press:0.1" (default: no experiment). */
  prefetchArms?: string;
}

/** What `startRum` returns. */
export interface RumHandle {
  /** Page-view id of the current page view (empty when this document is not sampled). */
  pvid: string;
  /** `true` lets records be sent; `false` discards this page view for good. */
  consent(granted: boolean): void;
  /** Marks the current page view as a conversion worth `value` (default 0); values add up. */
  conversion(value?: number): void;
}

/** One page view: the document's load, or a restore from the back/forward cache. */
interface View {
  pvid: string;
  prev: string | undefined;
  seq: number;
  vitals: BeaconPayload["vitals"];
  lcp?: LargestContentfulPaint;
  conv?: number;
  /** Restored from the back/forward cache (`pageshow` with `persisted`). */
  restored: boolean;
}

/** Largest value the collector accepts for a duration (10 minutes). */
const MAX_MS = 600_000;
// One string (split at run time) is smaller in the bundle than an array literal.
const NAV_KEYS = (
  "redirectStart redirectEnd fetchStart domainLookupStart domainLookupEnd connectStart " +
  "secureConnectionStart connectEnd requestStart responseStart responseEnd domInteractive " +
  "domContentLoadedEventEnd loadEventEnd"
).split(" ") as (keyof NavTiming & keyof PerformanceNavigationTiming)[];

/** The navigation entry (undefined where Navigation Timing 2 is missing). */
const navEntry = () =>
  performance.getEntriesByType("navigation")[0] as
    | (PerformanceNavigationTiming & { activationStart?: number; deliveryType?: string })
    | undefined;

/** `activationStart` of a prerendered page, else 0. */
const activationStart = () => navEntry()?.activationStart || 0;

/** Milliseconds rounded to 0.1 and clamped to what the collector accepts. */
const ms = (x: number | undefined) => Math.round(Math.min(Math.max(x || 0, 0), MAX_MS) * 10) / 10;

/**
 * Starts real-user monitoring for this page view: web-vitals (LCP with sub-parts, INP, CLS, FCP,
 * TTFB), Navigation Timing phases, Server-Timing and network hints, sent as one record when the
 * page is hidden (`visibilitychange`/`pagehide`), plus an update only if INP, CLS or the
 * conversion grew. A back/forward-cache restore starts a page view of its own. Defaults:
 * sampleRate 1, consent "granted", no prefetch arm. Never throws; sets no cookies.
 */
export function startRum(options: RumOptions): RumHandle {
  const handle: RumHandle = { pvid: "", consent() {}, conversion() {} };
  try {
    const tab = tabSession(options.prefetchArms);
    if (tab.arm === "press") prefetchOnPress();
    const begin = (restored: boolean): View => {
      const pvid = randomHex(12);
      return { pvid, prev: tab.enter(pvid), seq: -1, vitals: {}, restored };
    };
    let view = begin(false);
    // The sample decision is per document (its restores included), independent of the ids.
    if (Math.random() >= (options.sampleRate ?? 1)) return handle;
    let consent: boolean | undefined = options.consent === "pending" ? undefined : true;
    // INP, CLS and conversion value of the last send (-1: no conversion).
    let sent = [0, 0, -1];

    const send = () => {
      try {
        // A prerendered page that is never activated was never seen: no page view to report.
        if (consent !== true || document.prerendering) return;
        const now = [view.vitals.inp ?? 0, view.vitals.cls ?? 0, view.conv ?? -1];
        if (view.seq >= 0 && now.every((x, i) => x <= (sent[i] as number))) return;
        sent = now;
        view.seq++;
        const body = JSON.stringify(record(options.site, tab, view));
        if (!navigator.sendBeacon?.(options.endpoint, new Blob([body], { type: "text/plain" }))) {
          fetch(options.endpoint, { method: "POST", body, keepalive: true, credentials: "omit" }).catch(
            () => {},
          );
        }
      } catch {
        // Reporting must never break the host page.
      }
    };

    handle.pvid = view.pvid;
    handle.consent = (granted) => {
      consent = consent !== false && granted;
    };
    handle.conversion = (value) => {
      view.conv = (view.conv ?? 0) + Math.min(Math.max(+(value as number) || 0, 0), 1e9);
    };
    const restore = observePaints(
      {
        vitals: () => view.vitals,
        lcpEntry: (entry) => {
          view.lcp = entry;
        },
      },
      activationStart(),
    );
    // Registered (capturing) before web-vitals' own listener, so the new page view exists before
    // web-vitals reports the restore's INP into it.
    addEventListener(
      "pageshow",
      (e) => {
        if (!e.persisted) return;
        view = begin(true);
        sent = [0, 0, -1];
        handle.pvid = view.pvid;
        restore(e.timeStamp);
      },
      true,
    );
    onINP(
      (m) => {
        view.vitals.inp = m.value;
      },
      { reportAllChanges: true },
    );
    // Registered after web-vitals' capturing listeners, so INP/CLS are flushed before we read them.
    addEventListener("visibilitychange", () => document.visibilityState === "hidden" && send());
    addEventListener("pagehide", send);
  } catch {
    // One boundary around everything: a failure here only means no data for this page view.
  }
  return handle;
}

/** Builds the `BeaconPayload` of `view` from what the page knows right now. */
function record(site: string, tab: TabSession, view: View): BeaconPayload {
  const { vitals, restored } = view;
  const payload: BeaconPayload = {
    v: 1,
    site,
    pvid: view.pvid,
    seq: view.seq,
    // The query and fragment are dropped here: the collector ignores them and they may carry personal data.
    url: (location.origin + location.pathname).slice(0, 2048),
    vitals: {},
    viewport: { w: innerWidth, h: innerHeight },
    dpr: devicePixelRatio,
    sid: tab.sid,
  };
  if (view.prev) payload.prev = view.prev;
  if (tab.arm) payload.arm = tab.arm;
  if (view.conv !== undefined) payload.conv = { value: view.conv };
  for (const k of ["lcp", "inp", "fcp"] as const) {
    if (vitals[k] !== undefined) payload.vitals[k] = ms(vitals[k]);
  }
  if (vitals.cls !== undefined) payload.vitals.cls = Math.round(vitals.cls * 1e4) / 1e4;
  const e = navEntry();
  if (e) {
    // A restored page view made no request: every phase is 0 and TTFB is 0 (as web-vitals reports it).
    const src = (restored ? {} : e) as NonNullable<ReturnType<typeof navEntry>>;
    const activationStart = src.activationStart || 0;
    const nav = {
      type: restored ? "back_forward_cache" : activationStart > 0 ? "prerender" : e.type,
      deliveryType: (src.deliveryType || "").slice(0, 32),
      activationStart: ms(activationStart),
      transferSize: src.transferSize || 0,
      encodedBodySize: src.encodedBodySize || 0,
    } as NavTiming;
    for (const k of NAV_KEYS) (nav as unknown as Record<string, number>)[k] = ms(src[k] as number);
    payload.nav = nav;
    if (restored) payload.vitals.ttfb = 0;
    else {
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
        const url = view.lcp?.url;
        const res = url
          ? performance
              .getEntriesByType("resource")
              .findLast(
                (r) => r.name === url && (r.requestStart || r.startTime) <= (view.lcp?.startTime ?? 0),
              )
          : undefined;
        payload.lcpParts = lcpParts(payload.vitals.lcp ?? 0, e.responseStart, activationStart, res);
      }
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
