/**
 * Image log storage: `ImageLogMessage`s (one per image response the edge served) go to
 * `rum_image_log` once per rid; the trigger of migrations/0003_rum_images.sql adds each stored
 * record to `rum_image_rollups` in the same transaction. Downsampling and retention of those
 * counters are plain SQL sums (they are additive, unlike the sketches of `rum_rollups`).
 */
import type { ImageLogMessage } from "../../../common/src/rum-types.ts";
import { DAY_MS, HOUR_MS } from "./metrics.ts";
import { guardChanges, isGuardFailure } from "./rollup-rows.ts";
import { type DoneUntil, readWatermarks } from "./watermarks.ts";

const MAX_TEXT = 64;

function text(x: unknown, fallback: string): string {
  return typeof x === "string" && x !== "" ? x.slice(0, MAX_TEXT) : fallback;
}

function bytes(x: unknown): number | null {
  return typeof x === "number" && Number.isFinite(x) && x >= 0 ? Math.round(x) : null;
}

export { isImageLogMessage } from "../../../common/src/queue-contract.ts";

/** The `rum_image_log` row of a message (bad byte counts become NULL = unknown; sample rate default 1). */
export function imageRow(m: ImageLogMessage): Record<string, unknown> {
  const rate = typeof m.sampleRate === "number" && m.sampleRate > 0 && m.sampleRate <= 1 ? m.sampleRate : 1;
  return {
    rid: m.rid,
    ts: Math.floor(m.ts),
    site: m.site,
    format: text(m.format, "unknown"),
    device: text(m.device, "other"),
    width: typeof m.width === "number" && Number.isFinite(m.width) ? Math.round(m.width) : null,
    cache_status: text(m.cacheStatus, "NONE"),
    original_bytes: bytes(m.originalBytes),
    delivered_bytes: bytes(m.deliveredBytes),
    fallback: m.fallback ? 1 : 0,
    sample_rate: rate,
  };
}

const IMAGE_COLUMNS = Object.keys(
  imageRow({
    kind: "image",
    ts: 0,
    rid: "",
    site: "",
    format: "",
    device: "",
    width: null,
    cacheStatus: "NONE",
    originalBytes: null,
    deliveredBytes: null,
    fallback: false,
  }),
);

/** Bulk insert of rows given as one JSON array parameter; duplicates of a rid change nothing. */
export const INSERT_IMAGE_SQL = `INSERT INTO rum_image_log (${IMAGE_COLUMNS.join(", ")}) SELECT ${IMAGE_COLUMNS.map(
  (c) => `value->>'${c}'`,
).join(", ")} FROM json_each(?1) WHERE true ON CONFLICT (rid) DO NOTHING`;

/** Counter columns of `rum_image_rollups` (summed by downsampling and queries). */
export const IMAGE_COUNTERS = [
  "samples",
  "images",
  "measured",
  "original_bytes",
  "delivered_bytes",
  "fallbacks",
] as const;

/** Image rollup dimensions: API name → column. */
export {
  IMAGE_DIMENSION_NAMES,
  IMAGE_DIMENSIONS,
  type ImageDimensionName,
} from "../../../common/src/query-contract.ts";

/** Image downsampling watermarks (null = nothing downsampled yet). */
export function readImageWatermarks(db: D1Database): Promise<DoneUntil> {
  return readWatermarks(db, "rum_image_rollup_state");
}

/** Buckets downsampled per run at most (a backlog is caught up over the following runs). */
const MAX_SPAN: Record<"hour" | "day", number> = { hour: 48 * HOUR_MS, day: 7 * DAY_MS };
const MAX_ATTEMPTS = 3;

