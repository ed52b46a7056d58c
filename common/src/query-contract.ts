/**
 * The query API's contract, one home for both sides (the collector answers with these shapes,
 * the dashboards and any client read them): dimensions, granularities, the parsed request specs
 * and the response types of `/v1/query`, `/v1/coverage`, `/v1/pageviews` and `/v1/images`.
 * The parameter parsers live next door in query-params-contract.ts. Pure.
 */
import type { MetricPart } from "./attribution-parts.ts";

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
export type Granularity = "minute" | "hour" | "day";
export const GRANULARITY_MS: Readonly<Record<Granularity, number>> = {
  minute: MINUTE_MS,
  hour: HOUR_MS,
  day: DAY_MS,
};

/** Rollup dimensions: API name → column (order = rollup primary key order after site/ts). */
export const DIMENSIONS = {
  site: "site",
  pageGroup: "page_group",
  device: "device",
  country: "country",
  connection: "connection",
  cacheStatus: "cache_status",
  colo: "colo",
} as const;

export type DimensionName = keyof typeof DIMENSIONS;
export const DIMENSION_NAMES = Object.keys(DIMENSIONS) as DimensionName[];

/** Image rollup dimensions: API name → column. */
export const IMAGE_DIMENSIONS = {
  site: "site",
  format: "format",
  device: "device",
  cacheStatus: "cache_status",
} as const;
export type ImageDimensionName = keyof typeof IMAGE_DIMENSIONS;
export const IMAGE_DIMENSION_NAMES = Object.keys(IMAGE_DIMENSIONS) as ImageDimensionName[];
/** Dimensions `groupBy` accepts on `/v1/images` (site is a filter only: one site per dashboard). */
export const IMAGE_GROUP_BY = ["format", "device", "cacheStatus"] as const;
export type ImageGroupBy = (typeof IMAGE_GROUP_BY)[number];

/** A parse result: the value, or the 400 reason. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** `/v1/query`, parsed. */
export interface QuerySpec {
  /** The first (for a single-metric query, the only) metric of `metrics`. */
  metric: MetricPart;
  /** Every requested metric, in request order, without duplicates (1–16). */
  metrics: MetricPart[];
  percentiles: number[];
  from: number;
  to: number;
  filters: Partial<Record<DimensionName, string[]>>;
  groupBy: DimensionName | null;
  interval: Granularity | "auto" | null;
}

/** `/v1/coverage`, parsed. */
export interface CoverageSpec {
  from: number;
  to: number;
  site: string[] | null;
  pageGroup: string[] | null;
  browser: string[] | null;
}

/** `/v1/images`, parsed. */
export interface ImageQuerySpec {
  from: number;
  to: number;
  filters: Partial<Record<ImageDimensionName, string[]>>;
  groupBy: ImageGroupBy | null;
  interval: Granularity | "auto" | null;
}

/** How exactly the rows read match the requested range (the `resolution` field of responses). */
export interface Resolution {
  requestedFrom: string;
  requestedTo: string;
  /** True when the rows read cover exactly [requestedFrom, requestedTo). */
  exact: boolean;
  /** Granularity of the rows at the start and the end of the range (null for an empty plan). */
  startGranularity: Granularity | null;
  endGranularity: Granularity | null;
  /** Why the range was widened, or null when exact. */
  note: string | null;
}

export interface Stats {
  count: number;
  views: number;
  mean: number | null;
  min: number | null;
  max: number | null;
  /** Percentiles keyed "p50", "p99.9", … (null when there is no value). */
  percentiles: Record<string, number | null>;
}

/** What every query answer says about the range it covers (once, also for several metrics). */
export interface QueryFrame {
  from: string;
  to: string;
  percentiles: number[];
  filters: QuerySpec["filters"];
  groupBy: DimensionName | null;
  interval: Granularity | null;
  /** Rollup granularities that answered (and the exact range each covered). */
  sources: Array<{ granularity: Granularity; from: string; to: string }>;
  /** How exactly the rows read match the requested range (widened where minute rows are gone). */
  resolution: Resolution;
}

/** Answer of a single-metric query: the frame plus that metric's part. */
export type QueryResult = QueryFrame & MetricResult;

/** One metric's part of a query answer (the whole answer of a single-metric query adds the range). */
export interface MetricResult {
  metric: string;
  unit: "ms" | "score";
  total: Stats;
  groups?: Array<{ key: string } & Stats & { series?: Array<{ ts: string } & Stats> }>;
  series?: Array<{ ts: string } & Stats>;
}

/** Answer of `metric=a,b,…` (two or more metrics): the common range once, then one part per metric. */
export interface MultiQueryResult extends QueryFrame {
  metrics: string[];
  /** Keyed by metric name, each shaped like the single-metric answer's metric/unit/total/groups/series. */
  results: Record<string, MetricResult>;
}

/** `GET /v1/coverage`'s answer. */
export interface CoverageResult {
  from: string;
  to: string;
  total: { beacons: number; edgeViews: number; coverage: number | null };
  groups: Array<{
    pageGroup: string;
    browser: string;
    beacons: number;
    edgeViews: number;
    coverage: number | null;
  }>;
}

export interface ImageStats {
  /** Image responses (weighted by 1 / sample rate). */
  count: number;
  /** Records stored (unweighted). */
  samples: number;
  /** Sums over the responses that reported both byte counts (`measured` of `count`). */
  measured: number;
  originalBytes: number;
  deliveredBytes: number;
  /** originalBytes − deliveredBytes (negative when variants were larger than their sources). */
  bytesSaved: number;
  /** bytesSaved ÷ originalBytes, null when no original bytes were measured. */
  savedRatio: number | null;
  /** Responses that served the original because the image service failed (weighted). */
  fallbacks: number;
}

export interface ImageQueryResult {
  from: string;
  to: string;
  filters: ImageQuerySpec["filters"];
  groupBy: ImageGroupBy | null;
  interval: Granularity | null;
  sources: Array<{ granularity: Granularity; from: string; to: string }>;
  resolution: Resolution;
  total: ImageStats;
  groups?: Array<{ key: string } & ImageStats & { series?: Array<{ ts: string } & ImageStats> }>;
  series?: Array<{ ts: string } & ImageStats>;
}

/** The fields every page-view answer shares (`/v1/pageviews` items, `/v1/pageview`). */
export interface PageViewIdentity {
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
}

/** One item of `GET /v1/pageviews` (`{ pageViews: PageViewJson[] }`, newest first). */
export interface PageViewJson extends PageViewIdentity {
  seq: number;
  /** True when the edge split comes from the edge's own log record for `rid`. */
  edgeVerified: boolean;
  /** True while the page view waits for its edge record (not rolled up yet). */
  pending: boolean;
  sessionId: string | null;
  prevPvid: string | null;
  arm: string | null;
  converted: boolean;
  conversionValue: number | null;
  invalidFields: number;
  /** Web vitals by metric name (lcp, inp, cls, fcp). */
  vitals: Record<string, number | null>;
  /** TTFB parts by metric name, the flags, and the render parts (null without LCP parts). */
  attribution: Record<string, number | null | boolean | Record<string, number | null> | null>;
}

/** `GET /v1/pageviews`'s answer. */
export interface PageViewsResult {
  pageViews: PageViewJson[];
}
