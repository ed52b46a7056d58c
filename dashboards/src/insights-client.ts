/**
 * Readers for the collector's insight endpoints (`/_rum/v1/slo`, `/pageview`, `/slowest`,
 * `/impact`, `/distribution`, `/cache`). Like api-client.ts, the only place that knows their
 * shapes; a missing field becomes an `ApiError` the page shows, never a crash.
 */
import { ApiError, getJson, type QueryApi } from "./api-client.ts";
import type { Filters } from "./view-params.ts";

export interface Counts {
  total: number;
  bad: number;
  burnRate: number | null;
}

export interface SloRow {
  id: string;
  name: string;
  objective: string;
  metric: string;
  threshold: number;
  target: number;
  site: string | null;
  pageGroup: string | null;
  windowDays: number;
  budgetWindow: { total: number; bad: number };
  compliance: number | null;
  budgetRemaining: number | null;
  windows: Record<"5m" | "30m" | "1h" | "6h", Counts>;
  /** `burnRate` = this objective's threshold; `firing` null = a window without page views (state kept). */
  alerts: {
    severity: "page" | "ticket";
    long: string;
    short: string;
    burnRate: number;
    clamped: boolean;
    firing: boolean | null;
  }[];
}

export interface SloAnswer {
  at: string;
  slos: SloRow[];
  alertStates: { sloId: string; severity: string; state: string; since: number }[];
}

export interface PageViewDetail {
  site: string;
  pvid: string;
  ts: string;
  rid: string | null;
  pageGroup: string;
  path: string;
  dims: { country: string; colo: string; asn: number; device: string; browser: string; connection: string };
  cacheStatus: string;
  navigationType: string | null;
  deliveryType: string | null;
  sessionId: string | null;
  /** True when the edge split comes from the edge's own record for this rid; null when not stored. */
  edgeVerified: boolean | null;
  converted: boolean | null;
  conversionValue: number | null;
  vitals: { lcp: number | null; inp: number | null; cls: number | null; fcp: number | null };
  attribution: Record<string, number | null> & { originAsOnePart: boolean; edgeMeasured: boolean };
  edgeRecord: {
    rid: string;
    ts: string;
    status: number | null;
    cacheStatus: string;
    colo: string;
    country: string;
    edgeMs: number | null;
    originMs: number | null;
    appMs: number | null;
  } | null;
}

export interface SlowRow {
  site: string;
  pvid: string;
  ts: string;
  pageGroup: string;
  path: string;
  country: string;
  colo: string;
  device: string;
  cacheStatus: string;
  value: number | null;
  ttfb: number | null;
  lcp: number | null;
  middleMile: number | null;
  backend: number | null;
}

export interface ImpactBucket {
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

export interface ImpactAnswer {
  metric: "lcp" | "ttfb";
  minSessions: number;
  buckets: ImpactBucket[];
  baselineConversionRate: number | null;
  averageConversionValue: number | null;
  revenueAtStake: number;
  total: { sessions: number; bounces: number; conversions: number; revenue: number };
}

export interface DistPeriod {
  from: string;
  to: string;
  count: number;
  shares: { good: number; ni: number; poor: number } | null;
  bins: number[];
}

export interface DistributionAnswer {
  metric: string;
  thresholds: { good: number; poor: number };
  binWidth: number;
  current: DistPeriod;
  previous: DistPeriod | null;
}

export interface CacheAnswer {
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

/** Checks that `fields` are present, then trusts the collector's documented shape. */
async function fetchShaped<T>(api: QueryApi, path: string, fields: readonly string[]): Promise<T> {
  const body = (await getJson(api, path)) as Record<string, unknown>;
  for (const f of fields)
    if (!(f in body))
      throw new ApiError(`The insight API answered ${path.split("?")[0]} without "${f}"`, 502);
  return body as T;
}

function rangeQuery(r: { from: number; to: number }, filters: Filters, extra: Record<string, string> = {}) {
  const q = new URLSearchParams({ from: String(r.from), to: String(r.to), ...extra });
  for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v);
  return q;
}

/** `GET /_rum/v1/slo` (every objective, or one by id). */
export function sloStatus(api: QueryApi, id?: string): Promise<SloAnswer> {
  const q = id ? `?${new URLSearchParams({ slo: id })}` : "";
  return fetchShaped(api, `/_rum/v1/slo${q}`, ["slos", "alertStates"]);
}

/** `GET /_rum/v1/pageview?site=&pvid=`. */
export function pageViewDetail(api: QueryApi, site: string, pvid: string): Promise<PageViewDetail> {
  return fetchShaped(api, `/_rum/v1/pageview?${new URLSearchParams({ site, pvid })}`, [
    "pvid",
    "attribution",
    "vitals",
    "dims",
  ]);
}

/** `GET /_rum/v1/slowest`: the slowest page views of a metric in the range. */
export async function slowest(
  api: QueryApi,
  req: { from: number; to: number; metric: string; filters: Filters; limit: number },
): Promise<SlowRow[]> {
  const q = rangeQuery(req, req.filters, { metric: req.metric, limit: String(req.limit) });
  return (await fetchShaped<{ pageViews: SlowRow[] }>(api, `/_rum/v1/slowest?${q}`, ["pageViews"])).pageViews;
}

/** `GET /_rum/v1/impact?by=lcp|ttfb` (the cache-status filter does not apply to sessions). */
export function impact(
  api: QueryApi,
  req: { from: number; to: number; by: "lcp" | "ttfb"; filters: Filters },
): Promise<ImpactAnswer> {
  const { cacheStatus: _ignored, ...filters } = req.filters;
  return fetchShaped(api, `/_rum/v1/impact?${rangeQuery(req, filters, { by: req.by })}`, [
    "buckets",
    "total",
  ]);
}

/** `GET /_rum/v1/distribution` with the previous period. */
export function distribution(
  api: QueryApi,
  req: { from: number; to: number; metric: string; filters: Filters },
): Promise<DistributionAnswer> {
  const q = rangeQuery(req, req.filters, { metric: req.metric, compare: "previous" });
  return fetchShaped(api, `/_rum/v1/distribution?${q}`, ["current", "thresholds", "binWidth"]);
}

/** `GET /_rum/v1/cache` for a site. */
export function cacheEffects(
  api: QueryApi,
  req: { from: number; to: number; site: string },
): Promise<CacheAnswer> {
  const q = new URLSearchParams({ from: String(req.from), to: String(req.to), site: req.site });
  return fetchShaped(api, `/_rum/v1/cache?${q}`, ["total", "byStatus", "topMissGroups"]);
}

/** One arm of the prefetch experiment as `GET /_rum/v1/prefetch` answers it (query/prefetch.ts). */
export interface ArmRow {
  arm: string;
  nextNavigations: number;
  prefetchHits: number;
  coverage: number | null;
  speculations: number;
  precision: number | null;
  speculatedBytes: number;
  wastedBytes: number;
  extraOriginRequests: number;
  lcpP75: number | null;
  lcpP75DiffVsHoldout: { diff: number | null; ci95: [number | null, number | null] } | null;
}

/** `GET /_rum/v1/prefetch`: the prefetch experiment per arm (precision, coverage, waste, LCP p75 vs holdout). */
export async function prefetchArms(
  api: QueryApi,
  req: { from: number; to: number; site: string },
): Promise<ArmRow[]> {
  const q = new URLSearchParams({ site: req.site, from: String(req.from), to: String(req.to) });
  return (await fetchShaped<{ arms: ArmRow[] }>(api, `/_rum/v1/prefetch?${q}`, ["arms"])).arms;
}
