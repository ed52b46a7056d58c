/**
 * Downsampling (minute → hour → day, by merging sketches), one bucket per transaction, in a
 * bounded number of buckets and time per run; the next run resumes at the watermark.
 * Watermarks in `rum_rollup_state` say up to where coarser rollups exist; the consumer adds late
 * page views to already-downsampled buckets directly, and both sides guard their writes, so no
 * page view is lost or counted twice whatever the interleaving.
 */
import { QuantileSketch } from "../../../common/src/sketch.ts";
import { DAY_MS, type Granularity, HOUR_MS, METRICS } from "./metrics.ts";
import {
  guardChanges,
  isGuardFailure,
  keyString,
  type RollupRow,
  RollupRow as Row,
  readRollupRange,
  writeRollupStatements,
} from "./rollup-rows.ts";

/** A bucket is downsampled this long after it ended (late beacons still land in minute rows). */
export const DOWNSAMPLE_GRACE_MS = 5 * 60_000;
/** Buckets downsampled per run at most (a backlog is caught up over the following runs). */
const MAX_HOURS_PER_RUN = 48;
const MAX_DAYS_PER_RUN = 7;
const MAX_ATTEMPTS = 3;
/** A run stops taking new buckets after this long; the next run resumes at the watermark. */
const RUN_BUDGET_MS = 20_000;

async function watermark(db: D1Database, g: "hour" | "day"): Promise<number | null> {
  const r = await db
    .prepare("SELECT done_until FROM rum_rollup_state WHERE granularity = ?1")
    .bind(g)
    .first<{ done_until: number }>();
  return r ? Number(r.done_until) : null;
}

/** Earliest bucket start of `g` rows at or after `from`, or null. */
async function nextRowTs(db: D1Database, g: Granularity, from: number): Promise<number | null> {
  const r = await db
    .prepare("SELECT MIN(ts) AS ts FROM rum_rollups WHERE granularity = ?1 AND ts >= ?2")
    .bind(g, from)
    .first<{ ts: number | null }>();
  return r?.ts === null || r?.ts === undefined ? null : Number(r.ts);
}

/** Merges `rows` into one row per dimension combination at `target` granularity/bucket. */
export function mergeRows(rows: readonly RollupRow[], target: Granularity, ts: number): RollupRow[] {
  const out = new Map<string, Row>();
  const sketches = new Map<string, Map<string, QuantileSketch>>();
  for (const r of rows) {
    const key = { ...r.key, granularity: target, ts };
    const k = keyString(key);
    let row = out.get(k);
    let cols = sketches.get(k);
    if (!row || !cols) {
      row = new Row(key);
      cols = new Map();
      out.set(k, row);
      sketches.set(k, cols);
    }
    row.addViews(r.views);
    for (const m of METRICS) {
      if (!r.has(m.column)) continue;
      const s = cols.get(m.column);
      if (s) s.merge(r.peek(m.column));
      else cols.set(m.column, new QuantileSketch().merge(r.peek(m.column)));
    }
  }
  for (const [k, row] of out) for (const [c, s] of sketches.get(k) ?? []) row.put(c, s);
  return [...out.values()];
}

/**
 * Rolls the bucket [from, from + size) of `source` rows up into one `target` bucket and moves
 * the watermark, in one transaction guarded against concurrent consumer writes.
 */
async function rollUpBucket(
  db: D1Database,
  source: Granularity,
  target: "hour" | "day",
  from: number,
  size: number,
  prevWatermark: number | null,
): Promise<void> {
  for (let n = 1; ; n++) {
    const rows = await readRollupRange(db, source, from, from + size);
    const fingerprint = `${rows.length}:${rows.reduce((s, r) => s + (r.version ?? 0), 0)}`;
    const merged = mergeRows(rows, target, from);
    const stmts: D1PreparedStatement[] = [
      // The source rows must be exactly those we merged (no consumer write in between).
      db
        .prepare(
          "INSERT INTO rum_write_guard (ok) VALUES ((SELECT COUNT(*) || ':' || COALESCE(SUM(version), 0) FROM rum_rollups WHERE granularity = ?1 AND ts >= ?2 AND ts < ?3) = ?4) ON CONFLICT DO NOTHING",
        )
        .bind(source, from, from + size, fingerprint),
      db.prepare("DELETE FROM rum_rollups WHERE granularity = ?1 AND ts = ?2").bind(target, from),
      ...writeRollupStatements(db, merged),
    ];
    if (prevWatermark === null) {
      stmts.push(
        db
          .prepare(
            "INSERT INTO rum_rollup_state (granularity, done_until) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
          )
          .bind(target, from + size),
      );
    } else {
      stmts.push(
        db
          .prepare("UPDATE rum_rollup_state SET done_until = ?2 WHERE granularity = ?1 AND done_until = ?3")
          .bind(target, from + size, prevWatermark),
      );
    }
    stmts.push(guardChanges(db, 1));
    try {
      await db.batch(stmts);
      return;
    } catch (err) {
      if (!isGuardFailure(err) || n >= MAX_ATTEMPTS) throw err;
    }
  }
}

async function setWatermark(
  db: D1Database,
  g: "hour" | "day",
  value: number,
  prev: number | null,
): Promise<void> {
  if (prev === null) {
    await db
      .prepare(
        "INSERT INTO rum_rollup_state (granularity, done_until) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
      )
      .bind(g, value)
      .run();
  } else {
    await db
      .prepare("UPDATE rum_rollup_state SET done_until = ?2 WHERE granularity = ?1 AND done_until = ?3")
      .bind(g, value, prev)
      .run();
  }
}

async function downsampleLevel(
  db: D1Database,
  source: Granularity,
  target: "hour" | "day",
  size: number,
  readyUntil: number,
  maxBuckets: number,
): Promise<number> {
  let done = await watermark(db, target);
  let next = done ?? (await nextRowTs(db, source, 0));
  if (next === null) return 0;
  next = Math.floor(next / size) * size;
  let count = 0;
  const t0 = Date.now();
  while (next + size <= readyUntil && count < maxBuckets && Date.now() - t0 < RUN_BUDGET_MS) {
    const first = await nextRowTs(db, source, next);
    if (first === null || first >= next + size) {
      // Skip empty buckets in one step (up to the next row or what is ready).
      const skipTo = Math.min(first === null ? readyUntil : Math.floor(first / size) * size, readyUntil);
      const aligned = Math.floor(skipTo / size) * size;
      if (aligned <= next) break;
      await setWatermark(db, target, aligned, done);
      done = aligned;
      next = aligned;
      continue;
    }
    await rollUpBucket(db, source, target, next, size, done);
    done = next + size;
    next = done;
    count++;
  }
  return count;
}

export interface DownsampleResult {
  hours: number;
  days: number;
}

/** Downsamples every complete bucket (ended ≥ 5 min before `now`): minute → hour, then hour → day. */
export async function downsample(db: D1Database, now: number): Promise<DownsampleResult> {
  const hours = await downsampleLevel(
    db,
    "minute",
    "hour",
    HOUR_MS,
    now - DOWNSAMPLE_GRACE_MS,
    MAX_HOURS_PER_RUN,
  );
  // A day is ready once every hour of it has been downsampled.
  const hourDone = (await watermark(db, "hour")) ?? Number.NEGATIVE_INFINITY;
  const days = await downsampleLevel(
    db,
    "hour",
    "day",
    DAY_MS,
    Math.min(now - DOWNSAMPLE_GRACE_MS, hourDone),
    MAX_DAYS_PER_RUN,
  );
  return { hours, days };
}
