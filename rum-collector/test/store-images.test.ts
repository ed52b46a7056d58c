import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  env,
  getQueueResult,
} from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import type { RumQueueMessage } from "../../common/src/rum-types.ts";
import { handleQueue } from "../src/store/consumer.ts";
import { handleScheduled } from "../src/store/maintenance.ts";
import { DAY_MS, HOUR_MS } from "../src/store/metrics.ts";
import { storeMessages } from "../src/store/write-messages.ts";
import { imageLog, pageView, resetRumTables } from "./store-fixtures.ts";

const DAY0 = Date.UTC(2026, 10, 20);
let batchNo = 0;

async function runBatch(bodies: unknown[]) {
  batchNo++;
  const batch = createMessageBatch<RumQueueMessage>(
    "rum-events",
    bodies.map((body, i) => ({
      id: `img${batchNo}-m${i}`,
      timestamp: DAY0,
      attempts: 1,
      body: body as RumQueueMessage,
    })),
  );
  const ctx = createExecutionContext();
  await handleQueue(batch, env, ctx);
  return getQueueResult(batch, ctx);
}

interface Row {
  granularity: string;
  ts: number;
  format: string;
  device: string;
  cache_status: string;
  samples: number;
  images: number;
  measured: number;
  original_bytes: number;
  delivered_bytes: number;
  fallbacks: number;
}

async function rollups(granularity: string): Promise<Row[]> {
  const r = await env.DB.prepare(
    "SELECT * FROM rum_image_rollups WHERE granularity = ? ORDER BY ts, format, device, cache_status",
  )
    .bind(granularity)
    .all<Row>();
  return r.results;
}

async function cron(now: number, retention?: string) {
  const e = retention === undefined ? env : ({ ...env, RUM_RETENTION: retention } as Env);
  await handleScheduled(
    createScheduledController({ scheduledTime: now, cron: "*/5 * * * *" }),
    e,
    createExecutionContext(),
  );
}

function sum(rows: Row[], k: keyof Row): number {
  return rows.reduce((s, r) => s + Number(r[k]), 0);
}

beforeEach(resetRumTables);

describe("image log in the queue consumer", () => {
  it("stores each rid once and rolls it up once, across batches and within one", async () => {
    const a = imageLog("img-a", DAY0 + 1000);
    const b = imageLog("img-b", DAY0 + 2000, {
      format: "avif",
      originalBytes: 200_000,
      deliveredBytes: 40_000,
    });
    const r1 = await runBatch([a, b, a]);
    expect(r1.explicitAcks).toHaveLength(3);
    expect(r1.retryMessages).toEqual([]);
    await runBatch([a, b]); // a redelivered batch
    const n = await env.DB.prepare("SELECT COUNT(*) AS n FROM rum_image_log").first<{ n: number }>();
    expect(n?.n).toBe(2);
    const rows = await rollups("minute");
    expect(rows.map((r) => [r.format, r.samples, r.original_bytes, r.delivered_bytes])).toEqual([
      ["avif", 1, 200_000, 40_000],
      ["webp", 1, 100_000, 30_000],
    ]);
  });

  it("keeps image messages apart from page views in a mixed batch", async () => {
    const res = await storeMessages(env.DB, [
      pageView({ pvid: "mix00001", ts: DAY0 + 5000 }),
      imageLog("img-mix", DAY0 + 5000, { device: "desktop", cacheStatus: "MISS" }),
    ]);
    expect(res).toMatchObject({ inserted: 1, images: 1 });
    const row = await env.DB.prepare("SELECT * FROM rum_image_log WHERE rid = 'img-mix'").first<
      Record<string, unknown>
    >();
    expect(row).toMatchObject({
      device: "desktop",
      cache_status: "MISS",
      fallback: 0,
      sample_rate: 1,
      width: 480,
    });
    const views = await env.DB.prepare("SELECT COUNT(*) AS n FROM rum_page_views").first<{ n: number }>();
    expect(views?.n).toBe(1);
  });

  it("weighs sampled records, counts fallbacks, and leaves unknown byte counts out of the sums", async () => {
    await runBatch([
      imageLog("s1", DAY0, { sampleRate: 0.25 }),
      imageLog("s2", DAY0, {
        format: "original",
        fallback: true,
        width: null,
        originalBytes: 50_000,
        deliveredBytes: 50_000,
      }),
      imageLog("s3", DAY0, { originalBytes: null, deliveredBytes: 20_000 }),
    ]);
    const rows = await rollups("minute");
    const webp = rows.find((r) => r.format === "webp") as Row;
    expect(webp).toMatchObject({
      samples: 2,
      images: 5,
      measured: 4,
      original_bytes: 400_000,
      delivered_bytes: 120_000,
      fallbacks: 0,
    });
    const orig = rows.find((r) => r.format === "original") as Row;
    expect(orig).toMatchObject({
      samples: 1,
      images: 1,
      fallbacks: 1,
      original_bytes: 50_000,
      delivered_bytes: 50_000,
    });
  });

  it("drops malformed image messages without retrying the batch", async () => {
    const good = imageLog("ok-1", DAY0);
    const res = await runBatch([
      { ...good, rid: "" },
      { ...good, rid: "bad-2", fallback: "no" },
      { ...good, rid: "bad-3", originalBytes: "100" },
      { ...good, rid: "bad-4", sampleRate: 0 },
      good,
    ]);
    expect(res.explicitAcks).toHaveLength(5);
    const n = await env.DB.prepare("SELECT COUNT(*) AS n FROM rum_image_log").first<{ n: number }>();
    expect(n?.n).toBe(1);
  });
});

