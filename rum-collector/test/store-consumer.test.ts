import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { EdgeLogBatch } from "../../common/src/edge-log-batch.ts";
import type { RumQueueMessage } from "../../common/src/rum-types.ts";
import { seededRandom } from "../../common/src/seeded-random.ts";
import { QuantileSketch } from "../../common/src/sketch.ts";
import { archiveText } from "../src/store/archive.ts";
import { archiveKey, handleQueue } from "../src/store/consumer.ts";
import { blobBytes } from "../src/store/rollup-rows.ts";
import { storeMessages } from "../src/store/write-messages.ts";
import { edgeLog, exactQuantile, pageView, resetRumTables, withEdgeLogs } from "./store-fixtures.ts";

const T0 = Date.UTC(2026, 10, 25, 10, 0, 0);
let batchNo = 0;

async function runBatch(bodies: unknown[], e: Env = env) {
  batchNo++;
  const batch = createMessageBatch<RumQueueMessage>(
    "rum-events",
    bodies.map((body, i) => ({
      id: `b${batchNo}-m${i}`,
      timestamp: T0,
      attempts: 1,
      body: body as RumQueueMessage,
    })),
  );
  const ctx = createExecutionContext();
  await handleQueue(batch, e, ctx);
  return getQueueResult(batch, ctx);
}

async function pvRow(pvid: string) {
  return env.DB.prepare("SELECT * FROM rum_page_views WHERE site = 'demo' AND pvid = ?").bind(pvid).first();
}

async function minuteSketch(column: string, ts = T0) {
  const r = await env.DB.prepare(
    `SELECT views, ${column} AS s FROM rum_rollups WHERE granularity = 'minute' AND ts = ? AND page_group = 'product' AND device <> '*'`,
  )
    .bind(ts)
    .first<{ views: number; s: unknown }>();
  const bytes = blobBytes(r?.s);
  return { views: r?.views ?? 0, sketch: bytes ? QuantileSketch.fromBytes(bytes) : new QuantileSketch() };
}

beforeEach(resetRumTables);

