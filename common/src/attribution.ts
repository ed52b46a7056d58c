/**
 * Per-page-view attribution of TTFB to where the time went: browser queueing, last mile
 * (connect + wire), edge, middle mile (edge ↔ origin) and backend (origin application time),
 * then download and render. Pure: inputs are what the beacon sends (Navigation Timing and the
 * document's `Server-Timing`), so the collector, tests and replays all get the same numbers.
 *
 * Invariant (property-tested): `queueing + lastMile + edge + middleMile + (backend ?? 0) === ttfb`
 * up to float rounding, every part ≥ 0, whatever the inputs (missing, negative, NaN, inconsistent).
 * Where measurements disagree, inner (server-side) parts are trusted first and clamped to the
 * time the browser saw: backend ≤ origin ≤ edge ≤ request→first byte; the wire part is the rest.
 */
import type {
  Attribution,
  BeaconPayload,
  CacheStatus,
  LcpParts,
  NavTiming,
  ServerTimingEntry,
} from "./rum-types.ts";
import { serverTimingDuration } from "./server-timing.ts";

/** What `attribute` reads; everything but `vitals` is optional (boomerang, non-edge sites, old browsers). */
export interface AttributionInput {
  nav?: NavTiming;
  serverTiming?: ServerTimingEntry[];
  vitals: BeaconPayload["vitals"];
  lcpParts?: LcpParts;
}

const CACHE_STATUSES: ReadonlySet<string> = new Set(["HIT", "MISS", "STALE", "EXPIRED", "BYPASS"]);

/** A finite number or 0 (NaN, ±Infinity, missing → 0). */
function fin(x: number | null | undefined): number {
  return typeof x === "number" && Number.isFinite(x) ? x : 0;
}

/** A finite, non-negative number (anything else → 0). */
function nn(x: number | null | undefined): number {
  return Math.max(fin(x), 0);
}

/** Cache status from `Server-Timing: cdn-cache;desc=…` (case-insensitive); "NONE" when absent or unknown. */
export function cacheStatusFromServerTiming(entries: readonly ServerTimingEntry[] | undefined): CacheStatus {
  if (!entries) return "NONE";
  for (const e of entries) {
    if (e.name.toLowerCase() !== "cdn-cache") continue;
    const d = e.description.trim().toUpperCase();
    return CACHE_STATUSES.has(d) ? (d as CacheStatus) : "NONE";
  }
  return "NONE";
}

/** Browser-side phases of the measured TTFB window: [start, responseStart]. */
interface Timeline {
  ttfb: number;
  queueing: number;
  connect: number;
  /** requestStart → responseStart, the part the server-side timings split further. */
  server: number;
  download: number;
}

function timeline(nav: NavTiming | undefined, vitalsTtfb: number | undefined): Timeline {
  if (!nav) {
    const t = nn(vitalsTtfb);
    return { ttfb: t, queueing: 0, connect: 0, server: t, download: 0 };
  }
  // As web-vitals: TTFB counts from activation for prerendered pages, clamped at 0.
  const start = nn(nav.activationStart);
  const end = fin(nav.responseStart);
  const ttfb = Math.max(end - start, 0);
  // Boundaries forced monotonic inside [start, end], so intervals never overlap or go negative
  // even when a browser reports 0 for phases it hides (reused connection, cross-origin redirect).
  const clip = (x: number, prev: number) => Math.min(Math.max(fin(x), prev), Math.max(end, start));
  const dnsStart = clip(nav.domainLookupStart, start);
  const connectEnd = clip(nav.connectEnd, dnsStart);
  const requestStart = clip(nav.requestStart, connectEnd);
  // Redirects, service worker/cache lookup and the connect→request gap are "queueing".
  const queueing = dnsStart - start + (requestStart - connectEnd);
  const connect = connectEnd - dnsStart;
  const server = Math.max(ttfb - queueing - connect, 0);
  const download = Math.max(fin(nav.responseEnd) - Math.max(end, start), 0);
  return { ttfb, queueing, connect, server, download };
}

/**
 * Splits one page view's TTFB into queueing, last mile (connect + wire), edge, middle mile and
 * backend, plus download and render (LCP sub-parts). Defaults: no `nav` → TTFB from
 * `vitals.ttfb` (0 when absent) with queueing/connect 0; no `edge` Server-Timing →
 * `edgeMeasured: false` (edge and middle mile 0); no `app` → `backend: null`; no LCP or no
 * `lcpParts` → `render: null`. HIT and STALE are served from cache: middle mile and backend 0.
 */
export function attribute(input: AttributionInput): Attribution {
  const t = timeline(input.nav, input.vitals.ttfb);
  const entries = input.serverTiming ?? [];
  const edgeDur = serverTimingDuration(entries, "edge");
  const originDur = serverTimingDuration(entries, "origin");
  const appDur = serverTimingDuration(entries, "app");
  const status = cacheStatusFromServerTiming(entries);
  const fromCache = status === "HIT" || status === "STALE";

  let edge = 0;
  let middleMile = 0;
  let backend: number | null = null;
  let originAsOnePart = false;
  const edgeMeasured = edgeDur !== null;
  if (edgeMeasured) {
    const e = Math.min(nn(edgeDur), t.server);
    if (fromCache) {
      edge = e;
      middleMile = 0;
      backend = 0;
    } else {
      const origin = Math.min(nn(originDur), e);
      edge = e - origin;
      if (appDur === null) {
        middleMile = origin;
        originAsOnePart = true;
      } else {
        backend = Math.min(nn(appDur), origin);
        middleMile = origin - backend;
      }
    }
  } else if (appDur !== null) {
    // Origin without the edge in front: its own app time is still a known backend part.
    backend = Math.min(nn(appDur), t.server);
  }

  let wire = Math.max(t.server - edge - middleMile - (backend ?? 0), 0);
  let lastMile = t.connect + wire;
  // Absorb float rounding in the wire part so the documented sum holds to the last bit or two.
  const residual = t.ttfb - (t.queueing + lastMile + edge + middleMile + (backend ?? 0));
  if (residual !== 0 && wire + residual >= 0) {
    wire += residual;
    lastMile = t.connect + wire;
  }

  return {
    ttfb: t.ttfb,
    queueing: t.queueing,
    lastMileConnect: t.connect,
    lastMileWire: wire,
    lastMile,
    edge,
    middleMile,
    backend,
    originAsOnePart,
    edgeMeasured,
    download: t.download,
    render: render(input, t.ttfb),
  };
}

function render(input: AttributionInput, ttfb: number): Attribution["render"] {
  const p = input.lcpParts;
  if (!p) return null;
  const lcpRaw =
    input.vitals.lcp ??
    fin(p.ttfb) + fin(p.resourceLoadDelay) + fin(p.resourceLoadDuration) + fin(p.elementRenderDelay);
  if (!Number.isFinite(lcpRaw)) return null;
  // After TTFB the three LCP sub-parts share LCP − TTFB; earlier sub-parts are trusted first.
  const total = Math.max(lcpRaw - ttfb, 0);
  const resourceLoadDelay = Math.min(nn(p.resourceLoadDelay), total);
  const resourceLoadDuration = Math.min(nn(p.resourceLoadDuration), total - resourceLoadDelay);
  const elementRenderDelay = Math.max(total - resourceLoadDelay - resourceLoadDuration, 0);
  return { resourceLoadDelay, resourceLoadDuration, elementRenderDelay };
}
