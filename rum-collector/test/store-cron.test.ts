import { createExecutionContext, createScheduledController, env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { QuantileSketch } from "../../common/src/sketch.ts";
import { downsample } from "../src/store/cron.ts";
import { handleScheduled } from "../src/store/maintenance.ts";
import { DAY_MS, HOUR_MS } from "../src/store/metrics.ts";
import { DEFAULT_RETENTION, parseRetention } from "../src/store/retention.ts";
import { blobBytes } from "../src/store/rollup-rows.ts";
import { storeMessages } from "../src/store/write-messages.ts";
import { exactQuantile, pageView, resetRumTables, withEdgeLogs } from "./store-fixtures.ts";

const DAY0 = Date.UTC(2026, 10, 20);

async function rows(granularity: string) {
  const r = await env.DB.prepare(
    "SELECT ts, page_group, views, lcp FROM rum_rollups WHERE granularity = ? AND device <> '*' ORDER BY ts, page_group",
  )
    .bind(granularity)
    .all<{ ts: number; page_group: string; views: number; lcp: unknown }>();
  return r.results.map((x) => ({ ...x, lcp: QuantileSketch.fromBytes(blobBytes(x.lcp) as Uint8Array) }));
}

async function state() {
  const r = await env.DB.prepare(
    "SELECT granularity, done_until FROM rum_rollup_state ORDER BY granularity",
  ).all();
  return Object.fromEntries(r.results.map((x) => [x.granularity, x.done_until]));
}

beforeEach(resetRumTables);

describe("cron downsampling", () => {
  it("merges minute rows into hour rows and hour rows into day rows", async () => {
    const lcps: number[] = [];
    const msgs = [];
    // 3 hours of data, one page view every 10 minutes, two page groups.
    for (let i = 0; i < 18; i++) {
      const lcp = 500 + i * 97;
      lcps.push(lcp);
      msgs.push(
        pageView({
          pvid: `ds${String(i).padStart(6, "0")}`,
          ts: DAY0 + i * 600_000,
          lcp,
          pageGroup: i % 2 ? "a" : "b",
        }),
      );
    }
    await storeMessages(env.DB, withEdgeLogs(msgs));
    expect((await rows("minute")).length).toBe(18);

    // Not complete yet: the third hour ends at DAY0 + 3h, grace 5 min.
    await downsample(env.DB, DAY0 + 3 * HOUR_MS + 60_000);
    let hours = await rows("hour");
    expect(hours.map((h) => h.ts)).toEqual([DAY0, DAY0, DAY0 + HOUR_MS, DAY0 + HOUR_MS]);
    expect(hours.reduce((s, h) => s + h.views, 0)).toBe(12);
    expect(await state()).toEqual({ hour: DAY0 + 2 * HOUR_MS });

    await downsample(env.DB, DAY0 + DAY_MS + 10 * 60_000);
    hours = await rows("hour");
    expect(hours.reduce((s, h) => s + h.views, 0)).toBe(18);
    const days = await rows("day");
    expect(days.map((d) => [d.ts, d.page_group, d.views])).toEqual([
      [DAY0, "a", 9],
      [DAY0, "b", 9],
    ]);
    const all = days[0]?.lcp.merge(days[1]?.lcp as QuantileSketch) as QuantileSketch;
    expect(all.count).toBe(18);
    const exact = exactQuantile(lcps, 0.75);
    expect(Math.abs(all.quantile(0.75) - exact) / exact).toBeLessThanOrEqual(0.01);
    expect(await state()).toEqual({ hour: DAY0 + DAY_MS, day: DAY0 + DAY_MS });
  });

  it("late page views for an already downsampled hour go straight into the hour row", async () => {
    await storeMessages(env.DB, [pageView({ pvid: "late0001", ts: DAY0 + 60_000 })]);
    await downsample(env.DB, DAY0 + 2 * HOUR_MS);
    expect((await rows("hour"))[0]?.views).toBe(1);
    await storeMessages(env.DB, [pageView({ pvid: "late0002", ts: DAY0 + 120_000 })]);
    expect((await rows("hour"))[0]?.views).toBe(2);
    expect((await rows("minute")).reduce((s, r) => s + r.views, 0)).toBe(2);
    // Downsampling again does not double count.
    await downsample(env.DB, DAY0 + 3 * HOUR_MS);
    expect((await rows("hour")).reduce((s, r) => s + r.views, 0)).toBe(2);
  });

  it("concurrent consumer writes during downsampling are not lost", async () => {
    await storeMessages(env.DB, [pageView({ pvid: "race0001", ts: DAY0 + 60_000 })]);
    await Promise.all([
      downsample(env.DB, DAY0 + 2 * HOUR_MS),
      storeMessages(env.DB, [pageView({ pvid: "race0002", ts: DAY0 + 90_000 })]),
      storeMessages(env.DB, [pageView({ pvid: "race0003", ts: DAY0 + 95_000 })]),
    ]);
    expect((await rows("hour")).reduce((s, r) => s + r.views, 0)).toBe(3);
  });
});

describe("cron retention", () => {
  it("deletes old raw rows and downsampled rollups, keeps what is not downsampled", async () => {
    const now = DAY0 + 40 * DAY_MS;
    await storeMessages(env.DB, [
      pageView({ pvid: "old00001", ts: DAY0 }),
      pageView({ pvid: "new00001", ts: now - HOUR_MS }),
    ]);
    const ctx = createExecutionContext();
    await handleScheduled(createScheduledController({ scheduledTime: now, cron: "*/5 * * * *" }), env, ctx);
    const pv = await env.DB.prepare("SELECT pvid FROM rum_page_views").all();
    expect(pv.results.map((r) => r.pvid)).toEqual(["new00001"]);
    // The old page view survives as a day row; its minute and hour rows are gone. The recent
    // hour is not complete yet, so it exists only as minute rows.
    const counts = await env.DB.prepare(
      "SELECT granularity, COUNT(*) AS n, MIN(ts) AS first FROM rum_rollups WHERE device <> '*' GROUP BY granularity ORDER BY granularity",
    ).all();
    expect(counts.results).toEqual([
      { granularity: "day", n: 1, first: DAY0 },
      { granularity: "minute", n: 1, first: now - HOUR_MS },
    ]);
  });

  it("parses RUM_RETENTION with named errors", () => {
    expect(parseRetention(undefined)).toEqual(DEFAULT_RETENTION);
    expect(parseRetention("raw=7d, minute=6h")).toMatchObject({ rawMs: 7 * DAY_MS, minuteMs: 6 * HOUR_MS });
    expect(() => parseRetention("raw=7x")).toThrow(/Invalid config RUM_RETENTION: entry "raw=7x"/);
    expect(() => parseRetention("minute=10m")).toThrow(/RUM_RETENTION.*at least 1h/);
    expect(() => parseRetention("hour=1d")).toThrow(/minute ≤ hour ≤ day/);
  });
});
