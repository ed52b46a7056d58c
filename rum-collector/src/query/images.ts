/**
 * `GET /v1/images`: bytes saved by image variants, from the image rollups (additive counters
 * summed in SQL, one statement per planned segment). Counts and bytes weigh 1 / sample rate.
 */
import {
  GRANULARITY_MS,
  IMAGE_DIMENSIONS,
  type ImageDimensionName,
  type ImageQueryResult,
  type ImageQuerySpec,
  type ImageStats,
} from "../../../common/src/query-contract.ts";
import { readImageWatermarks } from "../store/image-log.ts";
import { autoInterval, describeResolution, planSegments } from "./plan.ts";

export { parseImageQuery } from "../../../common/src/query-params-contract.ts";
export type { ImageQueryResult, ImageQuerySpec, ImageStats };

interface Sums {
  samples: number;
  images: number;
  measured: number;
  original_bytes: number;
  delivered_bytes: number;
  fallbacks: number;
}

function zero(): Sums {
  return { samples: 0, images: 0, measured: 0, original_bytes: 0, delivered_bytes: 0, fallbacks: 0 };
}

function add(a: Sums, b: Sums): void {
  a.samples += b.samples;
  a.images += b.images;
  a.measured += b.measured;
  a.original_bytes += b.original_bytes;
  a.delivered_bytes += b.delivered_bytes;
  a.fallbacks += b.fallbacks;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

function imageStats(s: Sums): ImageStats {
  const original = Math.round(s.original_bytes);
  const delivered = Math.round(s.delivered_bytes);
  return {
    count: round3(s.images),
    samples: s.samples,
    measured: round3(s.measured),
    originalBytes: original,
    deliveredBytes: delivered,
    bytesSaved: original - delivered,
    savedRatio: original > 0 ? Math.round(((original - delivered) / original) * 10_000) / 10_000 : null,
    fallbacks: round3(s.fallbacks),
  };
}

/** Runs a validated `/v1/images` query. */
export async function runImageQuery(db: D1Database, spec: ImageQuerySpec): Promise<ImageQueryResult> {
  const interval = spec.interval === "auto" ? autoInterval(spec.from, spec.to) : spec.interval;
  const [state, kept] = await Promise.all([
    readImageWatermarks(db),
    db.batch<{ ts: number | null }>([
      db.prepare("SELECT MIN(ts) AS ts FROM rum_image_rollups WHERE granularity = 'minute'"),
      db.prepare("SELECT MIN(ts) AS ts FROM rum_image_rollups WHERE granularity = 'hour'"),
    ]),
  ]);
  const keptTs = (i: number) => {
    const v = kept[i]?.results[0]?.ts;
    return v === null || v === undefined ? null : Number(v);
  };
  const segments = planSegments({
    from: spec.from,
    to: spec.to,
    hourDone: state.hourDone,
    dayDone: state.dayDone,
    // No rows of a granularity at all: every downsampled bucket may have been deleted already.
    minuteKeptFrom: keptTs(0) ?? state.hourDone,
    hourKeptFrom: keptTs(1) ?? state.dayDone,
    coarsest: interval ?? "day",
  });
  const step = interval ? GRANULARITY_MS[interval] : 0;
  const groupCol = spec.groupBy ? IMAGE_DIMENSIONS[spec.groupBy] : null;
  const where = ["granularity = ?1", "ts >= ?2", "ts < ?3"];
  // ?4 is the series step; without a series a step longer than any ts puts every row in bucket 0.
  const binds: unknown[] = [step || Number.MAX_SAFE_INTEGER];
  for (const [dim, values] of Object.entries(spec.filters) as Array<[ImageDimensionName, string[]]>) {
    const ph = values.map((v) => `?${binds.push(v) + 3}`);
    where.push(`${IMAGE_DIMENSIONS[dim]} IN (${ph.join(", ")})`);
  }
  const sql = `SELECT ts - ts % ?4 AS b${groupCol ? `, ${groupCol} AS g` : ""}, SUM(samples) AS samples, SUM(images) AS images, SUM(measured) AS measured, SUM(original_bytes) AS original_bytes, SUM(delivered_bytes) AS delivered_bytes, SUM(fallbacks) AS fallbacks FROM rum_image_rollups WHERE ${where.join(" AND ")} GROUP BY b${groupCol ? ", g" : ""}`;
  const results = segments.length
    ? await db.batch<Sums & { b: number; g?: string }>(
        segments.map((s) => db.prepare(sql).bind(s.granularity, s.from, s.to, ...binds)),
      )
    : [];

  const groups = new Map<string, { all: Sums; series: Map<number, Sums> }>();
  const series = new Map<number, Sums>();
  const total = zero();
  for (const res of results) {
    for (const r of res.results) {
      const row: Sums = {
        samples: Number(r.samples),
        images: Number(r.images),
        measured: Number(r.measured),
        original_bytes: Number(r.original_bytes),
        delivered_bytes: Number(r.delivered_bytes),
        fallbacks: Number(r.fallbacks),
      };
      const b = Number(r.b);
      add(total, row);
      if (groupCol) {
        const key = String(r.g);
        let g = groups.get(key);
        if (!g) {
          g = { all: zero(), series: new Map() };
          groups.set(key, g);
        }
        add(g.all, row);
        if (step) {
          const s = g.series.get(b) ?? zero();
          add(s, row);
          g.series.set(b, s);
        }
      } else if (step) {
        const s = series.get(b) ?? zero();
        add(s, row);
        series.set(b, s);
      }
    }
  }
  const toSeries = (m: Map<number, Sums>) =>
    [...m.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([ts, s]) => ({ ts: new Date(ts).toISOString(), ...imageStats(s) }));
  const first = segments[0];
  const last = segments[segments.length - 1];
  const out: ImageQueryResult = {
    from: new Date(first ? first.from : spec.from).toISOString(),
    to: new Date(last ? last.to : spec.to).toISOString(),
    filters: spec.filters,
    groupBy: spec.groupBy,
    interval: interval ?? null,
    sources: segments.map((s) => ({
      granularity: s.granularity,
      from: new Date(s.from).toISOString(),
      to: new Date(s.to).toISOString(),
    })),
    resolution: describeResolution(spec.from, spec.to, segments),
    total: imageStats(total),
  };
  if (groupCol) {
    out.groups = [...groups.entries()]
      .map(([key, g]) => ({ key, ...imageStats(g.all), ...(step ? { series: toSeries(g.series) } : {}) }))
      .sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
  } else if (step) out.series = toSeries(series);
  return out;
}
