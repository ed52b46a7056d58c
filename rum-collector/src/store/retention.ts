/**
 * Retention: how long each kind of data is kept (`RUM_RETENTION`), and the bounded deletes the
 * cron runs. Raw page views and edge log rows stay in D1 for the raw window
 * (`RUM_RAW_WINDOW_HOURS`); the R2 archive for `raw`.
 */
import { DAY_MS, HOUR_MS } from "./metrics.ts";

export interface RetentionConfig {
  /** The R2 archive (raw page views and edge records as Parquet and NDJSON). */
  rawMs: number;
  minuteMs: number;
  hourMs: number;
  /** Day rollups and coverage counters. */
  dayMs: number;
}

export const DEFAULT_RETENTION: RetentionConfig = {
  rawMs: 30 * DAY_MS,
  minuteMs: 2 * DAY_MS,
  hourMs: 30 * DAY_MS,
  dayMs: 400 * DAY_MS,
};

const UNIT_MS: Record<string, number> = { m: 60_000, h: HOUR_MS, d: DAY_MS };

/**
 * Parses `RUM_RETENTION` like `raw=30d,minute=2d,hour=30d,day=400d` (units m/h/d; keys may be
 * left out). Defaults: raw 30 d, minute 2 d, hour 30 d, day 400 d. Minute rows must be kept
 * longer than the downsampling grace (≥ 1 h) and each level no longer than the next coarser one.
 */
export function parseRetention(raw: unknown): RetentionConfig {
  const key = "RUM_RETENTION";
  const cfg = { ...DEFAULT_RETENTION };
  if (raw === undefined || raw === null || raw === "") return cfg;
  const fail = (reason: string) =>
    new Error(`Invalid config ${key}: ${reason} (got ${JSON.stringify(String(raw))})`);
  if (typeof raw !== "string") throw fail("expected a string like raw=30d,minute=2d,hour=30d,day=400d");
  const names: Record<string, keyof RetentionConfig> = {
    raw: "rawMs",
    minute: "minuteMs",
    hour: "hourMs",
    day: "dayMs",
  };
  for (const part of raw.split(",")) {
    const entry = part.trim();
    if (entry === "") continue;
    const m = /^(raw|minute|hour|day)\s*=\s*(\d+)\s*([mhd])$/.exec(entry);
    if (!m) throw fail(`entry "${entry}" is not <raw|minute|hour|day>=<number><m|h|d>`);
    cfg[names[m[1] as string] as keyof RetentionConfig] = Number(m[2]) * (UNIT_MS[m[3] as string] as number);
  }
  if (cfg.minuteMs < HOUR_MS) throw fail("minute retention must be at least 1h");
  if (cfg.minuteMs > cfg.hourMs || cfg.hourMs > cfg.dayMs) throw fail("expected minute ≤ hour ≤ day");
  return cfg;
}

/** Rows deleted per statement, and statements per table per cron run. */
const DELETE_CHUNK = 5000;
const DELETE_ROUNDS = 10;

async function deleteBounded(db: D1Database, sql: string, ...binds: unknown[]): Promise<number> {
  let total = 0;
  for (let i = 0; i < DELETE_ROUNDS; i++) {
    const r = await db
      .prepare(sql)
      .bind(...binds, DELETE_CHUNK)
      .run();
    const n = r.meta.changes ?? 0;
    total += n;
    if (n < DELETE_CHUNK) break;
  }
  return total;
}

/**
 * Deletes D1 data older than the retention, in chunks (at most 50,000 rows per table and run;
 * the next run goes on). Raw page views and edge log rows after the raw window (pending page
 * views are kept until they are rolled up); minute/hour rows only once their bucket has been
 * downsampled, so a stalled downsampling never loses rollups.
 */
export async function applyRetention(
  db: D1Database,
  now: number,
  cfg: RetentionConfig,
  rawWindowMs: number,
  done: { hourDone: number | null; dayDone: number | null },
): Promise<void> {
  const minuteCut = Math.min(now - cfg.minuteMs, done.hourDone ?? Number.NEGATIVE_INFINITY);
  const hourCut = Math.min(now - cfg.hourMs, done.dayDone ?? Number.NEGATIVE_INFINITY);
  const raw = now - rawWindowMs;
  await deleteBounded(
    db,
    "DELETE FROM rum_page_views WHERE rowid IN (SELECT rowid FROM rum_page_views WHERE ts < ?1 AND pending IS NULL LIMIT ?2)",
    raw,
  );
  await deleteBounded(
    db,
    "DELETE FROM rum_edge_log WHERE rowid IN (SELECT rowid FROM rum_edge_log WHERE ts < ?1 LIMIT ?2)",
    raw,
  );
  const rollups = (g: string, cut: number) =>
    deleteBounded(
      db,
      `DELETE FROM rum_rollups WHERE (${KEYS}) IN (SELECT ${KEYS} FROM rum_rollups WHERE granularity = '${g}' AND ts < ?1 LIMIT ?2)`,
      cut,
    );
  await rollups("day", now - cfg.dayMs);
  if (Number.isFinite(minuteCut)) await rollups("minute", minuteCut);
  if (Number.isFinite(hourCut)) await rollups("hour", hourCut);
  await db
    .prepare("DELETE FROM rum_coverage WHERE ts < ?1")
    .bind(now - cfg.dayMs)
    .run();
}

const KEYS = "granularity, site, ts, page_group, device, country, connection, cache_status, colo";
