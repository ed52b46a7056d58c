/**
 * Downsampling watermarks: `<table>(granularity, done_until)` says up to where hour and day
 * rollups exist (`rum_rollup_state` for page views, `rum_image_rollup_state` for images).
 * One reader for the consumer, the cron jobs and the query planners.
 */

/** The two watermark tables (a fixed set: table names cannot be bound as SQL parameters). */
export type WatermarkTable = "rum_rollup_state" | "rum_image_rollup_state";

/** Where hour / day rollups are complete up to (exclusive), or null when nothing was downsampled yet. */
export interface DoneUntil {
  hourDone: number | null;
  dayDone: number | null;
}

/** The statement that reads every watermark row of `table` (for use inside a `db.batch`). */
export function watermarkStatement(db: D1Database, table: WatermarkTable): D1PreparedStatement {
  return db.prepare(`SELECT granularity, done_until FROM ${table}`);
}

/** Watermarks from the rows `watermarkStatement` returned. */
export function watermarksFrom(rows: readonly Record<string, unknown>[]): DoneUntil {
  let hourDone: number | null = null;
  let dayDone: number | null = null;
  for (const row of rows) {
    if (row.granularity === "hour") hourDone = Number(row.done_until);
    if (row.granularity === "day") dayDone = Number(row.done_until);
  }
  return { hourDone, dayDone };
}

/** Reads the watermarks of `table`. */
export async function readWatermarks(db: D1Database, table: WatermarkTable): Promise<DoneUntil> {
  const r = await watermarkStatement(db, table).all<Record<string, unknown>>();
  return watermarksFrom(r.results);
}
