/**
 * The query API's parameter parsers (`/v1/query`, `/v1/coverage`, `/v1/pageviews`, `/v1/images`)
 * into the typed specs of query-contract.ts: the collector validates with them, a client or a
 * test fake checks what the API accepts with the same code. Pure.
 * Every rejection names the parameter and the bad value; unknown parameters are rejected too,
 * so a typo (`pagegroup=`) never silently widens a query.
 */
import { METRIC_PARTS, type MetricPart } from "./attribution-parts.ts";
import {
  type CoverageSpec,
  DAY_MS,
  DIMENSION_NAMES,
  type DimensionName,
  HOUR_MS,
  IMAGE_DIMENSION_NAMES,
  IMAGE_GROUP_BY,
  type ImageGroupBy,
  type ImageQuerySpec,
  MINUTE_MS,
  type Parsed,
  type QuerySpec,
} from "./query-contract.ts";

type MetricDef = MetricPart;
const METRIC_BY_NAME: ReadonlyMap<string, MetricPart> = new Map(METRIC_PARTS.map((m) => [m.name, m]));

export const DEFAULT_PERCENTILES = [50, 75, 90, 95, 99];
export const DEFAULT_RANGE_MS = HOUR_MS;
export const MAX_RANGE_MS = 400 * DAY_MS;
export const MAX_SERIES_POINTS = 1500;
export const DEFAULT_PAGEVIEWS_LIMIT = 50;
export const MAX_PAGEVIEWS_LIMIT = 500;
const MAX_FILTER_VALUES = 50;

/** Metrics one `/v1/query` call may ask for (`metric=lcp,inp,ttfb`). */
export const MAX_METRICS = 16;

const QUERY_PARAMS = new Set([
  "metric",
  "percentiles",
  "from",
  "to",
  "groupBy",
  "interval",
  ...DIMENSION_NAMES,
]);

function err<T>(error: string): Parsed<T> {
  return { ok: false, error };
}

/** Epoch ms from an ISO 8601 string or an integer of epoch ms. */
export function parseTime(raw: string): number | null {
  if (/^\d{1,15}$/.test(raw)) return Number(raw);
  if (!/^\d{4}-\d{2}-\d{2}/.test(raw)) return null;
  const t = Date.parse(raw);
  return Number.isFinite(t) ? t : null;
}

function rejectUnknown(params: URLSearchParams, allowed: Set<string>): string | null {
  for (const k of params.keys()) {
    if (!allowed.has(k)) return `unknown parameter "${k}" (allowed: ${[...allowed].join(", ")})`;
  }
  for (const k of allowed) if (params.getAll(k).length > 1) return `parameter "${k}" given more than once`;
  return null;
}

/** Time range: `from`/`to` as ISO or epoch ms; default the hour before `now`; at most 400 days. */
export function parseRange(params: URLSearchParams, now: number): Parsed<{ from: number; to: number }> {
  const toRaw = params.get("to");
  const fromRaw = params.get("from");
  const to = toRaw === null ? now : parseTime(toRaw);
  if (to === null) return err(`invalid "to": expected ISO 8601 or epoch ms (got "${toRaw}")`);
  const from = fromRaw === null ? to - DEFAULT_RANGE_MS : parseTime(fromRaw);
  if (from === null) return err(`invalid "from": expected ISO 8601 or epoch ms (got "${fromRaw}")`);
  if (from >= to) return err(`"from" must be before "to" (got from=${fromRaw ?? from}, to=${toRaw ?? to})`);
  if (to - from > MAX_RANGE_MS) return err("time range longer than 400 days");
  return { ok: true, value: { from, to } };
}

function parseFilters(params: URLSearchParams): Parsed<Partial<Record<DimensionName, string[]>>> {
  const filters: Partial<Record<DimensionName, string[]>> = {};
  for (const d of DIMENSION_NAMES) {
    const raw = params.get(d);
    if (raw === null) continue;
    const values = raw.split(",").map((v) => v.trim());
    if (values.some((v) => v === "" || v.length > 200))
      return err(`invalid "${d}": expected comma-separated non-empty values (got "${raw}")`);
    if (values.length > MAX_FILTER_VALUES)
      return err(`too many values for "${d}" (max ${MAX_FILTER_VALUES})`);
    filters[d] = values;
  }
  return { ok: true, value: filters };
}

