import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import type { PageViewMessage } from "../../common/src/rum-types.ts";
import { seededRandom } from "../../common/src/seeded-random.ts";
import { createQueryRoutes } from "../src/query/routes.ts";
import { downsample } from "../src/store/cron.ts";
import { HOUR_MS } from "../src/store/metrics.ts";
import { storeMessages } from "../src/store/write-messages.ts";
import { edgeLog, exactQuantile, pageView, resetRumTables, withEdgeLogs } from "./store-fixtures.ts";

const TOKEN = "test-query-token";
// Data spans 10:00–13:00 UTC; "now" is 13:02, so hours 10 and 11 are downsampled, 12 is not (5 min grace).
const T0 = Date.UTC(2026, 10, 24, 10, 0, 0);
const NOW = T0 + 3 * HOUR_MS + 2 * 60_000;
const app = createQueryRoutes({ db: env.DB, queryToken: TOKEN, now: () => NOW });

const msgs: PageViewMessage[] = [];

async function get(path: string, token: string | null = TOKEN) {
  const headers: Record<string, string> = token === null ? {} : { Authorization: `Bearer ${token}` };
  const res = await app.request(path, { headers });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> & { error?: string } };
}

function within1pct(got: unknown, exact: number) {
  expect(typeof got).toBe("number");
  expect(Math.abs((got as number) - exact) / exact).toBeLessThanOrEqual(0.01);
}

function lcpOf(ms: PageViewMessage[]): number[] {
  return ms.map((m) => m.beacon.vitals.lcp as number);
}

beforeAll(async () => {
  await resetRumTables();
  const rnd = seededRandom(11);
  const groups = ["product", "category", "home"];
  const devices = ["mobile", "desktop"];
  for (let i = 0; i < 600; i++) {
    msgs.push(
      pageView({
        pvid: `q${String(i).padStart(7, "0")}`,
        ts: T0 + Math.floor((i / 600) * 3 * HOUR_MS),
        pageGroup: groups[i % 3],
        device: devices[Math.floor(i / 3) % 2],
        cache: i % 4 === 0 ? "HIT" : "MISS",
        lcp: Math.round(300 + 6000 * rnd() ** 2),
        inp: Math.round(20 + 400 * rnd()),
        cls: Math.round(rnd() * 3000) / 10_000,
        server: 50 + Math.round(400 * rnd()),
      }),
    );
  }
  for (let i = 0; i < msgs.length; i += 100)
    await storeMessages(env.DB, withEdgeLogs(msgs.slice(i, i + 100)));
  await downsample(env.DB, NOW);
  // The first two rids were logged already (withEdgeLogs): only rid-none is new.
  await storeMessages(env.DB, [
    edgeLog("rid-q0000000", T0),
    edgeLog("rid-q0000001", T0),
    edgeLog("rid-none", T0),
  ]);
});

