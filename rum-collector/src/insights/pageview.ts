/**
 * `GET /v1/pageview?site=&pvid=`: one page view end to end: the stored beacon row with every
 * attribution part, and the edge's own record for the same request id (cache status, colo,
 * edge/origin/app time) from rum_edge_log.
 */
import type { PageViewDetail, SlowestAnswer } from "../../../common/src/insights-contract.ts";
import {
  FILTER_COLUMNS,
  type Filters,
  fail,
  METRIC_COLUMNS,
  type MetricName,
  type Parsed,
  parseFilters,
  parseLimit,
  parseMetric,
  parseRange,
  rejectUnknown,
  whereClause,
} from "./params.ts";

function num(x: unknown): number | null {
  return x === null || x === undefined ? null : Number(x);
}

/** The rum_page_views columns read here (the session/conversion ones are absent before their migration). */
interface PageViewDbRow extends Record<string, unknown> {
  site: string;
  pvid: string;
  ts: number;
  rid: string | null;
  page_group: string;
  path: string;
  country: string;
  colo: string;
  asn: number;
  device: string;
  browser: string;
  connection: string;
  cache_status: string;
  nav_type: string | null;
  delivery_type: string | null;
  session_id?: string | null;
  prev_pvid?: string | null;
}

/** The rum_edge_log columns read here. */
interface EdgeDbRow extends Record<string, unknown> {
  rid: string;
  ts: number;
  cache_status: string;
  colo: string;
  country: string;
}

export function parsePageViewParams(params: URLSearchParams): Parsed<{ site: string; pvid: string }> {
  const unknown = rejectUnknown(params, ["site", "pvid"]);
  if (unknown) return fail(unknown);
  const site = params.get("site");
  const pvid = params.get("pvid");
  if (!site || site.length > 200) return fail('missing or too long "site"');
  if (!pvid || !/^[A-Za-z0-9_-]{1,64}$/.test(pvid))
    return fail(`invalid "pvid": expected 1–64 of [A-Za-z0-9_-] (got "${pvid ?? ""}")`);
  return { ok: true, value: { site, pvid } };
}

/** The page view and its edge record; null when no such page view is stored. */
export async function pageViewDetail(
  db: D1Database,
  site: string,
  pvid: string,
): Promise<PageViewDetail | null> {
  const r = await db
    .prepare("SELECT * FROM rum_page_views WHERE site = ?1 AND pvid = ?2")
    .bind(site, pvid)
    .first<PageViewDbRow>();
  if (!r) return null;
  const edge =
    typeof r.rid === "string" && r.rid !== ""
      ? await db.prepare("SELECT * FROM rum_edge_log WHERE rid = ?1").bind(r.rid).first<EdgeDbRow>()
      : null;
  const opt = (k: string) => (k in r ? r[k] : null);
  return {
    site: r.site,
    pvid: r.pvid,
    ts: new Date(Number(r.ts)).toISOString(),
    rid: r.rid ?? null,
    pageGroup: r.page_group,
    path: r.path,
    dims: {
      country: r.country,
      colo: r.colo,
      asn: r.asn,
      device: r.device,
      browser: r.browser,
      connection: r.connection,
    },
    cacheStatus: r.cache_status,
    navigationType: r.nav_type ?? null,
    deliveryType: r.delivery_type ?? null,
    sessionId: r.session_id ?? null,
    prevPvid: r.prev_pvid ?? null,
    edgeVerified: opt("edge_verified") === null ? null : Number(opt("edge_verified")) === 1,
    converted: opt("converted") === null ? null : Number(opt("converted")) === 1,
    conversionValue: num(opt("conversion_value")),
    vitals: { lcp: num(r.lcp), inp: num(r.inp), cls: num(r.cls), fcp: num(r.fcp) },
    attribution: {
      ttfb: num(r.ttfb),
      queueing: num(r.queueing),
      lastMileConnect: num(r.last_mile_connect),
      lastMileWire: num(r.last_mile_wire),
      edge: num(r.edge),
      middleMile: num(r.middle_mile),
      backend: num(r.backend),
      originAsOnePart: Number(r.origin_as_one_part) === 1,
      edgeMeasured: Number(r.edge_measured) === 1,
      download: num(r.download),
      resourceLoadDelay: num(r.resource_load_delay),
      resourceLoadDuration: num(r.resource_load_duration),
      elementRenderDelay: num(r.element_render_delay),
    },
    edgeRecord: edge
      ? {
          rid: edge.rid,
          ts: new Date(Number(edge.ts)).toISOString(),
          status: num(edge.status),
          cacheStatus: edge.cache_status,
          colo: edge.colo,
          country: edge.country,
          edgeMs: num(edge.edge_ms),
          originMs: num(edge.origin_ms),
          appMs: num(edge.app_ms),
        }
      : null,
  };
}

/** A rum_page_views row as the slowest query selects it. */
interface SlowDbRow extends Record<string, unknown> {
  site: string;
  pvid: string;
  ts: number;
  page_group: string;
  path: string;
  country: string;
  colo: string;
  device: string;
  browser: string;
  cache_status: string;
}

export interface SlowestSpec {
  metric: MetricName;
  from: number;
  to: number;
  filters: Filters;
  limit: number;
}

/** `/v1/slowest` parameters: metric (default lcp), range, filters, limit 1–100 (default 20). */
export function parseSlowestParams(params: URLSearchParams, now: number): Parsed<SlowestSpec> {
  const unknown = rejectUnknown(params, ["metric", "from", "to", "limit", ...Object.keys(FILTER_COLUMNS)]);
  if (unknown) return fail(unknown);
  const metric = parseMetric(params, "lcp");
  if (!metric.ok) return metric;
  const range = parseRange(params, now);
  if (!range.ok) return range;
  const filters = parseFilters(params);
  if (!filters.ok) return filters;
  const limit = parseLimit(params, 20);
  if (!limit.ok) return limit;
  return {
    ok: true,
    value: { metric: metric.value, ...range.value, filters: filters.value, limit: limit.value },
  };
}

/** `GET /v1/slowest`: the page views with the highest value of the metric (the tail behind a percentile). */
export async function slowestPageViews(db: D1Database, spec: SlowestSpec): Promise<SlowestAnswer> {
  const col = METRIC_COLUMNS[spec.metric].column;
  const binds: unknown[] = [];
  const where = whereClause(spec, spec.filters, binds);
  const r = await db
    .prepare(
      `SELECT site, pvid, ts, page_group, path, country, colo, device, browser, cache_status, ${col} AS value, ttfb, lcp, middle_mile, backend
       FROM rum_page_views WHERE ${where.join(" AND ")} AND ${col} IS NOT NULL ORDER BY ${col} DESC, pvid LIMIT ?${binds.push(spec.limit)}`,
    )
    .bind(...binds)
    .all<SlowDbRow>();
  return {
    metric: spec.metric,
    pageViews: r.results.map((x) => ({
      site: x.site,
      pvid: x.pvid,
      ts: new Date(Number(x.ts)).toISOString(),
      pageGroup: x.page_group,
      path: x.path,
      country: x.country,
      colo: x.colo,
      device: x.device,
      browser: x.browser,
      cacheStatus: x.cache_status,
      value: num(x.value),
      ttfb: num(x.ttfb),
      lcp: num(x.lcp),
      middleMile: num(x.middle_mile),
      backend: num(x.backend),
    })),
  };
}
