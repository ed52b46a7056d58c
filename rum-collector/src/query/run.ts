/**
 * Executes a validated query against the rollups: one parameterised SELECT per planned segment
 * (column names only from the fixed metric/dimension lists) that reads every requested metric's
 * sketch at once; sketches merged in the Worker.
 */

import type {
  MetricResult,
  MultiQueryResult,
  QueryFrame,
  QueryResult,
  QuerySpec,
  Stats,
} from "../../../common/src/query-contract.ts";
import { hexToBytes, QuantileSketch } from "../../../common/src/sketch.ts";
import { DIMENSIONS, type DimensionName, GRANULARITY_MS } from "../store/metrics.ts";
import { ALL } from "../store/rollup-set.ts";
import { type DoneUntil, readWatermarks } from "../store/watermarks.ts";

export type { MetricResult, MultiQueryResult, QueryFrame, QueryResult, Stats };

import { autoInterval, describeResolution, planSegments, type Segment } from "./plan.ts";

interface Acc {
  sketch: QuantileSketch;
  views: number;
}

function acc(): Acc {
  return { sketch: new QuantileSketch(), views: 0 };
}

/** Rounds for JSON: 3 decimals for ms, 6 for CLS scores (well inside the sketch's 1 %). */
function rounder(digits: number): (x: number) => number {
  const f = 10 ** digits;
  return (x) => Math.round(x * f) / f;
}

function stats(a: Acc, percentiles: number[], digits: number): Stats {
  const round = rounder(digits);
  const s = a.sketch;
  const has = s.count > 0;
  const ps: Record<string, number | null> = {};
  for (const p of percentiles) ps[`p${p}`] = has ? round(s.quantile(p / 100)) : null;
  return {
    count: s.count,
    views: a.views,
    mean: has ? round(s.sum / s.count) : null,
    min: has ? round(s.min) : null,
    max: has ? round(s.max) : null,
    percentiles: ps,
  };
}

/** Watermarks and retention horizon the planner needs. */
export function readPlanState(db: D1Database): Promise<DoneUntil> {
  return readWatermarks(db, "rum_rollup_state");
}

/** Dimensions a page-group totals row keeps (every other one is '*'). */
const TOTALS_DIMENSIONS: ReadonlySet<string> = new Set(["site", "pageGroup"]);

/** Since when page-group totals rows exist (migrations/0005_rum_store.sql); never when unknown. */
async function readTotalsSince(db: D1Database): Promise<number> {
  const r = await db
    .prepare("SELECT cursor FROM rum_cron_state WHERE step = 'totals_since'")
    .first<{ cursor: string | null }>();
  const n = Number(r?.cursor);
  return r && Number.isFinite(n) ? n : Number.POSITIVE_INFINITY;
}

/** Oldest bucket still present per granularity (so the planner never relies on deleted rows). */
async function keptFrom(db: D1Database): Promise<{ minute: number | null; hour: number | null }> {
  const [m, h] = await db.batch<{ ts: number | null }>([
    db.prepare("SELECT MIN(ts) AS ts FROM rum_rollups WHERE granularity = 'minute'"),
    db.prepare("SELECT MIN(ts) AS ts FROM rum_rollups WHERE granularity = 'hour'"),
  ]);
  const v = (x: { ts: number | null } | undefined) =>
    x?.ts === null || x?.ts === undefined ? null : Number(x.ts);
  return { minute: v(m?.results[0]), hour: v(h?.results[0]) };
}

/**
 * Runs a validated query. One metric → `QueryResult` (the original shape); several → a
 * `MultiQueryResult`. Either way the rollup rows are read once, with every requested sketch column.
 */
