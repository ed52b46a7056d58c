/**
 * The dashboards' only data source: the RUM query API (`/_rum/v1/*`), reached through an
 * injected `queryApi(pathAndQuery)` so the dashboards never touch D1 or collector internals.
 * The wire shapes are the collector's and have one home, common/src/query-contract.ts: every
 * field read here is named through those types (`Unchecked<T>`), so a renamed or removed field
 * fails the typecheck on both sides. Values are still checked at runtime and normalised into the
 * dashboards' own view rows below; every failure becomes an `ApiError` with a message a person
 * can act on.
 */
import type {
  CoverageResult,
  Granularity,
  ImageGroupBy,
  ImageQueryResult,
  ImageStats,
  MetricResult,
  MultiQueryResult,
  PageViewJson,
  PageViewsResult,
  QueryResult as QueryAnswer,
  Resolution as QueryResolution,
  Stats,
} from "../../common/src/query-contract.ts";
import type { CacheStatus } from "../../common/src/rum-types.ts";
import type { Percentile } from "./metrics.ts";
import type { Filters } from "./view-params.ts";

/** Calls the query API in-process: `pathAndQuery` like `/_rum/v1/query?metric=lcp&…`. */
export type QueryApi = (pathAndQuery: string) => Promise<Response>;

/** A query API failure, shown to the reader as `message`. */
export class ApiError extends Error {
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.status = status;
  }
}

export interface QueryRequest {
  /** Metric names as the query API spells them; 2–16 are answered by one call (`metric=a,b,c`). */
  metrics: readonly string[];
  percentiles: readonly Percentile[];
  from: number;
  to: number;
  filters: Filters;
  groupBy?: string;
  /** Time-series bucket: a rollup granularity. */
  interval?: Granularity;
}

export type PercentileValues = Partial<Record<Percentile, number | null>>;

export interface GroupRow {
  key: string;
  /** Page views that have a value for the metric. */
  count: number;
  values: PercentileValues;
}

export interface SeriesRow {
  /** Bucket start, ms since epoch. */
  t: number;
  count: number;
  values: PercentileValues;
}

/** One metric of a `/v1/query` answer as the views use it (normalised from the contract's `MetricResult`). */
export interface QueryResult {
  metric: string;
  count: number;
  values: PercentileValues;
  groups: GroupRow[];
  series: SeriesRow[];
  /** Whether the rows read cover exactly the requested range (shared by every metric of a call). */
  resolution: Resolution | null;
}

/** A page view as the views use it (normalised from the contract's `PageViewJson`). */
export interface PageViewRow {
  ts: number;
  pvid: string;
  pageGroup: string;
  path: string;
  cacheStatus: CacheStatus | string;
  device: string;
  browser: string;
  country: string;
  connection: string;
  vitals: {
    lcp: number | null;
    inp: number | null;
    cls: number | null;
    ttfb: number | null;
    fcp: number | null;
  };
  /** Attribution parts in ms (null = unknown); keys as in `ATTRIBUTION_PARTS`. */
  parts: Record<string, number | null>;
  /** False when the response carried no edge timing (a site not behind the edge). */
  edgeMeasured: boolean;
  /** Navigation type (navigate, reload, back_forward, prerender, …) and delivery type ("" = network). */
  navigationType: string;
  deliveryType: string;
}

/** A coverage group as the views use it (from `CoverageResult["groups"]`). */
export interface CoverageRow {
  pageGroup: string;
  browser: string;
  beacons: number;
  /** HTML page views the edge served. */
  pageViews: number;
}

/** "p75" → "75": the query API takes percentiles as numbers. */
function pctNumber(p: Percentile): string {
  return p.slice(1);
}

/** Builds the `/v1/query` query string; filter values pass through unchanged. */
export function queryString(req: QueryRequest): string {
  const q = new URLSearchParams();
  q.set("metric", req.metrics.join(","));
  q.set("percentiles", req.percentiles.map(pctNumber).join(","));
  q.set("from", String(req.from));
  q.set("to", String(req.to));
  for (const [k, v] of Object.entries(req.filters)) if (v !== undefined && v !== "") q.set(k, v);
  if (req.groupBy) q.set("groupBy", req.groupBy);
  if (req.interval) q.set("interval", req.interval);
  return q.toString();
}

/** GET `pathAndQuery` on the query API: the JSON object, or an `ApiError` with a readable reason. */
export async function getJson(api: QueryApi, pathAndQuery: string): Promise<unknown> {
  let res: Response;
  try {
    res = await api(pathAndQuery);
  } catch (err) {
    throw new ApiError(
      `The query API could not be reached: ${err instanceof Error ? err.message : String(err)}`,
      502,
    );
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const reason =
      body && typeof body === "object" && "error" in body && typeof body.error === "string"
        ? body.error
        : text.slice(0, 200) || res.statusText;
    throw new ApiError(`The query API answered ${res.status}: ${reason}`, res.status);
  }
  if (body === undefined || body === null || typeof body !== "object")
    throw new ApiError("The query API answered with something that is not a JSON object", 502);
  return body;
}

