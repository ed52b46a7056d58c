/**
 * The SLO, distribution, impact, optimisation and page-view pages and the exports, against the
 * real insight and query API over D1, reached through the composed Worker entry production runs
 * (`worker/index.ts`, its `fetch` handler with the query token), plus the loading, empty and error
 * states of every panel.
 *
 * The rows are written with SQL by the collector's insight test fixtures (data setup only, no
 * collector code under test): these pages need sessions, conversions, prefetch arms and edge
 * records at chosen minutes, which the queue entry would only produce from hand-built beacons.
 * The entry reads the real clock, so the rows are placed relative to it.
 */
import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import {
  insertEdgeLog,
  insertPageViews,
  type PvRow,
  resetInsightTables,
} from "../../rum-collector/test/insights-fixtures.ts";
import worker from "../../worker/index.ts";
import type { QueryApi } from "../src/api-client.ts";
import { createDashboardsApp } from "../src/app.ts";
import { parseDashConfig } from "../src/config.ts";
import { toCsv } from "../src/export.ts";

const NOW = Date.now();
const MIN = 60_000;
const TOKEN = "pages-dash-token";
const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;

/** The public query API (`/_rum/v1/*`) as the Worker entry answers it, with the configured query token. */
const realApi: QueryApi = async (path) =>
  worker.fetch(
    new Request(`http://internal${path}`, { headers: { Authorization: `Bearer ${env.RUM_QUERY_TOKEN}` } }),
    env,
    ctx,
  );

