/** Parses and validates the dashboard URL's query parameters (shareable, strict: unknown → 400). */
import {
  ATTRIBUTION_GROUP_BY,
  FILTER_DIMENSIONS,
  type FilterDimension,
  GROUP_BY_DIMENSIONS,
  type GroupByDimension,
  PERCENTILES,
  type Percentile,
  VITALS,
  type Vital,
} from "./metrics.ts";

/** Time ranges of the picker and their length in ms. */
export const RANGES = {
  "15m": 15 * 60_000,
  "1h": 3_600_000,
  "6h": 6 * 3_600_000,
  "24h": 86_400_000,
  "7d": 7 * 86_400_000,
} as const;
export type RangeKey = keyof typeof RANGES;

/** Time-series bucket per range (a rollup granularity): 15 to 360 points per chart. */
export const SERIES_INTERVAL: Record<RangeKey, "minute" | "hour"> = {
  "15m": "minute",
  "1h": "minute",
  "6h": "minute",
  "24h": "hour",
  "7d": "hour",
};

/** Filters as given in the URL; absent or empty means "any". */
export type Filters = Partial<Record<FilterDimension, string>>;

export interface OverviewParams {
  range: RangeKey;
  metric: Vital;
  pct: Percentile;
  by: GroupByDimension;
  attrBy: (typeof ATTRIBUTION_GROUP_BY)[number];
  attrPct: "p50" | "p75";
  /** "all": TTFB parts then download and render; "ttfb": only the parts of TTFB (zoomed in). */
  attrScope: "all" | "ttfb";
  filters: Filters;
}

export interface LiveParams {
  site: string;
  limit: number;
}

/** A 400 with a reason the page shows. */
export class BadRequest extends Error {}

const MAX_FILTER_LEN = 200;

function pick<T extends string>(key: string, value: string | undefined, allowed: readonly T[], def: T): T {
  if (value === undefined || value === "") return def;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new BadRequest(`Unknown ${key} "${value}": expected one of ${allowed.join(", ")}`);
}

function single(params: URLSearchParams, key: string): string | undefined {
  const all = params.getAll(key);
  if (all.length > 1) throw new BadRequest(`Parameter ${key} given ${all.length} times: give it once`);
  return all[0];
}

function checkUnknown(params: URLSearchParams, allowed: readonly string[]): void {
  for (const key of new Set(params.keys())) {
    if (!allowed.includes(key))
      throw new BadRequest(`Unknown parameter "${key}": allowed are ${allowed.join(", ")}`);
  }
}

function filterValue(key: string, value: string | undefined): string | undefined {
  if (value === undefined || value === "") return undefined;
  if (value.length > MAX_FILTER_LEN)
    throw new BadRequest(`Filter ${key} is longer than ${MAX_FILTER_LEN} characters`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new BadRequest(`Filter ${key} contains control characters`);
  // The query API reads "a,b" as "a or b"; an empty item would be a 400 there, so say it here.
  if (value.split(",").some((v) => v.trim() === ""))
    throw new BadRequest(
      `Filter ${key} has an empty item in "${value}": separate several values with single commas`,
    );
  return value;
}

const OVERVIEW_KEYS = [
  "range",
  "metric",
  "pct",
  "by",
  "attrBy",
  "attrPct",
  "attrScope",
  ...FILTER_DIMENSIONS,
];

/** Overview params with defaults: 1 h, LCP p75 by page group, attribution p50 of all parts by page group. */
export function parseOverviewParams(params: URLSearchParams, defaultSite: string): OverviewParams {
  checkUnknown(params, OVERVIEW_KEYS);
  const filters: Filters = {};
  for (const dim of FILTER_DIMENSIONS) {
    const v = filterValue(dim, single(params, dim));
    if (v !== undefined) filters[dim] = v;
  }
  filters.site ??= defaultSite;
  return {
    range: pick("range", single(params, "range"), Object.keys(RANGES) as RangeKey[], "1h"),
    metric: pick("metric", single(params, "metric"), VITALS, "lcp"),
    pct: pick("pct", single(params, "pct"), PERCENTILES, "p75"),
    by: pick("by", single(params, "by"), GROUP_BY_DIMENSIONS, "pageGroup"),
    attrBy: pick("attrBy", single(params, "attrBy"), ATTRIBUTION_GROUP_BY, "pageGroup"),
    attrPct: pick("attrPct", single(params, "attrPct"), ["p50", "p75"] as const, "p50"),
    attrScope: pick("attrScope", single(params, "attrScope"), ["all", "ttfb"] as const, "all"),
    filters,
  };
}

/** Live view params: `site` (default from config) and `limit` 1–200 (default 50). */
export function parseLiveParams(params: URLSearchParams, defaultSite: string): LiveParams {
  checkUnknown(params, ["site", "limit"]);
  const site = filterValue("site", single(params, "site")) ?? defaultSite;
  const rawLimit = single(params, "limit");
  let limit = 50;
  if (rawLimit !== undefined && rawLimit !== "") {
    limit = Number(rawLimit);
    if (!/^\d+$/.test(rawLimit) || limit < 1 || limit > 200)
      throw new BadRequest(`Invalid limit "${rawLimit}": expected an integer 1–200`);
  }
  return { site, limit };
}

/** The overview URL for `p` with `change` applied (defaults are left out to keep URLs short). */
export function overviewHref(p: OverviewParams, change: Partial<OverviewParams> = {}): string {
  const next = { ...p, ...change, filters: { ...p.filters, ...(change.filters ?? {}) } };
  const q = new URLSearchParams();
  if (next.range !== "1h") q.set("range", next.range);
  for (const dim of FILTER_DIMENSIONS) {
    const v = next.filters[dim];
    if (v) q.set(dim, v);
  }
  if (next.metric !== "lcp") q.set("metric", next.metric);
  if (next.pct !== "p75") q.set("pct", next.pct);
  if (next.by !== "pageGroup") q.set("by", next.by);
  if (next.attrBy !== "pageGroup") q.set("attrBy", next.attrBy);
  if (next.attrPct !== "p50") q.set("attrPct", next.attrPct);
  if (next.attrScope !== "all") q.set("attrScope", next.attrScope);
  const s = q.toString();
  return s ? `/_dash/?${s}` : "/_dash/";
}