function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/** ISO 8601 or epoch ms → epoch ms (0 when unreadable). */
function time(v: unknown): number {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string") {
    const t = Date.parse(v);
    return Number.isFinite(t) ? t : 0;
  }
  return 0;
}

/** A JSON object whose field names are those of the contract type `T`, values not yet checked. */
type Unchecked<T> = { [K in keyof T]?: unknown };

/** `v` as an object whose fields are read by the names of `T` (`{}` when not an object). */
function obj<T>(v: unknown): Unchecked<T> {
  return v && typeof v === "object" && !Array.isArray(v) ? (v as Unchecked<T>) : {};
}

function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function str(v: unknown): string {
  return typeof v === "string" ? v : v === null || v === undefined ? "" : String(v);
}

/** `{ count, percentiles: { p50: … } }` (the API's Stats) → count + values. */
function stats(v: unknown): { count: number; values: PercentileValues } {
  const o = obj<Stats>(v);
  const values: PercentileValues = {};
  for (const [k, x] of Object.entries(obj<Stats["percentiles"]>(o.percentiles)))
    values[k as Percentile] = num(x);
  return { count: num(o.count) ?? 0, values };
}

/** One metric's part of a `/v1/query` answer: `metric`, `total` and `groups`/`series`. */
function metricResult(o: Unchecked<MetricResult>, metric: string, res: Resolution | null): QueryResult {
  type Group = NonNullable<MetricResult["groups"]>[number];
  type Bucket = NonNullable<MetricResult["series"]>[number];
  return {
    metric: str(o.metric) || metric,
    ...stats(o.total),
    groups: arr(o.groups).map((g) => ({ key: str(obj<Group>(g).key), ...stats(g) })),
    series: arr(o.series).map((s) => ({ t: time(obj<Bucket>(s).ts), ...stats(s) })),
    resolution: res,
  };
}

/**
 * `GET /_rum/v1/query` for every metric of `req.metrics` in one call, keyed by metric name:
 * percentiles over the range, per group (`groupBy`) or per time bucket (`interval`). One metric
 * is answered in the single-metric shape, two or more under `results.<metric>`.
 */
export async function queryMetrics(api: QueryApi, req: QueryRequest): Promise<Record<string, QueryResult>> {
  if (req.metrics.length === 0) throw new ApiError("No metric was asked for", 400);
  const body = obj<QueryAnswer & MultiQueryResult>(await getJson(api, `/_rum/v1/query?${queryString(req)}`));
  const res = resolution(body.resolution, body.from, body.to);
  const out: Record<string, QueryResult> = {};
  if (req.metrics.length === 1) {
    const metric = req.metrics[0] as string;
    if (!("total" in body)) throw new ApiError('The query API answered without a "total" field', 502);
    out[metric] = metricResult(body, metric, res);
    return out;
  }
  const results = obj<MultiQueryResult["results"]>(body.results);
  for (const metric of req.metrics) {
    const r = obj<MetricResult>(results[metric]);
    if (!("total" in r)) throw new ApiError(`The query API answered without "results.${metric}.total"`, 502);
    out[metric] = metricResult(r, metric, res);
  }
  return out;
}

/** `GET /_rum/v1/query` for one metric (`req.metrics` of length 1; see `queryMetrics`). */
export async function query(api: QueryApi, req: QueryRequest): Promise<QueryResult> {
  const metric = req.metrics[0];
  const r =
    metric === undefined ? undefined : (await queryMetrics(api, { ...req, metrics: [metric] }))[metric];
  if (!r) throw new ApiError("No metric was asked for", 400);
  return r;
}

/** `GET /_rum/v1/pageviews?limit=N&site=…`: the most recent page views, newest first. */
export async function recentPageViews(api: QueryApi, site: string, limit: number): Promise<PageViewRow[]> {
  const q = new URLSearchParams({ limit: String(limit), site });
  const body = obj<PageViewsResult>(await getJson(api, `/_rum/v1/pageviews?${q}`));
  return arr(body.pageViews).map((p) => {
    const o = obj<PageViewJson>(p);
    const a = obj<PageViewJson["attribution"]>(o.attribution);
    const render = obj<Record<string, number | null>>(a.render);
    const vit = obj<PageViewJson["vitals"]>(o.vitals);
    const dims = obj<PageViewJson["dims"]>(o.dims);
    return {
      ts: time(o.ts),
      pvid: str(o.pvid),
      pageGroup: str(o.pageGroup),
      path: str(o.path),
      cacheStatus: str(o.cacheStatus) || "NONE",
      device: str(dims.device),
      browser: str(dims.browser),
      country: str(dims.country),
      connection: str(dims.connection),
      vitals: {
        lcp: num(vit.lcp),
        inp: num(vit.inp),
        cls: num(vit.cls),
        ttfb: num(a.ttfb),
        fcp: num(vit.fcp),
      },
      parts: {
        queueing: num(a.queueing),
        lastMileConnect: num(a.lastMileConnect),
        lastMileWire: num(a.lastMileWire),
        edge: num(a.edge),
        middleMile: num(a.middleMile),
        backend: num(a.backend),
        download: num(a.download),
        resourceLoadDelay: num(render.resourceLoadDelay),
        resourceLoadDuration: num(render.resourceLoadDuration),
        elementRenderDelay: num(render.elementRenderDelay),
      },
      edgeMeasured: a.edgeMeasured !== false,
      navigationType: str(o.navigationType),
      deliveryType: str(o.deliveryType),
    };
  });
}

