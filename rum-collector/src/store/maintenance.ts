/**
 * The cron handler: independent, bounded steps. Each step runs whatever the others did (a failing
 * downsampling never stops retention), each is bounded per run and resumes where it stopped on the
 * next run (downsampling at its watermark, retention and archive deletion by what is left), and
 * each records its outcome in `rum_cron_state` (step, cursor = last result, last_error).
 */

import { deleteOldArchive } from "./archive.ts";
import { DOWNSAMPLE_GRACE_MS, downsample } from "./cron.ts";
import { applyImageRetention, downsampleImages } from "./image-log.ts";
import type { PvRow } from "./page-view-row.ts";
import { applyRetention } from "./retention.ts";
import { parseStoreConfig, type StoreConfig } from "./store-config.ts";
import { readWatermarks } from "./watermarks.ts";
import { storeMessages } from "./write-messages.ts";

/** Pending page views rolled up unverified per run at most (in pages of 200). */
const EXPIRE_PAGES = 10;
const EXPIRE_PAGE = 200;

/** Rolls up, unverified, the page views whose edge record did not come within the join window. */
export async function expirePending(db: D1Database, now: number, joinWindowMs: number): Promise<number> {
  let total = 0;
  for (let i = 0; i < EXPIRE_PAGES; i++) {
    const res = await db
      .prepare("SELECT * FROM rum_page_views WHERE pending IS NOT NULL AND ts < ?1 ORDER BY ts LIMIT ?2")
      .bind(now - joinWindowMs, EXPIRE_PAGE)
      .all<PvRow>();
    if (res.results.length === 0) break;
    const r = await storeMessages(db, [], { now, joinWindowMs, expire: res.results });
    total += r.resolved;
    if (res.results.length < EXPIRE_PAGE) break;
  }
  return total;
}

export interface StepOutcome {
  step: string;
  ok: boolean;
  result?: unknown;
  error?: string;
}

/** Runs every maintenance step once, each isolated from the others' failures. */
export async function runMaintenance(
  db: D1Database,
  archive: R2Bucket | null,
  cfg: StoreConfig,
  now: number,
): Promise<StepOutcome[]> {
  const steps: Array<[string, () => Promise<unknown>]> = [
    ["expire-pending", () => expirePending(db, now, cfg.joinWindowMs)],
    ["downsample", () => downsample(db, now)],
    [
      "retention",
      async () =>
        applyRetention(db, now, cfg.retention, cfg.rawWindowMs, await readWatermarks(db, "rum_rollup_state")),
    ],
    ["downsample-images", () => downsampleImages(db, now, DOWNSAMPLE_GRACE_MS)],
    ["image-retention", () => applyImageRetention(db, now, { ...cfg.retention, rawMs: cfg.rawWindowMs })],
    [
      "archive-retention",
      () => (archive ? deleteOldArchive(archive, now - cfg.retention.rawMs) : Promise.resolve(0)),
    ],
  ];
  const out: StepOutcome[] = [];
  for (const [step, run] of steps) {
    let outcome: StepOutcome;
    try {
      outcome = { step, ok: true, result: (await run()) ?? null };
    } catch (err) {
      outcome = { step, ok: false, error: String(err instanceof Error ? err.message : err).slice(0, 500) };
      console.error(`rum cron: step ${step} failed (the other steps still run): ${outcome.error}`);
    }
    out.push(outcome);
    await db
      .prepare(
        "INSERT INTO rum_cron_state (step, cursor, updated_ts, last_error) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (step) DO UPDATE SET cursor = excluded.cursor, updated_ts = excluded.updated_ts, last_error = excluded.last_error",
      )
      .bind(step, JSON.stringify(outcome.result ?? null), now, outcome.error ?? null)
      .run()
      .catch(() => {});
  }
  return out;
}

/** Cron handler (wire as `scheduled`): every maintenance step with the env's store config. */
export async function handleScheduled(
  controller: ScheduledController,
  env: Env,
  _ctx: ExecutionContext,
): Promise<void> {
  const cfg = parseStoreConfig(env as unknown as Record<string, unknown>);
  await runMaintenance(env.DB, env.RUM_ARCHIVE, cfg, controller.scheduledTime || Date.now());
}
