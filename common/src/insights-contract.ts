/**
 * The insight API's contract, one home for both sides: the response shapes of `GET /_rum/v1/slo`,
 * `/pageview`, `/slowest`, `/impact`, `/distribution`, `/cache` (rum-collector/src/insights/) and
 * `/prefetch` (rum-collector/src/query/prefetch.ts). The collector builds exactly these, the
 * dashboards read them (dashboards/src/insights-client.ts). Types only; pure.
 */
import type { PageViewIdentity } from "./query-contract.ts";

/** Page views (weighted by 1 / sample rate) and the bad ones among them. */
export interface SloCounts {
  total: number;
  bad: number;
}

/** Burn-rate window names (the collector's burn.ts holds their lengths). */
export type SloWindowName = "5m" | "30m" | "1h" | "6h";

/** A multiwindow burn-rate rule with the burn rate both its windows must reach for one objective. */
export interface SloRuleThreshold {
  severity: "page" | "ticket";
  long: SloWindowName;
  short: SloWindowName;
  burnRate: number;
  /** True when the threshold is not the budget-share derivation (scaled down to be reachable, or raised to 1×). */
  clamped: boolean;
}

/** One objective's status (`slos[]` of `GET /v1/slo`). */
export interface SloStatus {
  id: string;
  name: string;
  objective: string;
  metric: string;
  threshold: number;
  target: number;
  site: string | null;
  pageGroup: string | null;
  windowDays: number;
  /** Weighted page views over the budget window, and those over the threshold. */
  budgetWindow: SloCounts;
  /** Good share over the budget window (null without page views). */
  compliance: number | null;
  /** Error budget left (1 = untouched, ≤ 0 = spent); null without page views. */
  budgetRemaining: number | null;
  windows: Record<SloWindowName, SloCounts & { burnRate: number | null }>;
  /** Each rule with this objective's threshold; `firing` null = a window without page views (state kept). */
  alerts: (SloRuleThreshold & { firing: boolean | null })[];
}

/** One stored alert state (`alertStates[]` of `GET /v1/slo`). */
export interface SloAlertState {
  sloId: string;
  severity: string;
  state: string;
  since: number;
}

/** `GET /v1/slo`. */
export interface SloAnswer {
  at: string;
  slos: SloStatus[];
  alertStates: SloAlertState[];
}

/** The edge's own record of a page view's response (`edgeRecord` of `GET /v1/pageview`). */
export interface EdgeRecordJson {
  rid: string;
  ts: string;
  status: number | null;
  cacheStatus: string;
  colo: string;
  country: string;
  edgeMs: number | null;
  originMs: number | null;
  appMs: number | null;
}

/** TTFB parts (ttfb itself, queueing … download) and LCP render sub-parts of a stored page view. */
export type PageViewPartName =
  | "ttfb"
  | "queueing"
  | "lastMileConnect"
  | "lastMileWire"
  | "edge"
  | "middleMile"
  | "backend"
  | "download"
  | "resourceLoadDelay"
  | "resourceLoadDuration"
  | "elementRenderDelay";

/** `attribution` of `GET /v1/pageview`: each part in ms (null = unknown) and the two flags. */
export type PageViewAttribution = Record<PageViewPartName, number | null> & {
  originAsOnePart: boolean;
  edgeMeasured: boolean;
};

/** `GET /v1/pageview?site=&pvid=`: one stored page view with its edge record. */
export interface PageViewDetail extends PageViewIdentity {
  /** Null when the column is not stored (before the session migration). */
  sessionId: string | null;
  prevPvid: string | null;
  /** True when the edge split comes from the edge's own record for this rid; null when not stored. */
  edgeVerified: boolean | null;
  converted: boolean | null;
  conversionValue: number | null;
  vitals: { lcp: number | null; inp: number | null; cls: number | null; fcp: number | null };
  attribution: PageViewAttribution;
  edgeRecord: EdgeRecordJson | null;
}