describe("GET /v1/query rejections", () => {
  it("401 without a token or with a wrong one", async () => {
    expect((await get("/v1/query?metric=lcp", null)).status).toBe(401);
    const wrong = await get("/v1/query?metric=lcp", "nope");
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toMatch(/invalid/);
    expect((await get("/v1/pageviews", "nope")).status).toBe(401);
    expect((await get("/v1/coverage", null)).status).toBe(401);
  });

  it("503 when no token is configured", async () => {
    const off = createQueryRoutes({ db: env.DB, queryToken: "", now: () => NOW });
    const res = await off.request("/v1/query?metric=lcp", { headers: { Authorization: "Bearer x" } });
    expect(res.status).toBe(503);
  });

  const bad: Array<[string, RegExp]> = [
    ["/v1/query", /missing "metric"/],
    ["/v1/query?metric=speed", /unknown metric "speed"/],
    ["/v1/query?metric=lcp&from=yesterday", /invalid "from"/],
    ["/v1/query?metric=lcp&to=12:00", /invalid "to"/],
    ["/v1/query?metric=lcp&from=2026-11-24T12:00:00Z&to=2026-11-24T11:00:00Z", /"from" must be before "to"/],
    ["/v1/query?metric=lcp&from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z", /400 days/],
    ["/v1/query?metric=lcp&percentiles=50,abc", /invalid "percentiles"/],
    ["/v1/query?metric=lcp&percentiles=0", /invalid "percentiles"/],
    ["/v1/query?metric=lcp&percentiles=101", /invalid "percentiles"/],
    ["/v1/query?metric=lcp&groupBy=ip", /unknown dimension "ip"/],
    ["/v1/query?metric=lcp&pagegroup=product", /unknown parameter "pagegroup"/],
    ["/v1/query?metric=lcp&interval=week", /invalid "interval"/],
    [
      "/v1/query?metric=lcp&interval=minute&from=2026-10-01T00:00:00Z&to=2026-11-01T00:00:00Z",
      /too many points/,
    ],
    ["/v1/query?metric=lcp&metric=inp", /more than once/],
    ["/v1/query?metric=lcp&device=", /invalid "device"/],
    ["/v1/query?metric=lcp,speed,inp", /unknown metric "speed"/],
    ["/v1/query?metric=lcp,", /unknown metric ""/],
    ["/v1/query?metric=lcp,inp,lcp", /"lcp" listed more than once/],
    [`/v1/query?metric=${Array(17).fill("lcp").join(",")}`, /too many metrics .*max 16, got 17/],
    ["/v1/pageviews?limit=0", /invalid "limit"/],
    ["/v1/pageviews?limit=100000", /invalid "limit"/],
    ["/v1/pageviews?limit=ten", /invalid "limit"/],
    ["/v1/pageviews?order=asc", /unknown parameter "order"/],
    ["/v1/coverage?from=x", /invalid "from"/],
  ];
  for (const [path, reason] of bad) {
    it(`400 for ${path}`, async () => {
      const r = await get(path);
      expect(r.status).toBe(400);
      expect(r.body.error).toMatch(reason);
    });
  }
});

