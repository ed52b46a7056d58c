/**
 * The rollup rows one batch touches: each page view adds its metric values to the rows of its
 * minute (and of its hour/day when those are already downsampled), both to the row keyed by all
 * of its dimensions and to its page-group totals row (device, country, connection, cache status,
 * colo all `*`), which answers by-page-group queries from one row per group and bucket.
 */
import { bucketStart, type Granularity } from "./metrics.ts";
import { type PvRow, rollupDims, rowMetrics } from "./page-view-row.ts";
import {
  keyString,
  type RollupKey,
  type RollupRow,
  readRollupRows,
  writeRollupStatements,
} from "./rollup-rows.ts";
import type { DoneUntil } from "./watermarks.ts";

/** Value of every non-page-group dimension in a page-group totals row. */
export const ALL = "*";

type Dims = Omit<RollupKey, "granularity" | "ts">;

/** The totals dims of `d`: same site and page group, every other dimension `*`. */
export function totalsDims(d: Dims): Dims {
  return { ...d, device: ALL, country: ALL, connection: ALL, cacheStatus: ALL, colo: ALL };
}

type Edit = (r: RollupRow) => void;

export class RollupSet {
  private readonly edits: Array<{ key: RollupKey; edit: Edit }> = [];
  private rows = new Map<string, RollupRow>();
  private readonly watermarks: DoneUntil;
  constructor(watermarks: DoneUntil) {
    this.watermarks = watermarks;
  }

  private levels(ts: number): Granularity[] {
    const out: Granularity[] = ["minute"];
    // Buckets already downsampled get the page view directly, so late data is never lost.
    const { hourDone, dayDone } = this.watermarks;
    if (hourDone !== null && bucketStart(ts, "hour") < hourDone) out.push("hour");
    if (dayDone !== null && bucketStart(ts, "day") < dayDone) out.push("day");
    return out;
  }

  private each(row: PvRow, edit: Edit): void {
    const ts = Number(row.ts);
    const dims = rollupDims(row);
    for (const g of this.levels(ts))
      for (const d of [dims, totalsDims(dims)])
        this.edits.push({ key: { granularity: g, ts: bucketStart(ts, g), ...d }, edit });
  }

  /** Adds a page view (one view, its metric values). */
  add(row: PvRow): void {
    const values = rowMetrics(row);
    this.each(row, (r) => {
      r.addViews(1);
      for (const [c, v] of values) r.edit(c).add(v);
    });
  }

  /** Replaces a rolled-up page view's values with `next`'s (same rollup key). */
  replace(old: PvRow, next: PvRow): void {
    const before = rowMetrics(old);
    const after = rowMetrics(next);
    this.each(old, (r) => {
      // A row gone by retention is not recreated: it would count the page view a second time.
      if (r.version === null) return;
      for (const c of new Set([...before.keys(), ...after.keys()])) {
        const a = before.get(c);
        const b = after.get(c);
        if (a === b) continue;
        if (a !== undefined) {
          if (!r.has(c) || !r.edit(c).remove(a)) continue;
        }
        if (b !== undefined) r.edit(c).add(b);
      }
    });
  }

  /** Reads every touched row from D1, then applies the edits in order. */
  async read(db: D1Database): Promise<void> {
    this.rows = await readRollupRows(
      db,
      this.edits.map((e) => e.key),
    );
    for (const e of this.edits) e.edit(this.rows.get(keyString(e.key)) as RollupRow);
  }

  /** Guard: downsampling must not have moved on since the watermarks were read. */
  watermarkGuard(db: D1Database): D1PreparedStatement {
    return db
      .prepare(
        "INSERT INTO rum_write_guard (ok) VALUES (COALESCE((SELECT done_until FROM rum_rollup_state WHERE granularity = 'hour'), -1) = ?1 AND COALESCE((SELECT done_until FROM rum_rollup_state WHERE granularity = 'day'), -1) = ?2) ON CONFLICT DO NOTHING",
      )
      .bind(this.watermarks.hourDone ?? -1, this.watermarks.dayDone ?? -1);
  }

  /** Write statements of every changed row (guarded). */
  statements(db: D1Database): D1PreparedStatement[] {
    return writeRollupStatements(db, this.rows.values());
  }
}