describe("image rollups under cron", () => {
  it("downsamples minute → hour → day with equal sums, adds late records to downsampled buckets, and applies retention", async () => {
    const msgs = [];
    // 3 hours, one image every 10 minutes, alternating formats and devices.
    for (let i = 0; i < 18; i++) {
      msgs.push(
        imageLog(`ds-${i}`, DAY0 + i * 10 * 60_000, {
          format: i % 2 ? "avif" : "webp",
          device: i % 3 ? "mobile" : "desktop",
          originalBytes: 100_000 + i * 1000,
          deliveredBytes: 20_000 + i * 500,
          fallback: i === 7,
        }),
      );
    }
    await storeMessages(env.DB, msgs);
    const minutes = await rollups("minute");
    expect(sum(minutes, "samples")).toBe(18);

    // 3 hours later: hours 0–2 are complete; the day is not over yet.
    await cron(DAY0 + 3 * HOUR_MS + 10 * 60_000);
    const hours = await rollups("hour");
    expect(new Set(hours.map((h) => h.ts))).toEqual(new Set([DAY0, DAY0 + HOUR_MS, DAY0 + 2 * HOUR_MS]));
    for (const k of ["samples", "images", "original_bytes", "delivered_bytes", "fallbacks"] as const)
      expect(sum(hours, k)).toBe(sum(minutes, k));
    // A webp/desktop hour row merges the minute rows of that hour only.
    const h0 = hours.filter((h) => h.ts === DAY0 && h.format === "webp" && h.device === "desktop");
    expect(h0.map((h) => h.samples)).toEqual([1]); // i = 0 (i = 6 is hour 1)
    expect((await rollups("day")).length).toBe(0);

    // Late record for hour 0 (already downsampled): lands in the minute and hour rows at once.
    await storeMessages(env.DB, [
      imageLog("late-1", DAY0 + 30_000, { originalBytes: 9_000, deliveredBytes: 1_000 }),
    ]);
    const hoursAfter = await rollups("hour");
    expect(sum(hoursAfter, "samples")).toBe(19);
    expect(sum(hoursAfter, "original_bytes")).toBe(sum(hours, "original_bytes") + 9_000);
    expect(sum(await rollups("minute"), "samples")).toBe(19);

    // Next day: the day row is built from the hour rows.
    await cron(DAY0 + DAY_MS + HOUR_MS);
    const days = await rollups("day");
    expect(days.every((d) => d.ts === DAY0)).toBe(true);
    expect(sum(days, "samples")).toBe(19);
    expect(sum(days, "delivered_bytes")).toBe(sum(hoursAfter, "delivered_bytes"));
    const state = await env.DB.prepare(
      "SELECT granularity, done_until FROM rum_image_rollup_state ORDER BY granularity",
    ).all();
    expect(state.results).toEqual([
      { granularity: "day", done_until: DAY0 + DAY_MS },
      { granularity: "hour", done_until: DAY0 + DAY_MS },
    ]);
    // A second run on the same clock changes nothing (no double counting).
    await cron(DAY0 + DAY_MS + HOUR_MS);
    expect(sum(await rollups("day"), "samples")).toBe(19);
    expect(sum(await rollups("hour"), "samples")).toBe(19);

    // Retention: minute rows go after 2 days, raw records after `raw`, hour rows after `hour`.
    await cron(DAY0 + 3 * DAY_MS, "raw=2d,minute=1d,hour=4d,day=400d");
    expect(await rollups("minute")).toEqual([]);
    expect(sum(await rollups("hour"), "samples")).toBe(19);
    const raw = await env.DB.prepare("SELECT COUNT(*) AS n FROM rum_image_log").first<{ n: number }>();
    expect(raw?.n).toBe(0);
    await cron(DAY0 + 5 * DAY_MS, "raw=2d,minute=1d,hour=4d,day=400d");
    expect(await rollups("hour")).toEqual([]);
    expect(sum(await rollups("day"), "samples")).toBe(19);
  });
});