/** One item of `GET /v1/slowest`. */
export interface SlowRow {
  site: string;
  pvid: string;
  ts: string;
  pageGroup: string;
  path: string;
  country: string;
  colo: string;
  device: string;
  browser: string;
  cacheStatus: string;
  /** The requested metric's value. */
  value: number | null;
  ttfb: number | null;
  lcp: number | null;
  middleMile: number | null;
  backend: number | null;
}

/** `GET /v1/slowest`: the page views with the highest value of `metric`, highest first. */
export interface SlowestAnswer {
  metric: string;
  pageViews: SlowRow[];
}

/** One landing-metric bucket of `GET /v1/impact`. */
export interface ImpactBucket {
  /** Lower/upper bound in ms (upper null = open-ended). */
  from: number;
  to: number | null;
  rating: "good" | "ni" | "poor";
  sessions: number;
  bounces: number;
  conversions: number;
  revenue: number;
  bounceRate: number | null;
  conversionRate: number | null;
  lowSample: boolean;
  revenueAtStake: number;
}

/** The bucket part of `GET /v1/impact` (computed from per-bucket sums). */
export interface ImpactBuckets {
  buckets: ImpactBucket[];
  baselineConversionRate: number | null;
  averageConversionValue: number | null;
  revenueAtStake: number;
  total: { sessions: number; bounces: number; conversions: number; revenue: number };
}

/** `GET /v1/impact?by=lcp|ttfb`. */
export interface ImpactAnswer extends ImpactBuckets {
  metric: "lcp" | "ttfb";
  from: string;
  to: string;
  minSessions: number;
}

/** One period of `GET /v1/distribution`. */
export interface DistPeriod {
  from: string;
  to: string;
  /** Weighted page views with a value. */
  count: number;
  shares: { good: number; ni: number; poor: number } | null;
  /** Weighted counts per bin, index i covers [i × width, (i + 1) × width); the last is open-ended. */
  bins: number[];
}

/** `GET /v1/distribution`. */
export interface DistributionAnswer {
  metric: string;
  thresholds: { good: number; poor: number };
  binWidth: number;
  current: DistPeriod;
  previous: DistPeriod | null;
}

/** `GET /v1/cache`. */
export interface CacheAnswer {
  from: string;
  to: string;
  total: { responses: number; hits: number; misses: number; hitRatio: number | null };
  byStatus: {
    cacheStatus: string;
    responses: number;
    avgEdgeMs: number | null;
    avgOriginMs: number | null;
  }[];
  topMissGroups: {
    pageGroup: string;
    responses: number;
    misses: number;
    hits: number;
    missRatio: number | null;
    avgMissOriginMs: number | null;
  }[];
}

/** One arm of the prefetch experiment (`arms[]` of `GET /v1/prefetch`). */
export interface ArmRow {
  arm: string;
  pageViews: number;
  nextNavigations: number;
  prefetchHits: number;
  coverage: number | null;
  speculations: number;
  precision: number | null;
  speculatedBytes: number;
  wastedBytes: number;
  extraOriginRequests: number;
  ttfbP75: number | null;
  lcpP75: number | null;
  samples: { ttfb: number; lcp: number };
  /** ours/press − holdout with a 95 % bootstrap CI; null for the holdout itself. */
  lcpP75DiffVsHoldout: {
    diff: number | null;
    ci95: [number | null, number | null];
    resamples: number;
  } | null;
}

/** `GET /v1/prefetch`. */
export interface PrefetchAnswer {
  site: string;
  from: string;
  to: string;
  arms: ArmRow[];
  /** Every page view of the range, with or without an arm. */
  all: { pageViews: number; prefetchHits: number };
  warming: { requests: number; originRequests: number };
  /** Speculative requests with no arm tag (other prefetchers too), never credited to an arm. */
  unknown: { requests: number; bytes: number; originRequests: number };
}