describe("queue consumer", () => {
  it("writes a page view once for duplicates (same batch and later batch)", async () => {
    const m = pageView({ pvid: "dup00001", ts: T0 + 1000 });
    const r1 = await runBatch([m, m]);
    expect(r1.explicitAcks.sort()).toEqual([`b${batchNo}-m0`, `b${batchNo}-m1`]);
    expect(r1.retryMessages).toEqual([]);
    await runBatch([m]);
    const n = await env.DB.prepare("SELECT COUNT(*) AS n FROM rum_page_views").first<{ n: number }>();
    expect(n?.n).toBe(1);
    const { views, sketch } = await minuteSketch("lcp");
    expect(views).toBe(1);
    expect(sketch.count).toBe(1);
    const cov = await env.DB.prepare("SELECT beacons FROM rum_coverage").first<{ beacons: number }>();
    expect(cov?.beacons).toBe(1);
  });

  it("stores every attribution part and dimension with the page view", async () => {
    await runBatch(
      withEdgeLogs([pageView({ pvid: "parts001", ts: T0, server: 200, edge: 150, origin: 120, app: 80 })]),
    );
    const row = await pvRow("parts001");
    expect(row).toMatchObject({
      page_group: "product",
      device: "mobile",
      country: "DE",
      connection: "4g",
      cache_status: "MISS",
      ttfb: 231,
      queueing: 6, // 5 before DNS + 1 between connectEnd and requestStart
      last_mile_connect: 25,
      last_mile_wire: 50,
      last_mile: 75,
      edge: 30,
      middle_mile: 40,
      backend: 80,
      origin_as_one_part: 0,
      edge_measured: 1,
      download: 20,
      rid: "rid-parts001",
    });
  });

  it("a later seq never shrinks INP/CLS, an older seq changes nothing, and the rollup value moves", async () => {
    await runBatch([pageView({ pvid: "grow0001", ts: T0, inp: 100, cls: 0.1 })]);
    await runBatch([pageView({ pvid: "grow0001", ts: T0 + 120_000, seq: 1, inp: 300, cls: 0.05 })]);
    let row = await pvRow("grow0001");
    expect(row).toMatchObject({ seq: 1, inp: 300, cls: 0.1, ts: T0 });
    // A later seq with smaller values and an old seq change nothing.
    await runBatch([pageView({ pvid: "grow0001", ts: T0 + 180_000, seq: 2, inp: 200, cls: 0.01 })]);
    await runBatch([pageView({ pvid: "grow0001", ts: T0 + 180_000, seq: 0, inp: 900, cls: 0.9 })]);
    row = await pvRow("grow0001");
    // seq 2 is the latest beacon; INP/CLS never shrink.
    expect(row).toMatchObject({ seq: 2, inp: 300, cls: 0.1 });
    const { views, sketch } = await minuteSketch("inp");
    expect(views).toBe(1);
    expect(sketch.count).toBe(1);
    expect(Math.abs(sketch.quantile(0.5) - 300) / 300).toBeLessThanOrEqual(0.01);
  });

  it("folds seq 0 and seq 1 of one page view in the same batch", async () => {
    await runBatch([
      pageView({ pvid: "fold0001", ts: T0, seq: 1, inp: 500 }),
      pageView({ pvid: "fold0001", ts: T0, seq: 0, inp: 40 }),
    ]);
    expect(await pvRow("fold0001")).toMatchObject({ seq: 1, inp: 500 });
    expect((await minuteSketch("inp")).sketch.count).toBe(1);
  });

  it("writes the raw batch to R2 as gzipped NDJSON", async () => {
    const bodies = [pageView({ pvid: "r2000001", ts: T0 + 5 }), edgeLog("rid-x", T0 + 3)];
    await runBatch(bodies);
    const key = archiveKey(T0 + 3, `b${batchNo}-m0`);
    expect(key).toMatch(/^raw\/2026\/11\/25\/10\/\d+-b\d+-m0\.ndjson\.gz$/);
    const obj = await env.RUM_ARCHIVE.get(key);
    expect(obj).not.toBeNull();
    const lines = (obj ? await archiveText(".gz", obj.body) : undefined)?.trim().split("\n") ?? [];
    expect(lines.map((l) => JSON.parse(l).kind)).toEqual(["pageview", "edge"]);
  });

  it("reads JSON text bodies (the batched intake's) like objects and archives the text as is", async () => {
    const text = JSON.stringify(pageView({ pvid: "text0001", ts: T0 + 7 }));
    const res = await runBatch([text, pageView({ pvid: "text0002", ts: T0 + 8 }), "{not json", '"a string"']);
    expect(res.explicitAcks.sort()).toEqual([0, 1, 2, 3].map((i) => `b${batchNo}-m${i}`));
    expect(res.retryMessages).toEqual([]);
    expect(await pvRow("text0001")).toMatchObject({ pvid: "text0001" });
    expect(await pvRow("text0002")).toMatchObject({ pvid: "text0002" });
    const obj = await env.RUM_ARCHIVE.get(archiveKey(T0 + 7, `b${batchNo}-m0`));
    const lines = (obj ? await archiveText(".gz", obj.body) : undefined)?.trim().split("\n") ?? [];
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(text);
  });

  it("reads a packed NDJSON message (one batch of records), drops only its malformed lines", async () => {
    const a = JSON.stringify(pageView({ pvid: "pack0001", ts: T0 + 9 }));
    const b = JSON.stringify(edgeLog("rid-pack", T0 + 10));
    const c = JSON.stringify(pageView({ pvid: "pack0002", ts: T0 + 11 }));
    const res = await runBatch([[a, "{broken", b, '{"kind":"nonsense"}', c].join("\n")]);
    expect(res.explicitAcks).toEqual([`b${batchNo}-m0`]);
    expect(res.retryMessages).toEqual([]);
    expect(await pvRow("pack0001")).not.toBeNull();
    expect(await pvRow("pack0002")).not.toBeNull();
    const edge = await env.DB.prepare("SELECT COUNT(*) AS n FROM rum_edge_log WHERE rid = 'rid-pack'").first<{
      n: number;
    }>();
    expect(edge?.n).toBe(1);
    const obj = await env.RUM_ARCHIVE.get(archiveKey(T0 + 9, `b${batchNo}-m0`));
    expect((obj ? await archiveText(".gz", obj.body) : undefined)?.trim().split("\n")).toEqual([a, b, c]);
  });

  it("merges many page views into minute rollups with quantiles within 1 %", async () => {
    const rnd = seededRandom(3);
    const lcps: number[] = [];
    const msgs = [];
    for (let i = 0; i < 240; i++) {
      const lcp = Math.round(400 + rnd() * rnd() * 8000);
      lcps.push(lcp);
      msgs.push(pageView({ pvid: `merge${String(i).padStart(4, "0")}`, ts: T0 + (i % 50) * 1000, lcp }));
    }
    for (let i = 0; i < msgs.length; i += 80) await runBatch(msgs.slice(i, i + 80));
    const { views, sketch } = await minuteSketch("lcp");
    expect(views).toBe(240);
    expect(sketch.count).toBe(240);
    for (const q of [0.5, 0.75, 0.95, 0.99]) {
      const exact = exactQuantile(lcps, q);
      expect(Math.abs(sketch.quantile(q) - exact) / exact).toBeLessThanOrEqual(0.01);
    }
  });

  it("records edge log messages once and counts coverage", async () => {
    await runBatch([
      edgeLog("e1", T0),
      edgeLog("e1", T0),
      edgeLog("e2", T0),
      edgeLog("e3", T0, { status: 500 }),
    ]);
    const n = await env.DB.prepare("SELECT COUNT(*) AS n FROM rum_edge_log").first<{ n: number }>();
    expect(n?.n).toBe(3);
    const cov = await env.DB.prepare("SELECT edge_views FROM rum_coverage").first<{ edge_views: number }>();
    expect(cov?.edge_views).toBe(2);
  });

  it("expands the edge's columnar page-view batch into edge log rows; archives one line per record", async () => {
    const batch = new EdgeLogBatch("demo", 120_000);
    const add = (rid: string, path: string, status: number, country: string) =>
      batch.add(
        T0 + 20,
        rid,
        path,
        (p) => (p.startsWith("/p/") ? "product" : "other"),
        status,
        "HIT",
        0.25,
        null,
        4,
        country,
        "AMS",
        "mobile",
        "safari",
      );
    add("col-1", "/p/1", 200, "NL");
    add("col-2", "/p/2", 200, "DE");
    add("col-3", "/c/1", 200, "NL");
    const body = `${JSON.stringify(pageView({ pvid: "colpv001", ts: T0 + 21 }))}\n${batch.json()}\n{"kind":"edge-batch","v":1}`;
    const res = await runBatch([body]);
    expect(res.explicitAcks).toEqual([`b${batchNo}-m0`]);
    const rows = await env.DB.prepare(
      "SELECT rid, path, page_group, country, colo, device, browser, app_ms, origin_ms FROM rum_edge_log WHERE rid LIKE 'col-%' ORDER BY rid",
    ).all();
    // Every view of the batch shares colo, device, browser and timings.
    const row = (rid: string, path: string, page_group: string, country: string) => ({
      rid,
      path,
      page_group,
      country,
      colo: "AMS",
      device: "mobile",
      browser: "safari",
      app_ms: 4,
      origin_ms: null,
    });
    expect(rows.results).toEqual([
      row("col-1", "/p/1", "product", "NL"),
      row("col-2", "/p/2", "product", "DE"),
      row("col-3", "/c/1", "other", "NL"),
    ]);
    expect(await pvRow("colpv001")).not.toBeNull();
    const obj = await env.RUM_ARCHIVE.get(archiveKey(T0 + 20, `b${batchNo}-m0`));
    const lines = (obj ? await archiveText(".gz", obj.body) : undefined)?.trim().split("\n") ?? [];
    expect(lines).toHaveLength(4);
    expect(JSON.parse(lines[1] as string)).toMatchObject({
      kind: "edge",
      rid: "col-1",
      site: "demo",
      path: "/p/1",
    });
  });

  it("retries every message when D1 fails and stores nothing", async () => {
    const failingDb = new Proxy(env.DB, {
      get(target, prop) {
        if (prop === "batch") return async () => Promise.reject(new Error("D1_ERROR: simulated outage"));
        const v = Reflect.get(target, prop);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    const res = await runBatch([pageView({ pvid: "fail0001", ts: T0 }), edgeLog("ef", T0)], {
      ...env,
      DB: failingDb,
    });
    expect(res.retryMessages.map((m) => m.msgId).sort()).toEqual([`b${batchNo}-m0`, `b${batchNo}-m1`]);
    expect(res.explicitAcks).toEqual([]);
    expect(await pvRow("fail0001")).toBeNull();
    // The redelivery succeeds and stores it once.
    const ok = await runBatch([pageView({ pvid: "fail0001", ts: T0 })]);
    expect(ok.retryMessages).toEqual([]);
    expect(await pvRow("fail0001")).not.toBeNull();
  });

  it("retries when the R2 archive write fails", async () => {
    const failingR2 = { put: async () => Promise.reject(new Error("R2 down")) } as unknown as R2Bucket;
    const res = await runBatch([pageView({ pvid: "r2fail01", ts: T0 })], { ...env, RUM_ARCHIVE: failingR2 });
    expect(res.retryMessages).toHaveLength(1);
  });

  it("acks and drops malformed messages without blocking the batch", async () => {
    const res = await runBatch([{ kind: "nonsense" }, pageView({ pvid: "good0001", ts: T0 })]);
    expect(res.explicitAcks.sort()).toEqual([`b${batchNo}-m0`, `b${batchNo}-m1`]);
    expect(await pvRow("good0001")).not.toBeNull();
  });

  it("concurrent writers to the same rollup rows lose nothing (write guards + retry)", async () => {
    const a = Array.from({ length: 30 }, (_, i) =>
      pageView({ pvid: `conA${String(i).padStart(4, "0")}`, ts: T0 }),
    );
    const b = Array.from({ length: 30 }, (_, i) =>
      pageView({ pvid: `conB${String(i).padStart(4, "0")}`, ts: T0 }),
    );
    const dup = pageView({ pvid: "conDup001", ts: T0 });
    const results = await Promise.all([
      storeMessages(env.DB, [...a, dup]),
      storeMessages(env.DB, [...b, dup]),
      storeMessages(env.DB, [dup]),
    ]);
    const { views, sketch } = await minuteSketch("lcp");
    expect(views).toBe(61);
    expect(sketch.count).toBe(61);
    expect(results.reduce((s, r) => s + r.inserted, 0)).toBe(61);
  });
});
