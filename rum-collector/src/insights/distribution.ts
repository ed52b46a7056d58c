/**
 * `GET /v1/distribution`: histogram of one metric over raw page views with the Core Web Vitals
 * good / needs-improvement / poor shares, for the range and for the previous period of the same
 * length (`compare=previous`, the default; `compare=none` skips it). Bins are fixed per metric so
 * the thresholds fall on bin edges; the last bin holds everything above the chart.
 */
import type { DistPeriod, DistributionAnswer } from "../../../common/src/insights-contract.ts";
import {
  FILTER_COLUMNS,
  type Filters,
  fail,
  METRIC_COLUMNS,
  type MetricName,
  type Parsed,
  parseFilters,
  parseMetric,
  parseRange,
  rejectUnknown,
  whereClause,
} from "./params.ts";

/** Bin width and bin count per metric (width × count = 2 × the "poor" threshold). */
export const BINS: Record<MetricName, { width: number; count: number }> = {
  lcp: { width: 250, count: 32 },
  inp: { width: 50, count: 20 },
  cls: { width: 0.025, count: 20 },
  fcp: { width: 150, count: 40 },
  ttfb: { width: 100, count: 36 },
};

export interface DistributionSpec {
  metric: MetricName;
  from: number;
  to: number;
  filters: Filters;
  compare: boolean;
}

export function parseDistributionParams(params: URLSearchParams, now: number): Parsed<DistributionSpec> {
  const unknown = rejectUnknown(params, ["metric", "from", "to", "compare", ...Object.keys(FILTER_COLUMNS)]);
  if (unknown) return fail(unknown);
  const metric = parseMetric(params, "lcp");
  if (!metric.ok) return metric;
  const range = parseRange(params, now);
  if (!range.ok) return range;
  const filters = parseFilters(params);
  if (!filters.ok) return filters;
  const c = params.get("compare") ?? "previous";
  if (c !== "previous" && c !== "none")
    return fail(`invalid "compare": expected previous or none (got "${c}")`);
  return {
    ok: true,
    value: { metric: metric.value, ...range.value, filters: filters.value, compare: c === "previous" },
  };
}

async function period(db: D1Database, spec: DistributionSpec, from: number, to: number): Promise<DistPeriod> {
  const m = METRIC_COLUMNS[spec.metric];
  const { width, count } = BINS[spec.metric];
  const binds: unknown[] = [];
  const where = whereClause({ from, to }, spec.filters, binds);
  const weight = "(1.0 / CASE WHEN sample_rate > 0 THEN sample_rate ELSE 1 END)";
  // CLS bins in thousandths so that floating point never moves a value across an edge.
  const scaled =
    spec.metric === "cls"
      ? `CAST(ROUND(${m.column} * 1000) AS INTEGER) / ${width * 1000}`
      : `CAST(${m.column} / ${width} AS INTEGER)`;
  const r = await db
    .prepare(
      `SELECT MIN(${scaled}, ${count - 1}) AS bin, SUM(${weight}) AS n,
        SUM(CASE WHEN ${m.column} <= ${m.good} THEN ${weight} ELSE 0 END) AS good,
        SUM(CASE WHEN ${m.column} > ${m.poor} THEN ${weight} ELSE 0 END) AS poor
       FROM rum_page_views WHERE ${where.join(" AND ")} AND ${m.column} IS NOT NULL AND ${m.column} >= 0 GROUP BY bin`,
    )
    .bind(...binds)
    .all<{ bin: number; n: number; good: number; poor: number }>();
  const bins = new Array<number>(count).fill(0);
  let n = 0;
  let good = 0;
  let poor = 0;
  for (const row of r.results) {
    const i = Math.max(0, Math.min(count - 1, Number(row.bin)));
    bins[i] = (bins[i] ?? 0) + Number(row.n);
    n += Number(row.n);
    good += Number(row.good);
    poor += Number(row.poor);
  }
  return {
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    count: n,
    shares: n > 0 ? { good: good / n, ni: (n - good - poor) / n, poor: poor / n } : null,
    bins,
  };
}

export async function runDistribution(db: D1Database, spec: DistributionSpec): Promise<DistributionAnswer> {
  const m = METRIC_COLUMNS[spec.metric];
  const current = await period(db, spec, spec.from, spec.to);
  const previous = spec.compare ? await period(db, spec, spec.from - (spec.to - spec.from), spec.from) : null;
  return {
    metric: spec.metric,
    thresholds: { good: m.good, poor: m.poor },
    binWidth: BINS[spec.metric].width,
    current,
    previous,
  };
}