function appWith(api: QueryApi) {
  return createDashboardsApp({
    config: parseDashConfig({ DASH_TOKEN: TOKEN, DASH_DEFAULT_SITE: "demo" }),
    queryApi: api,
    now: () => NOW,
  });
}
const app = appWith(realApi);
async function get(path: string, a = app) {
  const res = await a.request(`http://shop.test${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return { res, text: await res.text() };
}

beforeAll(async () => {
  await resetInsightTables();
  const rows: PvRow[] = [];
  for (let i = 0; i < 40; i++) {
    const br = i % 4 === 0;
    rows.push({
      pvid: `pv${i}`,
      ts: NOW - 50 * MIN + i * MIN,
      rid: `rid${i}`,
      country: br ? "BR" : "DE",
      colo: br ? "GRU" : "FRA",
      cacheStatus: i % 2 ? "HIT" : "MISS",
      pageGroup: i % 3 ? "/p/:id" : "/c/:slug/with/a/very/long/page/group/name/that/should/truncate",
      lcp: br ? 4800 : 1500,
      ttfb: br ? 1900 : 300,
      middleMile: br ? 1400 : 60,
      backend: 90,
      sessionId: `s${Math.floor(i / 2)}`,
      prevPvid: i % 2 === 1 ? `pv${i - 1}` : null,
      arm: ["holdout", "ours", "press"][Math.floor(i / 2) % 3] as string,
      converted: i % 2 === 1 && (i - 1) % 4 !== 0 ? 1 : 0, // sessions landing in BR (slow) do not convert
      conversionValue: i % 2 === 1 ? 80 : null,
    });
  }
  await insertPageViews(rows);
  await insertEdgeLog(
    rows.map((r) => ({
      rid: r.rid as string,
      ts: r.ts,
      cacheStatus: r.cacheStatus as string,
      edgeMs: 400,
      originMs: 350,
      appMs: 90,
      colo: r.colo,
    })),
  );
});

describe("insight pages with data", () => {
  it("SLO page: every objective with burn rates, budget and alert badges", async () => {
    const { res, text } = await get("/_dash/slo");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(text).toContain('data-slo="lcp-p75"');
    expect(text).toContain('data-slo="ttfb-99"');
    expect(text).toMatch(/page (FIRING|ok)/);
    expect(text).toContain('href="/_dash/export/slo/objectives.csv"');
    expect(text).toContain('aria-current="page">SLOs</a>');
  });

  it("distribution: histogram, shares against the previous period, slowest page views linking end to end", async () => {
    const { text } = await get("/_dash/distribution?metric=lcp");
    expect(text).toContain('<svg class="histogram"');
    expect(text).toContain("this period");
    expect(text).toContain("previous period");
    expect(text).toContain('href="/_dash/pageview?site=demo&amp;pvid=pv0"');
    // Drill-down: a country in the slowest table filters the page to it.
    expect(text).toContain('href="/_dash/distribution?site=demo&amp;country=BR"');
    const br = await get("/_dash/distribution?country=BR&site=demo");
    expect(br.text).toContain('value="BR"');
    expect(br.text).not.toContain('data-pvid="pv1"');
  });

  it("impact: buckets with sessions, rates and revenue at stake", async () => {
    const { text } = await get("/_dash/impact");
    expect(text).toContain("Conversion and bounce by landing LCP");
    expect(text).toMatch(/data-at-stake="[1-9]/);
    expect((await get("/_dash/impact?by=ttfb")).text).toContain("landing TTFB");
  });

  it("optimisations: cache hit ratio, time saved by hits, top miss groups, image panel", async () => {
    const { text } = await get("/_dash/effects");
    expect(text).toContain('<div class="value hit-ratio">50.0 %</div>');
    expect(text).toContain("TTFB saved per hit");
    expect(text).toContain("Page groups with the most misses");
    expect(text).toContain("Images: bytes saved");
    expect(text).toContain('<tr data-arm="ours">');
    expect(text).toContain("vs holdout");
  });

  it("page view: waterfall, edge record for the same rid, five-element profile", async () => {
    const { text } = await get("/_dash/pageview?site=demo&pvid=pv0");
    expect(text).toContain('data-phase="middleMile"');
    expect(text).toContain("rid0");
    expect(text).toContain("middle mile = origin − app");
    expect(text).toContain("260 ms"); // 350 − 90
    expect(text).toContain("Response transport");
    const missing = await get("/_dash/pageview?site=demo&pvid=nope");
    expect(missing.res.status).toBe(200);
    expect(missing.text).toContain("no page view nope");
  });

  it("panels stream: each shows a loading line until its body follows", async () => {
    const { text } = await get("/_dash/slo");
    const loading = text.indexOf('class="loading');
    expect(loading).toBeGreaterThan(0);
    expect(text.indexOf("slo-table")).toBeGreaterThan(loading);
    const css = await (await app.request("http://shop.test/_dash/style.css")).text();
    expect(css).toContain(".loading:not(:last-child){display:none}");
  });
});

describe("exports", () => {
  it("CSV and JSON of the slowest page views match the page's selection", async () => {
    const csv = await get("/_dash/export/distribution/slowest.csv?country=BR&site=demo");
    expect(csv.res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(csv.res.headers.get("content-disposition")).toBe(
      'attachment; filename="distribution-slowest.csv"',
    );
    const lines = csv.text.trim().split("\r\n");
    expect(lines[0]).toBe(
      "ts,pvid,pageGroup,path,country,colo,device,cacheStatus,value,ttfb,lcp,middleMile,backend",
    );
    expect(lines).toHaveLength(11);
    expect(lines.slice(1).every((l) => l.includes(",BR,GRU,"))).toBe(true);
    const json = await get("/_dash/export/slo/objectives.json");
    const rows = JSON.parse(json.text) as Record<string, unknown>[];
    expect(rows.map((r) => r.id)).toEqual(["lcp-p75", "ttfb-99"]);
  });

  it("every page's tables export; unknown tables and bad parameters are 400", async () => {
    for (const path of [
      "/_dash/export/impact/buckets.csv",
      "/_dash/export/effects/cache-groups.json",
      "/_dash/export/effects/prefetch-arms.csv",
      "/_dash/export/pageview/phases.csv?pvid=pv0",
      "/_dash/export/distribution/histogram.json?metric=ttfb",
      "/_dash/export/overview/percentiles.csv",
      "/_dash/export/overview/attribution.csv",
      "/_dash/export/pageviews/pageviews.json",
    ])
      expect((await get(path)).res.status, path).toBe(200);
    const bad = await get("/_dash/export/overview/nope.csv");
    expect(bad.res.status).toBe(400);
    expect(bad.text).toContain("overview/percentiles");
    expect((await get("/_dash/export/distribution/slowest.csv?metric=tti")).res.status).toBe(400);
  });

  it("pages and exports need a session or the bearer token", async () => {
    for (const path of ["/_dash/slo", "/_dash/export/slo/objectives.csv", "/_dash/pageview?pvid=pv0"]) {
      const res = await app.request(`http://shop.test${path}`);
      expect(res.status, path).toBe(302);
      expect(res.headers.get("location")).toContain("/_dash/login?next=");
    }
    const wrong = await app.request("http://shop.test/_dash/export/slo/objectives.json", {
      headers: { authorization: "Bearer nope" },
    });
    expect(wrong.status).toBe(401);
  });

  it("CSV quotes per RFC 4180 and defuses formulas", () => {
    expect(
      toCsv({
        columns: ["a", "b"],
        rows: [
          ['x,"y"', "=HYPERLINK(1)"],
          [null, 3],
        ],
      }),
    ).toBe('a,b\r\n"x,""y""",\'=HYPERLINK(1)\r\n,3\r\n');
  });
});

