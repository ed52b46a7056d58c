/**
 * Readers for the collector's insight endpoints (`/_rum/v1/slo`, `/pageview`, `/slowest`,
 * `/impact`, `/distribution`, `/cache`, `/prefetch`). Their shapes have one home,
 * common/src/insights-contract.ts, which the collector's routes build; a missing field becomes an
 * `ApiError` the page shows, never a crash.
 */
import type {
  ArmRow,
  CacheAnswer,
  DistributionAnswer,
  ImpactAnswer,
  PageViewDetail,
  PrefetchAnswer,
  SloAnswer,
  SlowestAnswer,
  SlowRow,
} from "../../common/src/insights-contract.ts";
import { ApiError, getJson, type QueryApi } from "./api-client.ts";
import type { Filters } from "./view-params.ts";

/** Checks that `fields` are present, then trusts the contract's shape (common/src/insights-contract.ts). */
async function fetchShaped<T>(
  api: QueryApi,
  path: string,
  fields: readonly (keyof T & string)[],
): Promise<T> {
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
  return (await fetchShaped<SlowestAnswer>(api, `/_rum/v1/slowest?${q}`, ["pageViews"])).pageViews;
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

/** `GET /_rum/v1/prefetch`: the prefetch experiment per arm (precision, coverage, waste, LCP p75 vs holdout). */
export async function prefetchArms(
  api: QueryApi,
  req: { from: number; to: number; site: string },
): Promise<ArmRow[]> {
  const q = new URLSearchParams({ site: req.site, from: String(req.from), to: String(req.to) });
  return (await fetchShaped<PrefetchAnswer>(api, `/_rum/v1/prefetch?${q}`, ["arms"])).arms;
}
