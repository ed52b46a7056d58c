/**
 * Edge facts come only from the edge's log: each page view is joined to the edge record of its
 * rid (either order of arrival); without one it keeps its browser timings, is marked
 * edge_verified = 0 and stays out of the edge / middle-mile / backend rollups.
 */
import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import type { PageViewMessage } from "../../common/src/rum-types.ts";
import { QuantileSketch } from "../../common/src/sketch.ts";
import { expirePending } from "../src/store/maintenance.ts";
import { blobBytes } from "../src/store/rollup-rows.ts";
import { storeMessages } from "../src/store/write-messages.ts";
import { edgeLog, pageView, resetRumTables } from "./store-fixtures.ts";

const T0 = Date.UTC(2026, 10, 24, 12, 0, 0);
const WINDOW = 10 * 60_000;
const at = (now: number) => ({ now, joinWindowMs: WINDOW });

async function pvRow(pvid: string) {
  return env.DB.prepare("SELECT * FROM rum_page_views WHERE pvid = ?")
    .bind(pvid)
    .first<Record<string, unknown>>();
}

/** The full-dimension minute rows of T0: views and the sketch count of `column`. */
async function rolled(column: string) {
  const res = await env.DB.prepare(
    `SELECT views, ${column} AS s, cache_status FROM rum_rollups WHERE granularity = 'minute' AND ts = ?1 AND device <> '*'`,
  )
    .bind(T0)
    .all<{ views: number; s: unknown; cache_status: string }>();
  let views = 0;
  const sketch = new QuantileSketch();
  for (const r of res.results) {
    views += r.views;
    const b = blobBytes(r.s);
    if (b) sketch.merge(QuantileSketch.fromBytes(b));
  }
  return { views, sketch, statuses: res.results.map((r) => r.cache_status) };
}

/** A beacon whose Server-Timing copy claims a fast HIT (what a forger would send). */
function forged(pvid: string, ts = T0): PageViewMessage {
  return pageView({ pvid, ts, cache: "HIT", edge: 5, server: 200 });
}

/** The edge's own record for that rid: a MISS with 150 ms edge, 120 ms origin, 80 ms app. */
const truth = (pvid: string, over = {}) =>
  edgeLog(`rid-${pvid}`, T0 - 500, { cacheStatus: "MISS", edgeMs: 150, originMs: 120, appMs: 80, ...over });

