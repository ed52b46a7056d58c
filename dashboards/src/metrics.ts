/** What the dashboards know about metrics: names, units, web.dev thresholds, attribution parts. */
import { formatMs } from "./charts/stacked-bar.ts";

/** Core metrics the overview can chart (names as the query API spells them). */
export const VITALS = ["lcp", "inp", "cls", "fcp", "ttfb"] as const;
export type Vital = (typeof VITALS)[number];

/** Percentiles of the percentile table, in display order. */
export const PERCENTILES = ["p50", "p75", "p90", "p95", "p99"] as const;
export type Percentile = (typeof PERCENTILES)[number];

/** web.dev thresholds: ≤ good is "good", > poor is "poor", in between "needs improvement". */
export const THRESHOLDS: Record<Vital, { good: number; poor: number }> = {
  lcp: { good: 2500, poor: 4000 },
  inp: { good: 200, poor: 500 },
  cls: { good: 0.1, poor: 0.25 },
  fcp: { good: 1800, poor: 3000 },
  ttfb: { good: 800, poor: 1800 },
};

export const METRIC_LABELS: Record<Vital, string> = {
  lcp: "LCP",
  inp: "INP",
  cls: "CLS",
  fcp: "FCP",
  ttfb: "TTFB",
};

/** good | ni | poor for a value of a metric (web.dev boundaries are inclusive of "good"). */
export function rate(metric: Vital, value: number | null | undefined): "good" | "ni" | "poor" | "none" {
  if (value === null || value === undefined || !Number.isFinite(value)) return "none";
  const t = THRESHOLDS[metric];
  if (value <= t.good) return "good";
  if (value <= t.poor) return "ni";
  return "poor";
}

/** Formats a metric value: CLS unitless with 3 decimals, the rest as ms / s (see `formatMs`). */
export function formatMetric(metric: string, value: number | null | undefined): string {
  if (metric === "cls")
    return value === null || value === undefined || !Number.isFinite(value) ? "–" : value.toFixed(3);
  return formatMs(value);
}

/**
 * Attribution parts in the order they happen in a page view: the TTFB parts, then download and
 * the render sub-parts after TTFB. `key` is the query API metric name.
 */
export const ATTRIBUTION_PARTS = [
  { key: "queueing", label: "Queueing (browser)", phase: "ttfb" },
  { key: "lastMileConnect", label: "Last mile: connect", phase: "ttfb" },
  { key: "lastMileWire", label: "Last mile: wire", phase: "ttfb" },
  { key: "edge", label: "Edge", phase: "ttfb" },
  { key: "middleMile", label: "Middle mile", phase: "ttfb" },
  { key: "backend", label: "Backend", phase: "ttfb" },
  { key: "download", label: "Download", phase: "after" },
  { key: "resourceLoadDelay", label: "Render: resource load delay", phase: "after" },
  { key: "resourceLoadDuration", label: "Render: resource load", phase: "after" },
  { key: "elementRenderDelay", label: "Render: element render delay", phase: "after" },
] as const;
export type AttributionPartKey = (typeof ATTRIBUTION_PARTS)[number]["key"];

/** Dimensions the query API can filter and group by (same names in dashboard URLs). */
export const FILTER_DIMENSIONS = [
  "site",
  "pageGroup",
  "device",
  "country",
  "connection",
  "cacheStatus",
  "colo",
] as const;
export type FilterDimension = (typeof FILTER_DIMENSIONS)[number];

/** Dimensions of the percentile table's group-by: the rollup dimensions the query API groups by. */
export const GROUP_BY_DIMENSIONS = [
  "pageGroup",
  "country",
  "connection",
  "device",
  "cacheStatus",
  "colo",
  "site",
] as const;
export type GroupByDimension = (typeof GROUP_BY_DIMENSIONS)[number];

export const DIMENSION_LABELS: Record<string, string> = {
  site: "Site",
  pageGroup: "Page group",
  device: "Device",
  country: "Country",
  colo: "Colo",
  connection: "Connection",
  browser: "Browser",
  cacheStatus: "Cache status",
};

/** Group-bys offered for the attribution chart. */
export const ATTRIBUTION_GROUP_BY = [
  "pageGroup",
  "country",
  "cacheStatus",
  "device",
  "connection",
  "colo",
] as const;
