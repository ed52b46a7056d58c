/**
 * Contract test: the dashboards against the real query API over D1 (workerd), all through the
 * composed Worker entry production runs (`worker/index.ts`): page views go in through its `queue`
 * handler, pages come out of its `fetch` handler (which calls the query API in-process with the
 * query token). Catches any drift between what the dashboards ask/parse and what the query API
 * accepts/returns, without reaching into collector internals. The entry reads the real clock,
 * so the stored page views are placed relative to it.
 */
import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { attribute } from "../../common/src/attribution.ts";
import type {
  BeaconPayload,
  EdgeLogMessage,
  ImageLogMessage,
  PageViewMessage,
  RumQueueMessage,
} from "../../common/src/rum-types.ts";
import worker from "../../worker/index.ts";
import { ATTRIBUTION_GROUP_BY, GROUP_BY_DIMENSIONS } from "../src/metrics.ts";

const NOW = Date.now();
const SITE = "contract";
/** The test bindings with this test's site as the dashboards' default (one object: parts are built once per env). */
const workerEnv = { ...env, DASH_DEFAULT_SITE: SITE } as Env;
const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;

/** A page view as the intake would enqueue it; `server` = request → first byte (ms). */
function pageView(
  pvid: string,
  o: { group: string; cache: "HIT" | "MISS"; server: number; ts: number },
): PageViewMessage {
  const serverTiming =
    o.cache === "MISS"
      ? [
          { name: "cdn-cache", duration: 0, description: "MISS" },
          { name: "edge", duration: 150, description: "" },
          { name: "origin", duration: 120, description: "" },
          { name: "app", duration: 80, description: "" },
        ]
      : [
          { name: "cdn-cache", duration: 0, description: "HIT" },
          { name: "edge", duration: 5, description: "" },
        ];
  const beacon: BeaconPayload = {
    v: 1,
    site: SITE,
    pvid,
    seq: 0,
    url: `https://shop.test${o.group}`,
    rid: `rid-${pvid}`,
    nav: {
      type: "navigate",
      redirectStart: 0,
      redirectEnd: 0,
      fetchStart: 1,
      domainLookupStart: 5,
      domainLookupEnd: 10,
      connectStart: 10,
      secureConnectionStart: 20,
      connectEnd: 30,
      requestStart: 31,
      responseStart: 31 + o.server,
      responseEnd: 51 + o.server,
      domInteractive: 400,
      domContentLoadedEventEnd: 450,
      loadEventEnd: 700,
      transferSize: 5000,
      encodedBodySize: 4800,
      deliveryType: "",
      activationStart: 0,
    },
    serverTiming,
    vitals: { lcp: 1200, cls: 0.05, fcp: 800, ttfb: 31 + o.server },
    lcpParts: {
      ttfb: 31 + o.server,
      resourceLoadDelay: 100,
      resourceLoadDuration: 200,
      elementRenderDelay: 869 - o.server,
    },
    net: { ect: "4g", rtt: 50, downlink: 10, saveData: false },
  };
  return {
    kind: "pageview",
    ts: o.ts,
    site: SITE,
    pvid,
    seq: 0,
    pageGroup: o.group,
    path: o.group.replace(":id", "17").replace(":slug", "shoes"),
    dims: { country: "DE", colo: "FRA", asn: 3320, device: "mobile", browser: "chrome" },
    cacheStatus: o.cache,
    beacon,
    attribution: attribute(beacon),
  };
}

/** The edge's record of a response; page views are rolled up with the edge split once it came. */
function edgeLog(rid: string, ts: number, hit = false): EdgeLogMessage {
  return {
    kind: "edge",
    ts,
    rid,
    site: SITE,
    pageGroup: hit ? "/c/:slug" : "/p/:id",
    path: hit ? "/c/shoes" : "/p/17",
    status: 200,
    cacheStatus: hit ? "HIT" : "MISS",
    edgeMs: hit ? 5 : 150,
    originMs: hit ? null : 120,
    appMs: hit ? null : 80,
    country: "DE",
    colo: "FRA",
    device: "mobile",
    browser: "chrome",
  };
}

function imageLog(
  rid: string,
  ts: number,
  o: { format: string; device: string; original: number; delivered: number; fallback?: boolean },
): ImageLogMessage {
  return {
    kind: "image",
    ts,
    rid,
    site: SITE,
    format: o.format,
    device: o.device,
    width: o.fallback ? null : 640,
    cacheStatus: "MISS",
    originalBytes: o.original,
    deliveredBytes: o.delivered,
    fallback: o.fallback ?? false,
  };
}