/** `GET /_rum/v1/coverage`: beacons vs edge HTML page views per page group × browser (whole hours). */
export async function coverage(
  api: QueryApi,
  req: { from: number; to: number; site: string; pageGroup?: string },
): Promise<CoverageRow[]> {
  const q = new URLSearchParams({ from: String(req.from), to: String(req.to), site: req.site });
  if (req.pageGroup) q.set("pageGroup", req.pageGroup);
  const body = obj<CoverageResult>(await getJson(api, `/_rum/v1/coverage?${q}`));
  return arr(body.groups).map((r) => {
    const o = obj<CoverageResult["groups"][number]>(r);
    return {
      pageGroup: str(o.pageGroup),
      browser: str(o.browser),
      beacons: num(o.beacons) ?? 0,
      pageViews: num(o.edgeViews) ?? 0,
    };
  });
}

/** How the rows read cover the requested range (from the contract's `resolution`; null when absent). */
export interface Resolution {
  exact: boolean;
  /** Why the range was widened or rounded; null when exact. */
  note: string | null;
  /** How far (ms) the range read reaches beyond the requested one at either end; null when unknown. */
  widenedMs: number | null;
}

/** `resolution` plus the answer's own `from`/`to` (the range actually read). */
function resolution(v: unknown, readFrom: unknown, readTo: unknown): Resolution | null {
  const o = obj<QueryResolution>(v);
  if (typeof o.exact !== "boolean") return null;
  const times = [o.requestedFrom, o.requestedTo, readFrom, readTo].map((t) =>
    typeof t === "string" ? Date.parse(t) : Number.NaN,
  ) as [number, number, number, number];
  const widenedMs = times.every(Number.isFinite)
    ? Math.max(0, times[0] - times[2], times[3] - times[1])
    : null;
  return { exact: o.exact, note: typeof o.note === "string" && o.note !== "" ? o.note : null, widenedMs };
}

/** Image byte counters of one group (or the total, key "all") of `GET /_rum/v1/images`. */
export type ImageStatsRow = { key: string } & ImageStats;

export interface ImageSavings {
  total: ImageStatsRow;
  groups: ImageStatsRow[];
  resolution: Resolution | null;
}

export interface ImageSavingsRequest {
  from: number;
  to: number;
  site: string;
  groupBy: Exclude<ImageGroupBy, "cacheStatus">;
  /** Device class filter (comma list = any of); absent = every device. */
  device?: string;
}

function imageStats(key: string, v: unknown): ImageStatsRow {
  const o = obj<ImageStats>(v);
  const original = num(o.originalBytes) ?? 0;
  const delivered = num(o.deliveredBytes) ?? 0;
  return {
    key,
    count: num(o.count) ?? 0,
    samples: num(o.samples) ?? 0,
    measured: num(o.measured) ?? 0,
    originalBytes: original,
    deliveredBytes: delivered,
    bytesSaved: num(o.bytesSaved) ?? original - delivered,
    savedRatio: num(o.savedRatio),
    fallbacks: num(o.fallbacks) ?? 0,
  };
}

/** `GET /_rum/v1/images?groupBy=format|device`: bytes saved by image variants over the range, per group. */
export async function imageSavings(api: QueryApi, req: ImageSavingsRequest): Promise<ImageSavings> {
  const q = new URLSearchParams({ from: String(req.from), to: String(req.to) });
  if (req.site) q.set("site", req.site);
  if (req.device) q.set("device", req.device);
  q.set("groupBy", req.groupBy);
  const body = obj<ImageQueryResult>(await getJson(api, `/_rum/v1/images?${q}`));
  if (!("total" in body)) throw new ApiError('The image API answered without a "total" field', 502);
  return {
    total: imageStats("all", body.total),
    groups: arr(body.groups).map((g) => imageStats(str(obj<{ key: string }>(g).key), g)),
    resolution: resolution(body.resolution, body.from, body.to),
  };
}