describe("empty and error states", () => {
  it("a panel whose rendering throws says so in place; the rest of the page still arrives", async () => {
    const { renderParts } = await import("../src/stream.ts");
    const { html } = await import("../src/html.ts");
    const errors: unknown[] = [];
    const orig = console.error;
    console.error = (m: unknown) => errors.push(m);
    try {
      const text = await renderParts([
        html`<p>before</p>`,
        { open: html`<section>`, body: Promise.reject(new Error("boom")), close: html`</section>` },
        html`<p>after</p>`,
      ]);
      expect(text).toContain("This panel failed");
      expect(text).toContain("<p>after</p>");
      expect(String(errors[0])).toContain("boom");
    } finally {
      console.error = orig;
    }
  });

  it("the live page streams its list after a loading line", async () => {
    const { text } = await get("/_dash/pageviews?limit=5");
    expect(text.indexOf("Loading page views…")).toBeGreaterThan(0);
    expect(text.indexOf('class="pv"')).toBeGreaterThan(text.indexOf("Loading page views…"));
  });

  it("a site without data says so on every panel", async () => {
    expect((await get("/_dash/distribution?site=none")).text).toContain(
      "No page views with LCP in this range",
    );
    expect((await get("/_dash/impact?site=none")).text).toContain("No sessions in this range");
    expect((await get("/_dash/effects?site=none")).text).toContain(
      "The edge served no HTML page in this range",
    );
  });

  it("a failing insight API shows its reason inside each panel, the page still renders", async () => {
    const broken = appWith(async (path) =>
      path.startsWith("/_rum/v1/query") || path.startsWith("/_rum/v1/images")
        ? realApi(path)
        : Response.json({ error: "D1 is down" }, { status: 500 }),
    );
    for (const [path, title] of [
      ["/_dash/slo", "SLO status unavailable"],
      ["/_dash/distribution", "Distribution unavailable"],
      ["/_dash/impact", "Business impact unavailable"],
      ["/_dash/effects", "Cache effects unavailable"],
      ["/_dash/effects", "Prefetch effect unavailable"],
      ["/_dash/pageview?pvid=pv0", "Waterfall unavailable"],
    ] as const) {
      const { res, text } = await get(path, broken);
      expect(res.status, path).toBe(200);
      expect(text, path).toContain(title);
      expect(text, path).toContain("The query API answered 500: D1 is down");
    }
    expect((await get("/_dash/export/slo/objectives.csv", broken)).res.status).toBe(502);
  });

  it("unknown parameters and bad values are 400 with the reason", async () => {
    expect((await get("/_dash/slo?range=1h")).res.status).toBe(400);
    expect((await get("/_dash/impact?cacheStatus=HIT")).text).toContain(
      "Unknown parameter &quot;cacheStatus&quot;",
    );
    expect((await get("/_dash/distribution?metric=tti")).text).toContain("Unknown metric &quot;tti&quot;");
    expect((await get("/_dash/pageview")).text).toContain("Give the page view&#39;s id as pvid");
  });
});
