/**
 * Contracts shared by the beacon, the collector, the edge page-view log and the query API.
 * All durations are milliseconds (floats). Times from the navigation entry are relative to
 * `startTime` (0) of the page view, as the Navigation Timing API reports them.
 */

/** Navigation Timing phases as the beacon reads them off `PerformanceNavigationTiming`. */
export interface NavTiming {
  /**
   * `navigation.type`: navigate | reload | back_forward | prerender | restore, or
   * `back_forward_cache` for a page view restored from the back/forward cache (a page view of its own).
   */
  type: string;
  redirectStart: number;
  redirectEnd: number;
  fetchStart: number;
  domainLookupStart: number;
  domainLookupEnd: number;
  connectStart: number;
  secureConnectionStart: number;
  connectEnd: number;
  requestStart: number;
  responseStart: number;
  responseEnd: number;
  domInteractive: number;
  domContentLoadedEventEnd: number;
  loadEventEnd: number;
  /** Bytes over the wire for the document (0 when not exposed). */
  transferSize: number;
  encodedBodySize: number;
  /** `deliveryType` ("" = network, "cache", "navigational-prefetch", …). */
  deliveryType: string;
  /** `activationStart` (> 0 for prerendered pages). */
  activationStart: number;
}

/** One `Server-Timing` entry as the browser exposes it (`navigation.serverTiming`). */
export interface ServerTimingEntry {
  name: string;
  duration: number;
  description: string;
}

/** LCP sub-parts as web-vitals' attribution build defines them; they sum to LCP. */
export interface LcpParts {
  ttfb: number;
  resourceLoadDelay: number;
  resourceLoadDuration: number;
  elementRenderDelay: number;
}

/** What the beacon POSTs to `/_rum/v1/beacon` (JSON, also as a text/plain body). */
export interface BeaconPayload {
  /** Schema version, currently 1. */
  v: 1;
  /** Registered site id (see `RUM_SITES`). */
  site: string;
  /** Random page-view id (idempotency key), 8–64 chars of [A-Za-z0-9_-]. */
  pvid: string;
  /** 0 for the first send, +1 for every later update (INP/CLS grew). */
  seq: number;
  /** Full page URL; the collector reduces it to a page group and drops the query. */
  url: string;
  /** Request id from the edge's `Server-Timing: rid;desc=…`, when present (joins the edge log). */
  rid?: string;
  nav?: NavTiming;
  serverTiming?: ServerTimingEntry[];
  vitals: {
    lcp?: number;
    inp?: number;
    cls?: number;
    fcp?: number;
    ttfb?: number;
  };
  lcpParts?: LcpParts;
  net?: {
    /** navigator.connection.effectiveType: slow-2g | 2g | 3g | 4g. */
    ect?: string;
    rtt?: number;
    downlink?: number;
    saveData?: boolean;
  };
  viewport?: { w: number; h: number };
  dpr?: number;
  /** Set by the edge's prefetch experiment: this view was in the holdout group. */
  holdout?: boolean;
  /**
   * Per-tab session id, kept in `sessionStorage` (never a cookie): ties the page views of one
   * tab together for bounce/conversion and prefetch arms. 8–64 chars of [A-Za-z0-9_-].
   */
  sid?: string;
  /** The previous page view's `pvid` in the same tab (absent on the first view of a session). */
  prev?: string;
  /** Prefetch experiment arm of the tab: `holdout` (no speculation), `ours`, `press` (links on pointerdown). */
  arm?: PrefetchArm;
  /**
   * A conversion on this page view (`rum.conversion(value?)`, or a page in a configured
   * conversion page group): `value` is the order value in the site's currency, 0 when unknown.
   */
  conv?: { value: number };
}

/** Arms of the prefetch experiment, assigned per tab. */
export type PrefetchArm = "holdout" | "ours" | "press";

/** Cache status the edge reports in `Server-Timing: cdn-cache;desc=…`. */
export type CacheStatus = "HIT" | "MISS" | "STALE" | "EXPIRED" | "BYPASS" | "NONE";

/**
 * Per-page-view attribution: the TTFB parts sum exactly to `ttfb`, every part ≥ 0.
 * `backend` is null ("unknown") when the origin sent no `app` timing; then `middleMile`
 * holds the whole edge-measured origin time (middle mile + backend as one part).
 */