async function downsampleImageLevel(
  db: D1Database,
  source: "minute" | "hour",
  target: "hour" | "day",
  size: number,
  readyUntil: number,
): Promise<number> {
  for (let n = 1; ; n++) {
    const state = await readImageWatermarks(db);
    const done = target === "hour" ? state.hourDone : state.dayDone;
    const next = await db
      .prepare("SELECT MIN(ts) AS ts FROM rum_image_rollups WHERE granularity = ?1 AND ts >= ?2")
      .bind(source, done ?? Number.MIN_SAFE_INTEGER)
      .first<{ ts: number | null }>();
    const ready = Math.floor(readyUntil / size) * size;
    const nextBucket =
      next?.ts === null || next?.ts === undefined ? null : Math.floor(Number(next.ts) / size) * size;
    if (done === null && nextBucket === null) return 0;
    // Empty stretches are skipped in one step: start at the bucket of the next source row.
    const from =
      done === null ? (nextBucket as number) : Math.max(done, Math.min(nextBucket ?? ready, ready));
    const end = Math.min(ready, from + MAX_SPAN[target]);
    if (end <= (done ?? from)) return 0;
    const counters = IMAGE_COUNTERS.join(", ");
    const stmts: D1PreparedStatement[] = [
      db
        .prepare("DELETE FROM rum_image_rollups WHERE granularity = ?1 AND ts >= ?2 AND ts < ?3")
        .bind(target, from, end),
      db
        .prepare(
          `INSERT INTO rum_image_rollups (granularity, ts, site, format, device, cache_status, ${counters}) SELECT ?1, ts - ts % ?5, site, format, device, cache_status, ${IMAGE_COUNTERS.map((c) => `SUM(${c})`).join(", ")} FROM rum_image_rollups WHERE granularity = ?2 AND ts >= ?3 AND ts < ?4 GROUP BY ts - ts % ?5, site, format, device, cache_status`,
        )
        .bind(target, source, from, end, size),
    ];
    // The watermark must not have moved since we read it (a concurrent cron run).
    if (done === null) {
      stmts.push(
        db
          .prepare(
            "INSERT INTO rum_image_rollup_state (granularity, done_until) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
          )
          .bind(target, end),
      );
    } else {
      stmts.push(
        db
          .prepare(
            "UPDATE rum_image_rollup_state SET done_until = ?2 WHERE granularity = ?1 AND done_until = ?3",
          )
          .bind(target, end, done),
      );
    }
    stmts.push(guardChanges(db, 1));
    try {
      await db.batch(stmts);
      return Math.round((end - from) / size);
    } catch (err) {
      if (!isGuardFailure(err) || n >= MAX_ATTEMPTS) throw err;
    }
  }
}

/**
 * Downsamples image counters of every complete bucket (ended ≥ `graceMs` before `now`): minute →
 * hour (at most 48 hours per run), then hour → day (at most 7 days). One transaction per level:
 * a record inserted meanwhile lands in the minute row before or in the hour row after (trigger),
 * never in both, because SQLite runs the two writes one after the other.
 */
export async function downsampleImages(
  db: D1Database,
  now: number,
  graceMs: number,
): Promise<{ hours: number; days: number }> {
  const hours = await downsampleImageLevel(db, "minute", "hour", HOUR_MS, now - graceMs);
  const { hourDone } = await readImageWatermarks(db);
  const days =
    hourDone === null
      ? 0
      : await downsampleImageLevel(db, "hour", "day", DAY_MS, Math.min(now - graceMs, hourDone));
  return { hours, days };
}

/** Retention of the image log and rollups (minute/hour rows only once downsampled). */
export async function applyImageRetention(
  db: D1Database,
  now: number,
  cfg: { rawMs: number; minuteMs: number; hourMs: number; dayMs: number },
): Promise<void> {
  const { hourDone, dayDone } = await readImageWatermarks(db);
  const stmts = [
    db.prepare("DELETE FROM rum_image_log WHERE ts < ?1").bind(now - cfg.rawMs),
    db.prepare("DELETE FROM rum_image_rollups WHERE granularity = 'day' AND ts < ?1").bind(now - cfg.dayMs),
  ];
  if (hourDone !== null)
    stmts.push(
      db
        .prepare("DELETE FROM rum_image_rollups WHERE granularity = 'minute' AND ts < ?1")
        .bind(Math.min(now - cfg.minuteMs, hourDone)),
    );
  if (dayDone !== null)
    stmts.push(
      db
        .prepare("DELETE FROM rum_image_rollups WHERE granularity = 'hour' AND ts < ?1")
        .bind(Math.min(now - cfg.hourMs, dayDone)),
    );
  await db.batch(stmts);
}
