import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { impactBuckets } from "../src/insights/impact.ts";
import { createInsightsRoutes } from "../src/insights/routes.ts";
import { parseSlos } from "../src/insights/slo-config.ts";
import {
  getJson,
  insertEdgeLog,
  insertPageViews,
  type PvRow,
  resetInsightTables,
  TOKEN,
} from "./insights-fixtures.ts";

const NOW = Date.UTC(2026, 11, 1, 12, 0, 0);
const MIN = 60_000;
const app = createInsightsRoutes({ db: env.DB, queryToken: TOKEN, slos: parseSlos("[]"), now: () => NOW });

beforeAll(async () => {
  await resetInsightTables();
  const rows: PvRow[] = [
    {
      pvid: "pv-1",
      ts: NOW - 5 * MIN,
      rid: "rid-1",
      lcp: 2100,
      ttfb: 640,
      middleMile: 410,
      backend: 90,
      country: "BR",
      colo: "GRU",
    },
    { pvid: "pv-norid", ts: NOW - 4 * MIN, lcp: 900 },
  ];
  // Sessions: fast landings (LCP 1.5 s) convert 2 in 4 (value 100 each); slow ones (LCP 5 s) 1 in 4.
  for (let s = 0; s < 8; s++) {
    const slow = s >= 4;
    const views = s % 2 === 0 ? 1 : 2; // even sessions bounce
    for (let v = 0; v < views; v++)
      rows.push({
        pvid: `s${s}v${v}`,
        ts: NOW - 30 * MIN + s * MIN + v * 10_000,
        sessionId: `sess-${s}`,
        lcp: v === 0 ? (slow ? 5000 : 1500) : 800,
        ttfb: slow ? 1500 : 300,
        converted: v === 1 && (slow ? s === 5 : s === 1 || s === 3) ? 1 : 0,
        conversionValue: v === 1 ? 100 : null,
      });
  }
  // Previous hour: 3 page views, all poor LCP.
  for (let i = 0; i < 3; i++)
    rows.push({ pvid: `old${i}`, ts: NOW - 90 * MIN, lcp: 4500, ttfb: i === 0 ? 9000 : null });
  await insertPageViews(rows);
  await insertEdgeLog([
    {
      rid: "rid-1",
      ts: NOW - 5 * MIN,
      cacheStatus: "MISS",
      edgeMs: 520,
      originMs: 500,
      appMs: 90,
      colo: "GRU",
    },
    { rid: "e2", ts: NOW - 5 * MIN, cacheStatus: "HIT", edgeMs: 3 },
    { rid: "e3", ts: NOW - 5 * MIN, cacheStatus: "HIT", edgeMs: 3 },
    { rid: "e4", ts: NOW - 5 * MIN, cacheStatus: "STALE", edgeMs: 4 },
    { rid: "e5", ts: NOW - 5 * MIN, cacheStatus: "BYPASS", pageGroup: "/cart", originMs: 80 },
    { rid: "e6", ts: NOW - 5 * MIN, cacheStatus: "MISS", pageGroup: "/c/:slug", originMs: 300 },
    { rid: "e7", ts: NOW - 5 * MIN, cacheStatus: "EXPIRED", pageGroup: "/c/:slug", originMs: 100 },
    { rid: "e8", ts: NOW - 5 * MIN, cacheStatus: "MISS", status: 500 },
  ]);
});

describe("GET /v1/pageview", () => {
  it("answers the page view with its attribution and the edge record of the same rid", async () => {
    const { status, body } = await getJson(app, "/v1/pageview?site=demo&pvid=pv-1");
    expect(status).toBe(200);
    expect(body).toMatchObject({
      pvid: "pv-1",
      rid: "rid-1",
      dims: { country: "BR", colo: "GRU" },
      vitals: { lcp: 2100 },
      attribution: { ttfb: 640, middleMile: 410, backend: 90 },
      edgeRecord: {
        rid: "rid-1",
        cacheStatus: "MISS",
        colo: "GRU",
        edgeMs: 520,
        originMs: 500,
        appMs: 90,
        status: 200,
      },
    });
  });

  it("no rid → no edge record; unknown page view → 404; bad parameters → 400", async () => {
    expect((await getJson(app, "/v1/pageview?site=demo&pvid=pv-norid")).body.edgeRecord).toBeNull();
    const missing = await getJson(app, "/v1/pageview?site=demo&pvid=nope");
    expect(missing.status).toBe(404);
    expect(missing.body.error).toContain("no page view nope");
    expect((await getJson(app, "/v1/pageview?site=demo&pvid=a%20b")).body.error).toContain('invalid "pvid"');
    expect((await getJson(app, "/v1/pageview?pvid=pv-1")).status).toBe(400);
    expect((await getJson(app, "/v1/pageview?site=demo&pvid=pv-1", null)).status).toBe(401);
  });
});

describe("GET /v1/slowest", () => {
  it("the page views with the highest value, filtered, newest range only", async () => {
    const { status, body } = await getJson(app, "/v1/slowest?metric=lcp&limit=3");
    expect(status).toBe(200);
    const pvs = body.pageViews as Record<string, unknown>[];
    expect(pvs.map((p) => p.value)).toEqual([5000, 5000, 5000]);
    const br = await getJson(app, "/v1/slowest?metric=ttfb&country=BR");
    expect((br.body.pageViews as Record<string, unknown>[]).map((p) => p.pvid)).toEqual(["pv-1"]);
    expect((await getJson(app, "/v1/slowest?limit=500")).body.error).toContain('invalid "limit"');
  });
});