export interface Attribution {
  ttfb: number;
  queueing: number;
  lastMileConnect: number;
  lastMileWire: number;
  /** lastMileConnect + lastMileWire. */
  lastMile: number;
  edge: number;
  middleMile: number;
  backend: number | null;
  /** True when `backend` is unknown and `middleMile` is the whole origin time. */
  originAsOnePart: boolean;
  /**
   * False when the response carried no edge `Server-Timing` (`edge;dur`), e.g. a site that does
   * not route through the edge: then `edge` and `middleMile` are 0, `lastMileWire` holds the whole
   * request→first-byte time minus `backend`, and `backend` is the origin's `app` time or null.
   * Always set by `attribute()`; absent only in records written before the field existed.
   */
  edgeMeasured?: boolean;
  download: number;
  /** LCP − TTFB − download share, split by LCP sub-parts (null when there is no LCP). */
  render: {
    resourceLoadDelay: number;
    resourceLoadDuration: number;
    elementRenderDelay: number;
  } | null;
}

/** Server-side dimensions, never trusted from the client. */
export interface ServerDimensions {
  country: string;
  colo: string;
  asn: number;
  /** mobile | tablet | desktop | bot | other. */
  device: string;
  /** chrome | safari | firefox | edge | samsung | other. */
  browser: string;
}

/** Queue message: one beacon, validated and enriched (no IP, no raw UA). */
export interface PageViewMessage {
  kind: "pageview";
  /** Receive time at the collector, ms since epoch. */
  ts: number;
  site: string;
  pvid: string;
  seq: number;
  pageGroup: string;
  /** URL path without query (for the live view). */
  path: string;
  dims: ServerDimensions;
  cacheStatus: CacheStatus;
  beacon: BeaconPayload;
  attribution: Attribution;
  /**
   * Collector sample rate (0–1] this page view was kept at (`RUM_SAMPLE_RATE`); weight counts
   * by 1 / sampleRate. Absent means 1 (everything kept).
   */
  sampleRate?: number;
  /**
   * Fields of the beacon the intake found invalid and dropped (a negative timer, an unknown flag
   * value, …) while keeping the rest of the page view; boomerang beacons only (our own beacon is
   * all-or-nothing: 400). Absent means 0.
   */
  invalidFields?: number;
}

/** Queue message: one HTML response served by the edge (beacon coverage, server timings). */
export interface EdgeLogMessage {
  kind: "edge";
  ts: number;
  rid: string;
  site: string;
  pageGroup: string;
  path: string;
  status: number;
  cacheStatus: CacheStatus;
  edgeMs: number;
  originMs: number | null;
  appMs: number | null;
  country: string;
  colo: string;
  device: string;
  browser: string;
}

/**
 * Queue message: one image response served by the edge under `/cdn-cgi/image/…` (GET, 200), for
 * "bytes saved per format and device class". `deliveredBytes` vs `originalBytes` is the saving;
 * a fallback (image service failed, original bytes served) has both equal and `fallback: true`.
 */
export interface ImageLogMessage {
  kind: "image";
  ts: number;
  /** Edge request id of the image response (`X-Request-Id`): idempotency key for queue retries. */
  rid: string;
  site: string;
  /** Delivered format: avif | webp | jpeg | png | gif, or "original" for a fallback. */
  format: string;
  /** mobile | tablet | desktop | bot | other (from the User-Agent). */
  device: string;
  /** Delivered variant width in px (the allow-listed width); null for a fallback. */
  width: number | null;
  cacheStatus: CacheStatus;
  /** Source bytes; null when unknown (a streamed fallback without Content-Length). */
  originalBytes: number | null;
  /** Bytes of the delivered body; null when unknown. */
  deliveredBytes: number | null;
  fallback: boolean;
  /**
   * Edge sample rate (0–1] this record was kept at (`IMAGE_LOG_SAMPLE`); counts and bytes weigh
   * 1 / sampleRate. Absent means 1 (every image logged).
   */
  sampleRate?: number;
}

export type RumQueueMessage = PageViewMessage | EdgeLogMessage | ImageLogMessage;

/**
 * A `rum-events` queue message body: one RumQueueMessage object (`json`), or NDJSON text (`text`):
 * one or more RumQueueMessages, one JSON document per line. The senders pack a whole batch into
 * one NDJSON message (see `packNdjson` in common/src/batch-sender.ts); the edge's page-view log
 * sends a line holding a whole batch of EdgeLogMessages in columns (`{"kind":"edge-batch",…}`,
 * common/src/edge-log-batch.ts), which the consumer expands.
 */
export type RumQueueBody = RumQueueMessage | string;
