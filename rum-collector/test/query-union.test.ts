import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import type { PageViewMessage } from "../../common/src/rum-types.ts";
import { seededRandom } from "../../common/src/seeded-random.ts";
import { QuantileSketch } from "../../common/src/sketch.ts";
import { createQueryRoutes } from "../src/query/routes.ts";
import { downsample } from "../src/store/cron.ts";
import { DAY_MS, HOUR_MS, MINUTE_MS } from "../src/store/metrics.ts";
import { blobBytes } from "../src/store/rollup-rows.ts";
import { storeMessages } from "../src/store/write-messages.ts";
import { exactQuantile, pageView, resetRumTables, withEdgeLogs } from "./store-fixtures.ts";

const TOKEN = "test-query-token";
// Data from D0 − 1 h to D1 03:00; cron at D1 03:10: day D0 and hours up to D1 03:00 downsampled.
const D0 = Date.UTC(2026, 10, 20);
const D1 = D0 + DAY_MS;
const NOW = D1 + 3 * HOUR_MS + 10 * MINUTE_MS;
const app = createQueryRoutes({ db: env.DB, queryToken: TOKEN, now: () => NOW });
const msgs: PageViewMessage[] = [];
const PERCENTILES = [50, 75, 90, 95, 99];

async function query(from: number, to: number, extra = "") {
  const res = await app.request(
    `/v1/query?metric=lcp&percentiles=${PERCENTILES.join(",")}&from=${from}&to=${to}${extra}`,
    { headers: { Authorization: `Bearer ${TOKEN}` } },
  );
  expect(res.status).toBe(200);
  // biome-ignore lint/suspicious/noExplicitAny: loosely typed JSON in assertions
  return (await res.json()) as Record<string, any>;
}

/** The single-granularity answer: every minute row of [from, to) merged. */
async function minuteOnly(from: number, to: number) {
  const r = await env.DB.prepare(
    "SELECT views, lcp FROM rum_rollups WHERE granularity = 'minute' AND ts >= ?1 AND ts < ?2 AND lcp IS NOT NULL AND device <> '*'",
  )
    .bind(from, to)
    .all<{ views: number; lcp: unknown }>();
  const s = new QuantileSketch();
  let views = 0;
  for (const row of r.results) {
    s.mergeBytes(blobBytes(row.lcp) as Uint8Array);
    views += row.views;
  }
  return { s, views };
}

beforeAll(async () => {
  await resetRumTables();
  const rnd = seededRandom(5);
  const start = D0 - HOUR_MS;
  const end = D1 + 3 * HOUR_MS;
  let i = 0;
  const add = (ts: number) =>
    msgs.push(
      pageView({
        pvid: `u${String(i++).padStart(7, "0")}`,
        ts,
        pageGroup: i % 2 ? "product" : "home",
        lcp: Math.round(200 + 5000 * rnd() ** 2),
      }),
    );
  for (let ts = start; ts < end; ts += 7 * MINUTE_MS + 13_000) add(ts);
  // Page views exactly on and next to every boundary the queries below use.
  for (const b of [
    D0,
    D0 + 23 * HOUR_MS,
    D1,
    D1 + 2 * HOUR_MS,
    D0 - 30 * MINUTE_MS,
    D1 + 2 * HOUR_MS + 15 * MINUTE_MS,
  ])
    for (const ts of [b - 1, b, b + 1]) add(ts);
  for (let k = 0; k < msgs.length; k += 100)
    await storeMessages(env.DB, withEdgeLogs(msgs.slice(k, k + 100)));
  await downsample(env.DB, NOW);
  await downsample(env.DB, NOW); // a second run changes nothing
});

describe("query planner: union of day, hour and minute rows", () => {
  const from = D0 - 30 * MINUTE_MS;
  const to = D1 + 2 * HOUR_MS + 15 * MINUTE_MS;

  it("reads minute + day + hour + minute rows for a ragged range", async () => {
    const r = await query(from, to);
    expect(r.sources.map((s: { granularity: string }) => s.granularity)).toEqual([
      "minute",
      "day",
      "hour",
      "minute",
    ]);
    expect(r.resolution).toMatchObject({ exact: true, note: null });
  });

  it("equals the minute-rows-only answer and counts every page view once at the boundaries", async () => {
    const r = await query(from, to);
    const inRange = msgs.filter((m) => m.ts >= from && m.ts < to);
    const single = await minuteOnly(from, to);
    expect(r.total.count).toBe(inRange.length);
    expect(r.total.views).toBe(inRange.length);
    expect(single.s.count).toBe(inRange.length);
    const lcps = inRange.map((m) => m.beacon.vitals.lcp as number);
    expect(r.total.min).toBe(Math.min(...lcps));
    expect(r.total.max).toBe(Math.max(...lcps));
    for (const p of PERCENTILES) {
      // Downsampling merges buckets exactly, so the union equals the single-granularity sketch …
      expect(r.total.percentiles[`p${p}`]).toBeCloseTo(single.s.quantile(p / 100), 3);
      // … and both are within the sketch's 1 % of the exact value.
      const exact = exactQuantile(lcps, p / 100);
      expect(Math.abs(r.total.percentiles[`p${p}`] - exact) / exact).toBeLessThanOrEqual(0.01);
    }
  });

  it("adjacent ranges add up to the whole (no double count at a shared boundary)", async () => {
    const mid = D1;
    const [a, b, whole] = await Promise.all([query(from, mid), query(mid, to), query(from, to)]);
    expect(a.total.count + b.total.count).toBe(whole.total.count);
    expect(a.total.count).toBe(msgs.filter((m) => m.ts >= from && m.ts < mid).length);
    const grouped = await query(from, to, "&groupBy=pageGroup");
    expect(grouped.groups.reduce((s: number, g: { count: number }) => s + g.count, 0)).toBe(
      whole.total.count,
    );
  });

  it("rounds outward to whole hours where minute rows are gone, and says so", async () => {
    // Retention removed the minute rows before D1 (they were downsampled).
    await env.DB.prepare("DELETE FROM rum_rollups WHERE granularity = 'minute' AND ts < ?1").bind(D1).run();
    const r = await query(D0 + 30 * MINUTE_MS, D1);
    expect(r.sources).toEqual([
      { granularity: "day", from: new Date(D0).toISOString(), to: new Date(D1).toISOString() },
    ]);
    expect(r.from).toBe(new Date(D0).toISOString());
    expect(r.resolution).toMatchObject({
      exact: false,
      requestedFrom: new Date(D0 + 30 * MINUTE_MS).toISOString(),
    });
    expect(r.resolution.note).toMatch(/retention/);
    expect(r.total.count).toBe(msgs.filter((m) => m.ts >= D0 && m.ts < D1).length);
    // Minute rows still exist after D1: that edge stays exact.
    const tail = await query(D0 + 23 * HOUR_MS + 20 * MINUTE_MS, D1 + 2 * HOUR_MS + 15 * MINUTE_MS);
    expect(tail.sources.map((s: { granularity: string }) => s.granularity)).toEqual(["hour", "minute"]);
    expect(tail.sources[0].from).toBe(new Date(D0 + 23 * HOUR_MS).toISOString());
    expect(tail.total.count).toBe(
      msgs.filter((m) => m.ts >= D0 + 23 * HOUR_MS && m.ts < D1 + 2 * HOUR_MS + 15 * MINUTE_MS).length,
    );
  });
});