describe("edge facts from the edge log", () => {
  beforeEach(resetRumTables);

  it("uses the edge record's values, not the beacon's Server-Timing copy", async () => {
    await storeMessages(env.DB, [truth("join0001")], at(T0));
    await storeMessages(env.DB, [forged("join0001")], at(T0));
    const row = await pvRow("join0001");
    expect(row).toMatchObject({
      edge_verified: 1,
      cache_status: "MISS",
      edge: 30,
      middle_mile: 40,
      backend: 80,
    });
    expect(row?.pending).toBeNull();
    const r = await rolled("middle_mile");
    expect(r.views).toBe(1);
    expect(r.statuses).toEqual(["MISS"]);
    expect(r.sketch.count).toBe(1);
    expect(Math.abs(r.sketch.quantile(0.5) - 40) / 40).toBeLessThanOrEqual(0.01);
  });

  it("a beacon that arrives before its edge record waits, then is rolled up with the edge's values", async () => {
    await storeMessages(env.DB, [forged("join0002")], at(T0));
    expect(await pvRow("join0002")).toMatchObject({ edge_verified: 0, cache_status: "NONE" });
    expect((await pvRow("join0002"))?.pending).not.toBeNull();
    expect((await rolled("lcp")).views).toBe(0);
    const res = await storeMessages(env.DB, [truth("join0002")], at(T0 + 60_000));
    expect(res.resolved).toBe(1);
    const row = await pvRow("join0002");
    expect(row).toMatchObject({
      edge_verified: 1,
      cache_status: "MISS",
      edge: 30,
      middle_mile: 40,
      backend: 80,
    });
    expect(row?.pending).toBeNull();
    const r = await rolled("backend");
    expect(r.views).toBe(1);
    expect(r.sketch.count).toBe(1);
    // The same edge record again (queue redelivery) changes nothing.
    await storeMessages(env.DB, [truth("join0002")], at(T0 + 120_000));
    expect((await rolled("backend")).views).toBe(1);
  });

  it("no rid: browser timings kept, unverified, left out of edge / middle mile / backend", async () => {
    const m = forged("join0003");
    delete m.beacon.rid;
    await storeMessages(env.DB, [m], at(T0));
    const row = await pvRow("join0003");
    expect(row).toMatchObject({
      edge_verified: 0,
      cache_status: "NONE",
      edge: 0,
      middle_mile: 0,
      backend: null,
    });
    expect(row?.ttfb).toBe(231);
    expect(row?.pending).toBeNull();
    const lcp = await rolled("lcp");
    expect(lcp.views).toBe(1);
    expect(lcp.sketch.count).toBe(1);
    expect((await rolled("ttfb")).sketch.count).toBe(1);
    for (const c of ["edge", "middle_mile", "backend"]) expect((await rolled(c)).sketch.count).toBe(0);
  });

  it("an edge record of another site never verifies a page view", async () => {
    await storeMessages(env.DB, [truth("join0004", { site: "other" })], at(T0));
    await storeMessages(env.DB, [forged("join0004")], at(T0));
    expect(await pvRow("join0004")).toMatchObject({ edge_verified: 0, cache_status: "NONE" });
    expect((await rolled("edge")).sketch.count).toBe(0);
  });

  it("past the join window the cron rolls a waiting page view up as unverified", async () => {
    await storeMessages(env.DB, [forged("join0005")], at(T0));
    expect(await expirePending(env.DB, T0 + WINDOW - 1, WINDOW)).toBe(0);
    expect((await rolled("lcp")).views).toBe(0);
    expect(await expirePending(env.DB, T0 + WINDOW + 1, WINDOW)).toBe(1);
    const row = await pvRow("join0005");
    expect(row).toMatchObject({ edge_verified: 0, cache_status: "NONE" });
    expect(row?.pending).toBeNull();
    expect((await rolled("lcp")).sketch.count).toBe(1);
    expect((await rolled("middle_mile")).sketch.count).toBe(0);
    // A record arriving after that changes nothing (it was counted once, unverified).
    await storeMessages(env.DB, [truth("join0005")], at(T0 + WINDOW + 2));
    expect((await rolled("lcp")).views).toBe(1);
  });

  it("a replayed old beacon with no edge record is stored unverified at once", async () => {
    await storeMessages(env.DB, [forged("join0006")], at(T0 + WINDOW + 1));
    const row = await pvRow("join0006");
    expect(row?.pending).toBeNull();
    expect((await rolled("lcp")).views).toBe(1);
  });

  it("early beacon then page-load beacon: the page-load values are kept (row and rollups)", async () => {
    await storeMessages(env.DB, [truth("early001")], at(T0));
    const early = pageView({ pvid: "early001", ts: T0, seq: 0 });
    delete early.beacon.vitals.lcp;
    delete early.beacon.lcpParts;
    await storeMessages(env.DB, [early], at(T0));
    expect((await pvRow("early001"))?.lcp).toBeNull();
    const load = pageView({ pvid: "early001", ts: T0 + 5_000, seq: 1, lcp: 2500, inp: 120 });
    await storeMessages(env.DB, [load], at(T0 + 5_000));
    const row = await pvRow("early001");
    expect(row).toMatchObject({ seq: 1, lcp: 2500, inp: 120, edge_verified: 1, ts: T0 });
    const lcp = await rolled("lcp");
    expect(lcp.views).toBe(1);
    expect(lcp.sketch.count).toBe(1);
    expect(Math.abs(lcp.sketch.quantile(0.5) - 2500) / 2500).toBeLessThanOrEqual(0.01);
    // The early beacon delivered again (lower seq) changes nothing.
    await storeMessages(env.DB, [early], at(T0 + 6_000));
    expect((await pvRow("early001"))?.lcp).toBe(2500);
    expect((await rolled("lcp")).sketch.count).toBe(1);
  });

  it("stores the session, experiment, conversion and invalid-field columns", async () => {
    const m = pageView({ pvid: "sess0001", ts: T0 });
    m.beacon.sid = "sessionAAAA";
    m.beacon.prev = "prevpv0001";
    m.beacon.arm = "ours";
    m.beacon.conv = { value: 129.5 };
    (m as PageViewMessage & { invalidFields?: number }).invalidFields = 2;
    await storeMessages(env.DB, [truth("sess0001"), m], at(T0));
    expect(await pvRow("sess0001")).toMatchObject({
      session_id: "sessionAAAA",
      prev_pvid: "prevpv0001",
      arm: "ours",
      converted: 1,
      conversion_value: 129.5,
      invalid_fields: 2,
      edge_verified: 1,
    });
  });
});
