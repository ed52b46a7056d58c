/**
 * `GET /v1/impact`: what speed is worth. Page views are tied into per-tab sessions
 * (`session_id`, from the beacon's `sid`); each session is put in the LCP (or TTFB) bucket of its
 * landing page view, and per bucket we count sessions, bounces (sessions of one page view),
 * conversions (a page view marked `converted`) and their value. Revenue at stake for a bucket
 * slower than "good" = its sessions × (conversion rate of the good buckets − its own rate, when
 * positive) × the average conversion value: an estimate that assumes those sessions would convert
 * like fast ones, shown as such.
 */
import type { ImpactAnswer, ImpactBucket, ImpactBuckets } from "../../../common/src/insights-contract.ts";
import {
  type Filters,
  fail,
  METRIC_COLUMNS,
  type Parsed,
  parseFilters,
  parseRange,
  rejectUnknown,
  whereClause,
} from "./params.ts";

/** Bucket upper bounds (ms) per metric; the last bucket is open-ended. */
export const IMPACT_BUCKETS = {
  lcp: [1000, 2000, 2500, 3000, 4000, 6000],
  ttfb: [200, 400, 800, 1200, 1800],
} as const;
export type ImpactMetric = keyof typeof IMPACT_BUCKETS;

/** Columns impact needs (added to rum_page_views by the session/conversion migration). */
export const IMPACT_COLUMNS = ["session_id", "converted", "conversion_value"] as const;

/** Buckets with fewer sessions are flagged: their rates are too noisy to act on. */
export const MIN_SESSIONS = 30;

export interface ImpactSpec {
  metric: ImpactMetric;
  from: number;
  to: number;
  filters: Filters;
}

export function parseImpactParams(params: URLSearchParams, now: number): Parsed<ImpactSpec> {
  const unknown = rejectUnknown(params, [
    "by",
    "from",
    "to",
    "site",
    "pageGroup",
    "device",
    "country",
    "connection",
    "colo",
    "browser",
  ]);
  if (unknown) return fail(unknown);
  const by = params.get("by") ?? "lcp";
  if (by !== "lcp" && by !== "ttfb") return fail(`invalid "by": expected lcp or ttfb (got "${by}")`);
  const range = parseRange(params, now);
  if (!range.ok) return range;
  const filters = parseFilters(params);
  if (!filters.ok) return filters;
  return { ok: true, value: { metric: by, ...range.value, filters: filters.value } };
}

/** Columns of rum_page_views (to say clearly which migration is missing instead of a SQL error). */
export async function pageViewColumns(db: D1Database): Promise<Set<string>> {
  const r = await db.prepare("PRAGMA table_info(rum_page_views)").all<{ name: string }>();
  return new Set(r.results.map((c) => c.name));
}

export type { ImpactBucket };

interface Row {
  b: number;
  sessions: number;
  bounces: number;
  conversions: number;
  revenue: number;
}

/** Pure: per-bucket rates and revenue at stake from the per-bucket sums. */
export function impactBuckets(metric: ImpactMetric, rows: readonly Row[]): ImpactBuckets {
  const bounds = IMPACT_BUCKETS[metric];
  const { good, poor } = METRIC_COLUMNS[metric];
  const byB = new Map(rows.map((r) => [Number(r.b), r]));
  const base = bounds.map((_, i) => i).concat(bounds.length);
  const all = base.map((i) => {
    const r = byB.get(i);
    const lo = i === 0 ? 0 : (bounds[i - 1] as number);
    const hi = i < bounds.length ? (bounds[i] as number) : null;
    const sessions = Number(r?.sessions ?? 0);
    return {
      from: lo,
      to: hi,
      rating: (hi !== null && hi <= good
        ? "good"
        : hi !== null && hi <= poor
          ? "ni"
          : "poor") as ImpactBucket["rating"],
      sessions,
      bounces: Number(r?.bounces ?? 0),
      conversions: Number(r?.conversions ?? 0),
      revenue: Number(r?.revenue ?? 0),
    };
  });
  const goodB = all.filter((b) => b.rating === "good");
  const goodSessions = goodB.reduce((a, b) => a + b.sessions, 0);
  const baseline = goodSessions > 0 ? goodB.reduce((a, b) => a + b.conversions, 0) / goodSessions : null;
  const conversions = all.reduce((a, b) => a + b.conversions, 0);
  const revenue = all.reduce((a, b) => a + b.revenue, 0);
  const avgValue = conversions > 0 ? revenue / conversions : 0;
  const buckets: ImpactBucket[] = all.map((b) => {
    const rate = b.sessions > 0 ? b.conversions / b.sessions : null;
    const gap = baseline !== null && rate !== null && b.rating !== "good" ? Math.max(0, baseline - rate) : 0;
    return {
      ...b,
      bounceRate: b.sessions > 0 ? b.bounces / b.sessions : null,
      conversionRate: rate,
      lowSample: b.sessions < MIN_SESSIONS,
      revenueAtStake: b.sessions * gap * avgValue,
    };
  });
  return {
    buckets,
    baselineConversionRate: baseline,
    averageConversionValue: conversions > 0 ? avgValue : null,
    revenueAtStake: buckets.reduce((a, b) => a + b.revenueAtStake, 0),
    total: {
      sessions: all.reduce((a, b) => a + b.sessions, 0),
      bounces: all.reduce((a, b) => a + b.bounces, 0),
      conversions,
      revenue,
    },
  };
}

/** Runs the session query: one row per bucket. */
export async function runImpact(db: D1Database, spec: ImpactSpec): Promise<ImpactAnswer> {
  const col = METRIC_COLUMNS[spec.metric].column;
  const binds: unknown[] = [];
  const where = whereClause(spec, spec.filters, binds);
  const bounds = IMPACT_BUCKETS[spec.metric];
  const bucketExpr = `CASE ${bounds.map((b, i) => `WHEN m < ${b} THEN ${i}`).join(" ")} ELSE ${bounds.length} END`;
  const sql = `WITH pv AS (
      SELECT session_id, ${col} AS m, COALESCE(converted, 0) AS conv, COALESCE(conversion_value, 0) AS val,
        ROW_NUMBER() OVER (PARTITION BY session_id ORDER BY ts, pvid) AS n
      FROM rum_page_views WHERE ${where.join(" AND ")} AND session_id IS NOT NULL AND session_id <> ''),
    s AS (SELECT session_id, COUNT(*) AS views, MAX(conv) AS conv, SUM(CASE WHEN conv = 1 THEN val ELSE 0 END) AS val,
        MAX(CASE WHEN n = 1 THEN m END) AS m FROM pv GROUP BY session_id)
    SELECT ${bucketExpr} AS b, COUNT(*) AS sessions, SUM(CASE WHEN views = 1 THEN 1 ELSE 0 END) AS bounces,
      SUM(conv) AS conversions, SUM(val) AS revenue FROM s WHERE m IS NOT NULL GROUP BY b ORDER BY b`;
  const r = await db
    .prepare(sql)
    .bind(...binds)
    .all<Row>();
  return {
    metric: spec.metric,
    from: new Date(spec.from).toISOString(),
    to: new Date(spec.to).toISOString(),
    minSessions: MIN_SESSIONS,
    ...impactBuckets(spec.metric, r.results),
  };
}