/** Parses `/v1/query` parameters (`metric` may be a comma list of up to 16; defaults: percentiles 50,75,90,95,99; the last hour; no group, no series). */
export function parseQuery(params: URLSearchParams, now: number): Parsed<QuerySpec> {
  const unknown = rejectUnknown(params, QUERY_PARAMS);
  if (unknown) return err(unknown);
  const metricRaw = params.get("metric");
  const known = [...METRIC_BY_NAME.keys()].join(", ");
  if (metricRaw === null) return err(`missing "metric" (one of ${known})`);
  const names = metricRaw.split(",").map((s) => s.trim());
  if (names.length > MAX_METRICS)
    return err(`too many metrics in "metric" (max ${MAX_METRICS}, got ${names.length})`);
  const metrics: MetricDef[] = [];
  for (const name of names) {
    const def = METRIC_BY_NAME.get(name);
    if (!def) return err(`unknown metric "${name}" (one of ${known})`);
    if (metrics.includes(def)) return err(`metric "${name}" listed more than once in "metric"`);
    metrics.push(def);
  }
  const metric = metrics[0] as MetricDef;

  let percentiles = DEFAULT_PERCENTILES;
  const pRaw = params.get("percentiles");
  if (pRaw !== null) {
    const parts = pRaw.split(",").map((s) => s.trim());
    const nums = parts.map((s) => (/^\d+(\.\d+)?$/.test(s) ? Number(s) : Number.NaN));
    if (parts.length > 10 || nums.some((n) => !(n > 0 && n <= 100)))
      return err(`invalid "percentiles": expected up to 10 numbers in (0, 100] (got "${pRaw}")`);
    percentiles = nums;
  }

  const range = parseRange(params, now);
  if (!range.ok) return range;
  const filters = parseFilters(params);
  if (!filters.ok) return filters;

  const g = params.get("groupBy");
  if (g !== null && !(DIMENSION_NAMES as string[]).includes(g))
    return err(`unknown dimension "${g}" for "groupBy" (one of ${DIMENSION_NAMES.join(", ")})`);

  const i = params.get("interval");
  if (i !== null && !["minute", "hour", "day", "auto"].includes(i))
    return err(`invalid "interval": expected minute, hour, day or auto (got "${i}")`);
  const interval = i as QuerySpec["interval"];
  if (interval && interval !== "auto") {
    const size = interval === "minute" ? 60_000 : interval === "hour" ? HOUR_MS : DAY_MS;
    if ((range.value.to - range.value.from) / size > MAX_SERIES_POINTS)
      return err(
        `too many points for interval "${interval}" (max ${MAX_SERIES_POINTS}); use a coarser interval`,
      );
  }
  return {
    ok: true,
    value: {
      metric,
      metrics,
      percentiles,
      ...range.value,
      filters: filters.value,
      groupBy: (g as DimensionName | null) ?? null,
      interval,
    },
  };
}

/** Parses `/v1/coverage` parameters (range as for /v1/query, rounded outward to whole hours). */
export function parseCoverage(params: URLSearchParams, now: number): Parsed<CoverageSpec> {
  const unknown = rejectUnknown(params, new Set(["from", "to", "site", "pageGroup", "browser"]));
  if (unknown) return err(unknown);
  const range = parseRange(params, now);
  if (!range.ok) return range;
  const list = (k: string): string[] | null => {
    const raw = params.get(k);
    return raw === null
      ? null
      : raw
          .split(",")
          .map((s) => s.trim())
          .filter((s) => s !== "");
  };
  for (const k of ["site", "pageGroup", "browser"]) {
    const n = list(k)?.length ?? 0;
    if (n > MAX_FILTER_VALUES) return err(`too many values for "${k}" (max ${MAX_FILTER_VALUES}, got ${n})`);
  }
  return {
    ok: true,
    value: { ...range.value, site: list("site"), pageGroup: list("pageGroup"), browser: list("browser") },
  };
}

/** Parses `/v1/pageviews` parameters: `limit` 1–500 (default 50), optional `site`. */
export function parsePageViews(params: URLSearchParams): Parsed<{ limit: number; site: string | null }> {
  const unknown = rejectUnknown(params, new Set(["limit", "site"]));
  if (unknown) return err(unknown);
  const raw = params.get("limit");
  let limit = DEFAULT_PAGEVIEWS_LIMIT;
  if (raw !== null) {
    if (!/^\d{1,6}$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_PAGEVIEWS_LIMIT)
      return err(`invalid "limit": expected an integer 1-${MAX_PAGEVIEWS_LIMIT} (got "${raw}")`);
    limit = Number(raw);
  }
  return { ok: true, value: { limit, site: params.get("site") } };
}

const IMAGE_ALLOWED = new Set(["from", "to", "groupBy", "interval", ...IMAGE_DIMENSION_NAMES]);

/** Parses `/v1/images` parameters (defaults: the last hour, no group, no series). */
export function parseImageQuery(params: URLSearchParams, now: number): Parsed<ImageQuerySpec> {
  for (const k of params.keys()) {
    if (!IMAGE_ALLOWED.has(k))
      return { ok: false, error: `unknown parameter "${k}" (allowed: ${[...IMAGE_ALLOWED].join(", ")})` };
  }
  for (const k of IMAGE_ALLOWED)
    if (params.getAll(k).length > 1) return { ok: false, error: `parameter "${k}" given more than once` };
  const range = parseRange(params, now);
  if (!range.ok) return range;
  const filters: ImageQuerySpec["filters"] = {};
  for (const d of IMAGE_DIMENSION_NAMES) {
    const raw = params.get(d);
    if (raw === null) continue;
    const values = raw.split(",").map((v) => v.trim());
    if (values.some((v) => v === "" || v.length > 200))
      return { ok: false, error: `invalid "${d}": expected comma-separated non-empty values (got "${raw}")` };
    if (values.length > MAX_FILTER_VALUES)
      return { ok: false, error: `too many values for "${d}" (max ${MAX_FILTER_VALUES})` };
    filters[d] = values;
  }
  const g = params.get("groupBy");
  if (g !== null && !(IMAGE_GROUP_BY as readonly string[]).includes(g))
    return {
      ok: false,
      error: `unknown dimension "${g}" for "groupBy" (one of ${IMAGE_GROUP_BY.join(", ")})`,
    };
  const i = params.get("interval");
  if (i !== null && !["minute", "hour", "day", "auto"].includes(i))
    return { ok: false, error: `invalid "interval": expected minute, hour, day or auto (got "${i}")` };
  const interval = i as ImageQuerySpec["interval"];
  if (interval && interval !== "auto") {
    const size = interval === "minute" ? MINUTE_MS : interval === "hour" ? HOUR_MS : DAY_MS;
    if ((range.value.to - range.value.from) / size > MAX_SERIES_POINTS)
      return {
        ok: false,
        error: `too many points for interval "${interval}" (max ${MAX_SERIES_POINTS}); use a coarser interval`,
      };
  }
  return {
    ok: true,
    value: { ...range.value, filters, groupBy: (g as ImageGroupBy | null) ?? null, interval },
  };
}