async function deliver(bodies: RumQueueMessage[]): Promise<void> {
  const messages = bodies.map((body, i) => ({
    id: `m${i}`,
    timestamp: new Date(NOW),
    body,
    attempts: 1,
    ack() {},
    retry() {},
  }));
  const batch = {
    queue: "rum-events",
    messages,
    ackAll() {},
    retryAll() {},
  } as unknown as MessageBatch<RumQueueMessage>;
  await worker.queue(batch as MessageBatch, workerEnv, ctx);
}

async function get(path: string) {
  const res = await worker.fetch(
    new Request(`http://shop.test${path}`, { headers: { authorization: `Bearer ${env.DASH_TOKEN}` } }),
    workerEnv,
    ctx,
  );
  return { res, text: await res.text() };
}

function partMs(row: string, part: string): number {
  const m = new RegExp(`data-part="${part}" data-ms="([\\d.]+)"`).exec(row);
  return m ? Number(m[1]) : Number.NaN;
}

describe("dashboards on the real query API", () => {
  beforeAll(async () => {
    const ts = NOW - 10 * 60_000;
    const msgs: RumQueueMessage[] = [];
    for (let i = 0; i < 6; i++)
      msgs.push(pageView(`miss-${i}`, { group: "/p/:id", cache: "MISS", server: 300, ts: ts + i }));
    for (let i = 0; i < 4; i++)
      msgs.push(pageView(`hit-${i}`, { group: "/c/:slug", cache: "HIT", server: 40, ts: ts + 10 + i }));
    // The misses' own records (so their edge split is verified) and two page views without a beacon.
    for (let i = 0; i < 8; i++) msgs.push(edgeLog(i < 6 ? `rid-miss-${i}` : `edge-${i}`, ts + i));
    for (let i = 0; i < 4; i++) msgs.push(edgeLog(`rid-hit-${i}`, ts + 10 + i, true));
    for (let i = 0; i < 3; i++)
      msgs.push(
        imageLog(`img-avif-${i}`, ts + i, {
          format: "avif",
          device: "mobile",
          original: 200_000,
          delivered: 50_000,
        }),
      );
    for (let i = 0; i < 2; i++)
      msgs.push(
        imageLog(`img-webp-${i}`, ts + i, {
          format: "webp",
          device: "desktop",
          original: 100_000,
          delivered: 40_000,
        }),
      );
    msgs.push(
      imageLog("img-fallback", ts, {
        format: "original",
        device: "mobile",
        original: 80_000,
        delivered: 80_000,
        fallback: true,
      }),
    );
    await deliver(msgs);
  });

  it("renders every overview section without an API error, with the stored attribution", async () => {
    const { res, text } = await get("/_dash/");
    expect(res.status).toBe(200);
    expect(text).not.toContain('class="notice error"');
    expect(text).toMatch(/<div class="tile good" data-metric="lcp">.*?1\.2\d s/);
    const miss = text.match(/<tr class="attr-row" data-group="\/p\/:id">.*?<\/tr>/)?.[0] ?? "";
    const expected = pageView("x", { group: "/p/:id", cache: "MISS", server: 300, ts: NOW }).attribution;
    // Sketch percentiles are within 1 % of the exact value.
    expect(partMs(miss, "backend")).toBeCloseTo(expected.backend as number, -0.5);
    expect(Math.abs(partMs(miss, "backend") - 80) / 80).toBeLessThan(0.011);
    expect(Math.abs(partMs(miss, "middleMile") - expected.middleMile) / expected.middleMile).toBeLessThan(
      0.011,
    );
    expect(Math.abs(partMs(miss, "edge") - expected.edge) / expected.edge).toBeLessThan(0.011);
    expect(
      Math.abs(partMs(miss, "lastMileWire") - expected.lastMileWire) / expected.lastMileWire,
    ).toBeLessThan(0.011);
    const hit = text.match(/<tr class="attr-row" data-group="\/c\/:slug">.*?<\/tr>/)?.[0] ?? "";
    expect(hit).toContain("seg-edge");
    expect(hit).not.toContain("seg-backend");
    expect(text).toMatch(/Hit ratio <strong class="hit-ratio">40\.0 %<\/strong>/);
    expect(text).toMatch(
      /<td><a class="drill"[^>]*><span class="trunc " title="\/p\/:id">\/p\/:id<\/span><\/a><\/td><td class="num">6<\/td>/,
    ); // percentile table
    expect(text).toMatch(
      /<td><span class="trunc " title="\/p\/:id">\/p\/:id<\/span><\/td><td>chrome<\/td><td class="num">6<\/td><td class="num">8<\/td><td class="num">75 %<\/td>/,
    );
    expect(text).toContain('<path class="line" d="M');
  });

  it("shows the stored image responses' bytes saved per format and device class", async () => {
    const { text } = await get("/_dash/");
    const card = text.match(/<section class="card images">.*?<\/section>/s)?.[0] ?? "";
    expect(card).not.toContain('class="notice error"');
    const row = (cls: string, key: string) =>
      card.match(new RegExp(`<div class="${cls}">.*?<tr data-group="${key}">(.*?)</tr>`, "s"))?.[1] ?? "";
    // avif: 3 × (200 kB → 50 kB); webp: 2 × (100 kB → 40 kB); one fallback of 80 kB.
    expect(row("images-format", "avif")).toContain(
      '<td class="num">3</td><td class="num saved">450.0 kB</td><td class="num ratio">75.0 %</td>',
    );
    expect(row("images-format", "webp")).toContain(
      '<td class="num">2</td><td class="num saved">120.0 kB</td><td class="num ratio">60.0 %</td>',
    );
    const fallback = row("images-format", "original");
    expect(fallback).toContain('<td class="num saved">0 B</td><td class="num ratio">0.0 %</td>');
    expect(fallback).toContain('<td class="num fallbacks">1</td>');
    // mobile: 680 kB → 230 kB = 450 kB saved, 66.2 %.
    const mobile = row("images-device", "mobile");
    expect(mobile).toContain(
      '<td class="num">4</td><td class="num saved">450.0 kB</td><td class="num ratio">66.2 %</td>',
    );
    expect(mobile).toContain("230.0 kB of 680.0 kB");
    expect(row("images-device", "desktop")).toContain('<td class="num saved">120.0 kB</td>');
    expect(card).toMatch(
      /<tr class="total"><td><strong>all<\/strong><\/td><td class="num">6<\/td><td class="num saved">570.0 kB<\/td><td class="num ratio">64.8 %<\/td>/,
    );
    // The device filter applies to the image panel too (the webp responses were desktop ones).
    const { text: mobileOnly } = await get("/_dash/?device=mobile");
    expect(mobileOnly).toContain('<tr data-group="avif">');
    expect(mobileOnly).not.toContain('<tr data-group="webp">');
  });

  it("every group-by, range and filter the UI offers is accepted by the API", async () => {
    // Each overview combines several choices, so one page per group-by covers every option once.
    const ranges = ["15m", "1h", "6h", "24h", "7d", "1h", "6h"];
    const metrics = ["lcp", "inp", "cls", "fcp", "ttfb", "lcp", "inp"];
    const paths = GROUP_BY_DIMENSIONS.map(
      (by, i) =>
        `/_dash/?by=${by}&attrBy=${ATTRIBUTION_GROUP_BY[i % ATTRIBUTION_GROUP_BY.length]}&range=${ranges[i]}&metric=${metrics[i]}&pct=p99&attrPct=p75`,
    );
    paths.push(
      `/_dash/?pageGroup=${encodeURIComponent("/p/:id")}&device=mobile&country=DE,FR&connection=4g&cacheStatus=MISS&colo=FRA&attrScope=ttfb`,
    );
    for (const p of paths) {
      const { res, text } = await get(p);
      expect(res.status, p).toBe(200);
      expect(text, p).not.toContain('class="notice error"');
      expect(text, p).not.toContain("No page views");
    }
  }, 60_000);

  it("filters narrow the real data", async () => {
    const { text } = await get("/_dash/?cacheStatus=HIT");
    expect(text).toContain('data-group="/c/:slug"');
    expect(text).not.toContain('data-group="/p/:id"');
  });

  it("groups and filters by colo", async () => {
    const { text } = await get("/_dash/?by=colo&attrBy=colo");
    expect(text).not.toContain('class="notice error"');
    expect(text).toMatch(/<tr class="attr-row" data-group="FRA">/);
    expect(text).toMatch(
      /<tr data-group="FRA"><td><a class="drill"[^>]*><span class="trunc " title="FRA">FRA<\/span><\/a><\/td><td class="num">10<\/td>/,
    ); // percentile table
    const { text: other } = await get("/_dash/?colo=IAD");
    expect(other).toContain("No page views match these filters");
  });

  it("shows the empty state for a site without page views", async () => {
    const { res, text } = await get("/_dash/?site=nobody");
    expect(res.status).toBe(200);
    expect(text).toContain("No page views yet");
  });

  it("lists the stored page views, newest first, with their parts", async () => {
    const { res, text } = await get("/_dash/pageviews?limit=5");
    expect(res.status).toBe(200);
    expect(text).not.toContain('class="notice error"');
    const pvids = [...text.matchAll(/data-pvid="([^"]+)"/g)].map((m) => m[1]);
    expect(pvids).toEqual(["hit-3", "hit-2", "hit-1", "hit-0", "miss-5"]);
    const miss = text.match(/<tr class="pv" data-pvid="miss-5">.*?<\/tr>/)?.[0] ?? "";
    expect(miss).toContain('<span class="cache MISS">MISS</span>');
    expect(partMs(miss, "backend")).toBe(80);
    expect(miss).toContain("mobile");
    expect(miss).toContain("4g");
  });
});