describe("GET /v1/query results", () => {
  const range = `from=${new Date(T0).toISOString()}&to=${new Date(T0 + 3 * HOUR_MS).toISOString()}`;

  it("percentiles match the exact values of the inserted data within 1 %", async () => {
    const r = await get(`/v1/query?metric=lcp&${range}`);
    expect(r.status).toBe(200);
    const total = r.body.total as { count: number; views: number; percentiles: Record<string, number> };
    expect(total.count).toBe(600);
    expect(total.views).toBe(600);
    const lcps = lcpOf(msgs);
    for (const p of [50, 75, 90, 95, 99])
      within1pct(total.percentiles[`p${p}`], exactQuantile(lcps, p / 100));
    // Hours 10 and 11 come from hour rollups, hour 12 from minute rollups.
    expect(r.body.sources).toEqual([
      { granularity: "hour", from: "2026-11-24T10:00:00.000Z", to: "2026-11-24T12:00:00.000Z" },
      { granularity: "minute", from: "2026-11-24T12:00:00.000Z", to: "2026-11-24T13:00:00.000Z" },
    ]);
  });

  it("attribution parts and CLS are queryable", async () => {
    const backend = await get(`/v1/query?metric=backend&percentiles=75&${range}`);
    const misses = msgs.filter((m) => m.cacheStatus === "MISS").map((m) => m.attribution.backend as number);
    const hits = msgs.filter((m) => m.cacheStatus === "HIT").length;
    const bt = backend.body.total as { count: number; percentiles: Record<string, number> };
    expect(bt.count).toBe(600);
    // HITs have backend 0.
    within1pct(bt.percentiles.p75, exactQuantile([...misses, ...Array(hits).fill(0)], 0.75));
    const cls = await get(`/v1/query?metric=cls&percentiles=90&${range}`);
    expect(cls.body.unit).toBe("score");
    within1pct(
      (cls.body.total as { percentiles: Record<string, number> }).percentiles.p90,
      exactQuantile(
        msgs.map((m) => m.beacon.vitals.cls as number),
        0.9,
      ),
    );
    const wire = await get(`/v1/query?metric=lastMileWire&percentiles=50&${range}`);
    within1pct(
      (wire.body.total as { percentiles: Record<string, number> }).percentiles.p50,
      exactQuantile(
        msgs.map((m) => m.attribution.lastMileWire),
        0.5,
      ),
    );
  });

  it("filters by dimensions (comma lists allowed)", async () => {
    const r = await get(`/v1/query?metric=lcp&percentiles=75&device=desktop&cacheStatus=MISS&${range}`);
    const sel = msgs.filter((m) => m.dims.device === "desktop" && m.cacheStatus === "MISS");
    const total = r.body.total as { count: number; percentiles: Record<string, number> };
    expect(total.count).toBe(sel.length);
    within1pct(total.percentiles.p75, exactQuantile(lcpOf(sel), 0.75));
    const two = await get(`/v1/query?metric=lcp&pageGroup=home,category&${range}`);
    expect((two.body.total as { count: number }).count).toBe(400);
    const none = await get(`/v1/query?metric=lcp&site=other&${range}`);
    expect((none.body.total as { count: number; percentiles: Record<string, unknown> }).count).toBe(0);
    expect((none.body.total as { percentiles: Record<string, unknown> }).percentiles.p50).toBeNull();
  });

  it("groups by one dimension", async () => {
    const r = await get(`/v1/query?metric=lcp&percentiles=75&groupBy=pageGroup&${range}`);
    const groups = r.body.groups as Array<{
      key: string;
      count: number;
      percentiles: Record<string, number>;
    }>;
    expect(groups.map((g) => g.key).sort()).toEqual(["category", "home", "product"]);
    for (const g of groups) {
      const sel = msgs.filter((m) => m.pageGroup === g.key);
      expect(g.count).toBe(sel.length);
      within1pct(g.percentiles.p75, exactQuantile(lcpOf(sel), 0.75));
    }
  });

  it("returns a time series (explicit and auto interval), also per group", async () => {
    const r = await get(`/v1/query?metric=lcp&percentiles=50&interval=hour&${range}`);
    const series = r.body.series as Array<{ ts: string; count: number; percentiles: Record<string, number> }>;
    expect(series.map((s) => s.ts)).toEqual([
      "2026-11-24T10:00:00.000Z",
      "2026-11-24T11:00:00.000Z",
      "2026-11-24T12:00:00.000Z",
    ]);
    for (const s of series) {
      const start = Date.parse(s.ts);
      const sel = msgs.filter((m) => m.ts >= start && m.ts < start + HOUR_MS);
      expect(s.count).toBe(sel.length);
      within1pct(s.percentiles.p50, exactQuantile(lcpOf(sel), 0.5));
    }
    const auto = await get(`/v1/query?metric=lcp&interval=auto&${range}`);
    expect(auto.body.interval).toBe("minute");
    expect((auto.body.series as unknown[]).length).toBe(180);
    const grouped = await get(`/v1/query?metric=lcp&interval=hour&groupBy=device&${range}`);
    const g = grouped.body.groups as Array<{ key: string; series: Array<{ count: number }> }>;
    expect(g).toHaveLength(2);
    expect(g[0]?.series.reduce((s, x) => s + x.count, 0)).toBe(300);
  });

  it("defaults to the last hour before now", async () => {
    const r = await get("/v1/query?metric=lcp");
    expect(r.body.from).toBe(new Date(NOW - HOUR_MS).toISOString());
    const sel = msgs.filter((m) => m.ts >= NOW - HOUR_MS && m.ts < NOW);
    expect((r.body.total as { count: number }).count).toBe(sel.length);
    expect(r.body.percentiles).toEqual([50, 75, 90, 95, 99]);
  });
});