export async function runQuery(db: D1Database, spec: QuerySpec): Promise<QueryResult | MultiQueryResult> {
  const interval = spec.interval === "auto" ? autoInterval(spec.from, spec.to) : spec.interval;
  const [state, kept, totalsSince] = await Promise.all([
    readPlanState(db),
    keptFrom(db),
    readTotalsSince(db),
  ]);
  const segments: Segment[] = planSegments({
    from: spec.from,
    to: spec.to,
    hourDone: state.hourDone,
    dayDone: state.dayDone,
    // No rows of a granularity at all: every downsampled bucket may have been deleted already.
    minuteKeptFrom: kept.minute ?? state.hourDone,
    hourKeptFrom: kept.hour ?? state.dayDone,
    coarsest: interval ?? "day",
  });

  const metrics = spec.metrics.length > 0 ? spec.metrics : [spec.metric];
  const cols = metrics.map((m) => m.column);
  const groupCol = spec.groupBy ? DIMENSIONS[spec.groupBy] : null;
  const where: string[] = [
    "granularity = ?1",
    "ts >= ?2",
    "ts < ?3",
    `(${cols.map((c) => `${c} IS NOT NULL`).join(" OR ")})`,
  ];
  const binds: unknown[] = [];
  for (const [dim, values] of Object.entries(spec.filters) as Array<[DimensionName, string[]]>) {
    // One JSON parameter per filter: any number of values stays far below D1's 100 bound parameters.
    binds.push(JSON.stringify(values));
    where.push(`${DIMENSIONS[dim]} IN (SELECT value FROM json_each(?${binds.length + 3}))`);
  }
  // Page-group totals rows (every other dimension '*') answer queries that only filter and group
  // by site and page group: one row per group and bucket instead of one per dimension combination.
  const totalsFit =
    Object.keys(spec.filters).every((d) => TOTALS_DIMENSIONS.has(d)) &&
    (spec.groupBy === null || TOTALS_DIMENSIONS.has(spec.groupBy));
  // hex() because D1 hands BLOBs to the Worker as JSON arrays of numbers, which costs ~4× more.
  const select = `SELECT ts, views, ${cols.map((c, i) => `hex(${c}) AS s${i}`).join(", ")}${groupCol ? `, ${groupCol} AS g` : ""} FROM rum_rollups WHERE ${where.join(" AND ")}`;
  const stmts = segments.map((seg) => {
    const totals = totalsFit && seg.from >= totalsSince;
    return db
      .prepare(`${select} AND ${totals ? `device = '${ALL}'` : `device <> '${ALL}'`}`)
      .bind(seg.granularity, seg.from, seg.to, ...binds);
  });
  const results = stmts.length ? await db.batch<Record<string, unknown>>(stmts) : [];

  // Per metric, each row is decoded and merged once, into its finest target (group × bucket);
  // the coarser accumulators (group total, series, overall total) are merged from those after.
  const step = interval ? GRANULARITY_MS[interval] : 0;
  const perMetric = metrics.map(() => new Map<string, Map<number, Acc>>());
  for (const res of results) {
    for (const r of res.results) {
      const key = groupCol ? String(r.g) : "";
      const bucket = step ? Math.floor(Number(r.ts) / step) * step : 0;
      for (let i = 0; i < metrics.length; i++) {
        const hex = r[`s${i}`];
        if (typeof hex !== "string" || hex === "") continue;
        const groups = perMetric[i] as Map<string, Map<number, Acc>>;
        let g = groups.get(key);
        if (!g) {
          g = new Map();
          groups.set(key, g);
        }
        let a = g.get(bucket);
        if (!a) {
          a = acc();
          g.set(bucket, a);
        }
        a.sketch.mergeBytes(hexToBytes(hex));
        a.views += Number(r.views);
      }
    }
  }

  const into = (target: Acc, from: Acc) => {
    target.sketch.merge(from.sketch);
    target.views += from.views;
  };
  const metricResult = (metric: QuerySpec["metric"], groups: Map<string, Map<number, Acc>>): MetricResult => {
    const digits = metric.name === "cls" ? 6 : 3;
    const toSeries = (m: Map<number, Acc>) =>
      [...m.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([ts, a]) => ({ ts: new Date(ts).toISOString(), ...stats(a, spec.percentiles, digits) }));
    const total = acc();
    const series = new Map<number, Acc>();
    const groupTotals = new Map<string, Acc>();
    for (const [key, buckets] of groups) {
      const all = acc();
      for (const [bucket, a] of buckets) {
        into(all, a);
        if (step && !groupCol) {
          let t = series.get(bucket);
          if (!t) {
            t = acc();
            series.set(bucket, t);
          }
          into(t, a);
        }
      }
      groupTotals.set(key, all);
      into(total, all);
    }
    const out: MetricResult = {
      metric: metric.name,
      unit: metric.name === "cls" ? "score" : "ms",
      total: stats(total, spec.percentiles, digits),
    };
    if (groupCol) {
      out.groups = [...groupTotals.entries()]
        .map(([key, all]) => ({
          key,
          ...stats(all, spec.percentiles, digits),
          ...(step ? { series: toSeries(groups.get(key) ?? new Map()) } : {}),
        }))
        .sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
    } else if (step) out.series = toSeries(series);
    return out;
  };

  const first = segments[0];
  const last = segments[segments.length - 1];
  const common = {
    from: new Date(first ? first.from : spec.from).toISOString(),
    to: new Date(last ? last.to : spec.to).toISOString(),
    percentiles: spec.percentiles,
    filters: spec.filters,
    groupBy: spec.groupBy,
    interval: interval ?? null,
    sources: segments.map((s) => ({
      granularity: s.granularity,
      from: new Date(s.from).toISOString(),
      to: new Date(s.to).toISOString(),
    })),
  };
  const resolution = describeResolution(spec.from, spec.to, segments);
  if (metrics.length === 1) {
    const m = metricResult(metrics[0] as QuerySpec["metric"], perMetric[0] as Map<string, Map<number, Acc>>);
    // Key order as before (metric, unit, from, …, total, groups|series); `resolution` is new.
    const { metric, unit, total, ...rest } = m;
    return { metric, unit, ...common, resolution, total, ...rest };
  }
  const out: MultiQueryResult = {
    metrics: metrics.map((m) => m.name),
    ...common,
    resolution,
    results: {},
  };
  metrics.forEach((m, i) => {
    out.results[m.name] = metricResult(m, perMetric[i] as Map<string, Map<number, Acc>>);
  });
  return out;
}
