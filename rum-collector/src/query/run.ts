/**
 * Executes a validated query against the rollups: one parameterised SELECT per planned segment
 * (column names only from the fixed metric/dimension lists), sketches merged in the Worker.
 */
import { hexToBytes, QuantileSketch } from "../../../common/src/sketch.ts";
import { DIMENSIONS, type DimensionName, GRANULARITY_MS, type Granularity } from "../store/metrics.ts";
import type { QuerySpec } from "./params.ts";
import { autoInterval, planSegments, type Segment } from "./plan.ts";

export interface Stats {
  count: number;
  views: number;
  mean: number | null;
  min: number | null;
  max: number | null;
  /** Percentiles keyed "p50", "p99.9", … (null when there is no value). */
  percentiles: Record<string, number | null>;
}

export interface QueryResult {
  metric: string;
  unit: "ms" | "score";
  from: string;
  to: string;
  percentiles: number[];
  filters: QuerySpec["filters"];
  groupBy: DimensionName | null;
  interval: Granularity | null;
  /** Rollup granularities that answered (and the exact range each covered). */
  sources: Array<{ granularity: Granularity; from: string; to: string }>;
  total: Stats;
  groups?: Array<{ key: string } & Stats & { series?: Array<{ ts: string } & Stats> }>;
  series?: Array<{ ts: string } & Stats>;
}

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
export async function readPlanState(
  db: D1Database,
): Promise<{ hourDone: number | null; dayDone: number | null }> {
  const r = await db.prepare("SELECT granularity, done_until FROM rum_rollup_state").all<{
    granularity: string;
    done_until: number;
  }>();
  let hourDone: number | null = null;
  let dayDone: number | null = null;
  for (const row of r.results) {
    if (row.granularity === "hour") hourDone = Number(row.done_until);
    if (row.granularity === "day") dayDone = Number(row.done_until);
  }
  return { hourDone, dayDone };
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

export async function runQuery(db: D1Database, spec: QuerySpec): Promise<QueryResult> {
  const interval = spec.interval === "auto" ? autoInterval(spec.from, spec.to) : spec.interval;
  const [state, kept] = await Promise.all([readPlanState(db), keptFrom(db)]);
  const segments: Segment[] = planSegments({
    from: spec.from,
    to: spec.to,
    hourDone: state.hourDone,
    dayDone: state.dayDone,
    minuteKeptFrom: kept.minute,
    hourKeptFrom: kept.hour,
    coarsest: interval ?? "day",
  });

  const col = spec.metric.column;
  const groupCol = spec.groupBy ? DIMENSIONS[spec.groupBy] : null;
  const where: string[] = ["granularity = ?1", "ts >= ?2", "ts < ?3", `${col} IS NOT NULL`];
  const binds: unknown[] = [];
  for (const [dim, values] of Object.entries(spec.filters) as Array<[DimensionName, string[]]>) {
    const placeholders = values.map((v) => {
      binds.push(v);
      return `?${binds.length + 3}`;
    });
    where.push(`${DIMENSIONS[dim]} IN (${placeholders.join(", ")})`);
  }
  // hex() because D1 hands BLOBs to the Worker as JSON arrays of numbers, which costs ~4× more.
  const sql = `SELECT ts, views, hex(${col}) AS s${groupCol ? `, ${groupCol} AS g` : ""} FROM rum_rollups WHERE ${where.join(" AND ")}`;
  const stmts = segments.map((seg) => db.prepare(sql).bind(seg.granularity, seg.from, seg.to, ...binds));
  const results = stmts.length
    ? await db.batch<{ ts: number; views: number; s: string | null; g?: string }>(stmts)
    : [];

  // Each row is decoded and merged once, into its finest target (group × bucket); the coarser
  // accumulators (group total, series, overall total) are merged from those few sketches after.
  const groups = new Map<string, { all: Acc; series: Map<number, Acc> }>();
  const step = interval ? GRANULARITY_MS[interval] : 0;
  const cell = (key: string, bucket: number): Acc => {
    let g = groups.get(key);
    if (!g) {
      g = { all: acc(), series: new Map() };
      groups.set(key, g);
    }
    let a = g.series.get(bucket);
    if (!a) {
      a = acc();
      g.series.set(bucket, a);
    }
    return a;
  };
  for (const res of results) {
    for (const r of res.results) {
      if (!r.s) continue;
      const a = cell(groupCol ? String(r.g) : "", step ? Math.floor(Number(r.ts) / step) * step : 0);
      a.sketch.mergeBytes(hexToBytes(r.s));
      a.views += Number(r.views);
    }
  }
  const total = acc();
  const series = new Map<number, Acc>();
  const into = (target: Acc, from: Acc) => {
    target.sketch.merge(from.sketch);
    target.views += from.views;
  };
  for (const g of groups.values()) {
    for (const [bucket, a] of g.series) {
      into(g.all, a);
      if (step && !groupCol) {
        let t = series.get(bucket);
        if (!t) {
          t = acc();
          series.set(bucket, t);
        }
        into(t, a);
      }
    }
    into(total, g.all);
  }

  const digits = spec.metric.name === "cls" ? 6 : 3;
  const toSeries = (m: Map<number, Acc>) =>
    [...m.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([ts, a]) => ({ ts: new Date(ts).toISOString(), ...stats(a, spec.percentiles, digits) }));
  const first = segments[0];
  const last = segments[segments.length - 1];
  const out: QueryResult = {
    metric: spec.metric.name,
    unit: spec.metric.name === "cls" ? "score" : "ms",
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
    total: stats(total, spec.percentiles, digits),
  };
  if (groupCol) {
    out.groups = [...groups.entries()]
      .map(([key, g]) => ({
        key,
        ...stats(g.all, spec.percentiles, digits),
        ...(step ? { series: toSeries(g.series) } : {}),
      }))
      .sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
  } else if (step) out.series = toSeries(series);
  return out;
}