describe("GET /v1/query with several metrics", () => {
  const range = `from=${new Date(T0).toISOString()}&to=${new Date(T0 + 3 * HOUR_MS).toISOString()}`;

  it("keeps the single-metric shape for one metric (also written as a one-item list)", async () => {
    const r = await get(`/v1/query?metric=lcp&percentiles=75&${range}`);
    expect(Object.keys(r.body)).toEqual([
      "metric",
      "unit",
      "from",
      "to",
      "percentiles",
      "filters",
      "groupBy",
      "interval",
      "sources",
      "resolution",
      "total",
    ]);
    expect(r.body.resolution).toMatchObject({ exact: true, note: null });
    const list = await get(`/v1/query?metric=%20lcp%20&percentiles=75&${range}`);
    expect(list.body).toEqual(r.body);
  });

  it("answers every metric of the list like its own single-metric call would", async () => {
    for (const extra of [
      "",
      "&groupBy=pageGroup",
      "&interval=hour",
      "&groupBy=device&interval=hour&cacheStatus=MISS",
    ]) {
      const multi = await get(`/v1/query?metric=lcp,inp,cls,ttfb&percentiles=50,75,99&${range}${extra}`);
      expect(multi.status).toBe(200);
      expect(multi.body.metrics).toEqual(["lcp", "inp", "cls", "ttfb"]);
      const results = multi.body.results as Record<string, Record<string, unknown>>;
      expect(Object.keys(results)).toEqual(["lcp", "inp", "cls", "ttfb"]);
      for (const m of ["lcp", "inp", "cls", "ttfb"]) {
        const single = await get(`/v1/query?metric=${m}&percentiles=50,75,99&${range}${extra}`);
        const { from, to, percentiles, filters, groupBy, interval, sources, resolution, ...own } =
          single.body;
        expect(results[m]).toEqual(own);
        expect({ from, to, percentiles, filters, groupBy, interval, sources, resolution }).toEqual({
          from: multi.body.from,
          to: multi.body.to,
          percentiles: multi.body.percentiles,
          filters: multi.body.filters,
          groupBy: multi.body.groupBy,
          interval: multi.body.interval,
          sources: multi.body.sources,
          resolution: multi.body.resolution,
        });
      }
    }
  });

  it("reports each metric's own count and percentiles", async () => {
    const multi = await get(`/v1/query?metric=lcp,inp&percentiles=75&${range}`);
    const results = multi.body.results as Record<
      string,
      { total: { count: number; percentiles: Record<string, number> } }
    >;
    expect(results.lcp?.total.count).toBe(600);
    expect(results.inp?.total.count).toBe(msgs.filter((m) => m.beacon.vitals.inp !== undefined).length);
    within1pct(
      results.inp?.total.percentiles.p75,
      exactQuantile(
        msgs.map((m) => m.beacon.vitals.inp as number),
        0.75,
      ),
    );
  });
});

describe("GET /v1/pageviews and /v1/coverage", () => {
  it("lists the most recent page views with attribution parts", async () => {
    const r = await get("/v1/pageviews?limit=2");
    const pvs = r.body.pageViews as Array<Record<string, unknown> & { attribution: Record<string, unknown> }>;
    expect(pvs).toHaveLength(2);
    const latest = msgs[msgs.length - 1] as PageViewMessage;
    expect(pvs[0]?.pvid).toBe(latest.pvid);
    expect(pvs[0]?.attribution).toMatchObject({
      ttfb: latest.attribution.ttfb,
      lastMileWire: latest.attribution.lastMileWire,
      edge: latest.attribution.edge,
      middleMile: latest.attribution.middleMile,
      backend: latest.attribution.backend,
    });
    expect((await get("/v1/pageviews")).body.pageViews).toHaveLength(50);
    expect((await get("/v1/pageviews?site=nosuch")).body.pageViews).toHaveLength(0);
  });

  it("reports beacons ÷ edge HTML page views per page group and browser", async () => {
    const r = await get(
      `/v1/coverage?from=${new Date(T0).toISOString()}&to=${new Date(T0 + HOUR_MS).toISOString()}`,
    );
    expect(r.status).toBe(200);
    const groups = r.body.groups as Array<{
      pageGroup: string;
      browser: string;
      beacons: number;
      edgeViews: number;
    }>;
    const product = groups.find((g) => g.pageGroup === "product" && g.browser === "chrome");
    // One edge record per page view (logged 1 s before its beacon) plus rid-none.
    const logged = msgs.filter(
      (m) => m.pageGroup === "product" && m.ts - 1000 >= T0 && m.ts - 1000 < T0 + HOUR_MS,
    );
    expect(product?.edgeViews).toBe(logged.length + 1);
    expect(product?.beacons).toBe(
      msgs.filter((m) => m.pageGroup === "product" && m.ts < T0 + HOUR_MS).length,
    );
  });
});