describe("GET /v1/impact", () => {
  it("counts sessions, bounces and conversions by the landing page view's LCP bucket", async () => {
    const { status, body } = await getJson(app, "/v1/impact?site=demo&by=lcp");
    expect(status).toBe(200);
    // biome-ignore lint/suspicious/noExplicitAny: the answer's JSON, read field by field in assertions
    const b = body.buckets as Record<string, any>[];
    expect(b.map((x) => [x.from, x.to, x.rating])).toEqual([
      [0, 1000, "good"],
      [1000, 2000, "good"],
      [2000, 2500, "good"],
      [2500, 3000, "ni"],
      [3000, 4000, "ni"],
      [4000, 6000, "poor"],
      [6000, null, "poor"],
    ]);
    expect(b[1]).toMatchObject({
      sessions: 4,
      bounces: 2,
      conversions: 2,
      revenue: 200,
      conversionRate: 0.5,
      bounceRate: 0.5,
      lowSample: true,
    });
    expect(b[5]).toMatchObject({ sessions: 4, conversions: 1, conversionRate: 0.25 });
    // Page views outside sessions do not count.
    expect((body.total as Record<string, number>).sessions).toBe(8);
    expect(body.baselineConversionRate).toBe(0.5);
    expect(body.averageConversionValue).toBe(100);
    // 4 slow sessions × (0.5 − 0.25) × 100 = 100 at stake.
    expect(b[5]?.revenueAtStake).toBeCloseTo(100);
    expect(body.revenueAtStake).toBeCloseTo(100);
  });

  it("by TTFB; bad parameters → 400", async () => {
    const { body } = await getJson(app, "/v1/impact?by=ttfb");
    // biome-ignore lint/suspicious/noExplicitAny: the answer's JSON, read field by field in assertions
    const b = body.buckets as Record<string, any>[];
    expect(b.find((x) => x.from === 200)?.sessions).toBe(4);
    expect(b.find((x) => x.from === 1200)?.sessions).toBe(4);
    expect((await getJson(app, "/v1/impact?by=cls")).body.error).toContain('invalid "by"');
    expect((await getJson(app, "/v1/impact?cacheStatus=HIT")).status).toBe(400);
  });

  it("pure: no good sessions → no baseline and nothing at stake", () => {
    const r = impactBuckets("lcp", [{ b: 6, sessions: 10, bounces: 5, conversions: 1, revenue: 50 }]);
    expect(r.baselineConversionRate).toBeNull();
    expect(r.revenueAtStake).toBe(0);
  });
});

describe("GET /v1/distribution", () => {
  it("histogram bins, CWV shares and the previous period", async () => {
    const { status, body } = await getJson(app, "/v1/distribution?metric=lcp&site=demo");
    expect(status).toBe(200);
    expect(body).toMatchObject({ metric: "lcp", thresholds: { good: 2500, poor: 4000 }, binWidth: 250 });
    const cur = body.current as { count: number; bins: number[]; shares: Record<string, number> };
    expect(cur.bins).toHaveLength(32);
    expect(cur.count).toBe(2 + 12);
    // 800 ms (4 second views + ... ) lands in bin 3; 5 s in bin 20; 2.1 s in bin 8.
    expect(cur.bins[3]).toBe(5); // four second page views at 800 ms + pv-norid at 900 ms
    expect(cur.bins[20]).toBe(4);
    expect(cur.bins[8]).toBe(1);
    expect(cur.shares.good).toBeCloseTo(10 / 14);
    expect(cur.shares.poor).toBeCloseTo(4 / 14);
    expect(cur.shares.ni).toBeCloseTo(0);
    const prev = body.previous as { count: number; shares: Record<string, number> };
    expect(prev.count).toBe(3);
    expect(prev.shares.poor).toBe(1);
  });

  it("filters apply; compare=none skips the previous period; values above the chart go to the last bin", async () => {
    const br = await getJson(app, "/v1/distribution?metric=ttfb&country=BR&compare=none");
    expect((br.body.current as { count: number }).count).toBe(1);
    expect(br.body.previous).toBeNull();
    const ttfb = await getJson(app, "/v1/distribution?metric=ttfb");
    expect((ttfb.body.current as { bins: number[] }).bins[15]).toBe(6); // the slow sessions' 1.5 s
    expect((ttfb.body.previous as { bins: number[] }).bins[35]).toBe(1); // 9 s, above the 3.6 s chart
    expect((await getJson(app, "/v1/distribution?metric=tti")).body.error).toContain('unknown metric "tti"');
    expect((await getJson(app, "/v1/distribution?compare=last-week")).status).toBe(400);
    expect((await getJson(app, "/v1/distribution?from=2026-12-02&to=2026-12-01")).status).toBe(400);
  });
});

describe("GET /v1/cache", () => {
  it("hit ratio over cacheable responses, per status, top page groups by misses", async () => {
    const { status, body } = await getJson(app, "/v1/cache?site=demo");
    expect(status).toBe(200);
    // 2xx/3xx only: HIT 2, STALE 1, MISS 2, EXPIRED 1, BYPASS 1 (the 500 is not counted).
    expect(body.total).toEqual({ responses: 7, hits: 3, misses: 3, hitRatio: 0.5 });
    const groups = body.topMissGroups as Record<string, unknown>[];
    expect(groups[0]).toMatchObject({ pageGroup: "/c/:slug", misses: 2, hits: 0, avgMissOriginMs: 200 });
    expect(groups[1]).toMatchObject({ pageGroup: "/p/:id", misses: 1, hits: 3, responses: 4 });
    expect((await getJson(app, "/v1/cache?limit=0")).status).toBe(400);
  });
});
