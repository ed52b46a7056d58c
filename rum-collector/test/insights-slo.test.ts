import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { budgetRemaining, burnRate, ruleFires } from "../src/insights/burn.ts";
import { createInsightsRoutes } from "../src/insights/routes.ts";
import { objectiveText, parseSlos } from "../src/insights/slo-config.ts";
import { getJson, insertPageViews, type PvRow, resetInsightTables, TOKEN } from "./insights-fixtures.ts";

const NOW = Date.UTC(2026, 11, 1, 12, 0, 0);
const MIN = 60_000;
const slos = parseSlos(
  JSON.stringify([
    { id: "lcp-p75", metric: "lcp", threshold: 2500, target: 0.75, pageGroup: "/p/:id" },
    { id: "ttfb-99", metric: "ttfb", threshold: 800, target: 0.99 },
  ]),
);
const app = createInsightsRoutes({ db: env.DB, queryToken: TOKEN, slos, now: () => NOW });

describe("RUM_SLOS config", () => {
  it("defaults to the two example objectives and words them", () => {
    const d = parseSlos(undefined);
    expect(d.map((s) => s.id)).toEqual(["lcp-p75", "ttfb-99"]);
    expect(d.map((s) => s.name)).toEqual(["p75 LCP ≤ 2.5 s", "p99 TTFB ≤ 800 ms"]);
    expect(objectiveText({ metric: "cls", threshold: 0.1, target: 0.9 })).toBe("p90 CLS ≤ 0.1");
    expect(objectiveText({ metric: "lcp", threshold: 3000, target: 0.925 })).toBe(
      "92.5 % of page views LCP ≤ 3 s",
    );
    expect(parseSlos("[]")).toEqual([]);
  });

  it.each([
    ["not json", "not JSON"],
    ['{"id":"x"}', "expected a JSON array"],
    ['[{"id":"X!","metric":"lcp","threshold":1,"target":0.5}]', '"id" must be'],
    ['[{"id":"a","metric":"tti","threshold":1,"target":0.5}]', '"metric" must be one of'],
    ['[{"id":"a","metric":"lcp","threshold":-1,"target":0.5}]', '"threshold" must be a positive'],
    ['[{"id":"a","metric":"lcp","threshold":1,"target":1}]', '"target" must be a number in (0, 1)'],
    [
      '[{"id":"a","metric":"lcp","threshold":1,"target":0.5,"windowDays":45}]',
      '"windowDays" must be an integer 1–30',
    ],
    ['[{"id":"a","metric":"lcp","threshold":1,"target":0.5,"colour":"red"}]', 'unknown key "colour"'],
    [
      '[{"id":"a","metric":"lcp","threshold":1,"target":0.5},{"id":"a","metric":"lcp","threshold":1,"target":0.5}]',
      "used twice",
    ],
  ])("rejects %s naming the key", (raw, why) => {
    expect(() => parseSlos(raw)).toThrow(/^Invalid config RUM_SLOS: /);
    expect(() => parseSlos(raw)).toThrow(why);
  });
});

describe("burn math", () => {
  it("burn rate is the bad share over the allowed bad share; budget left follows", () => {
    expect(burnRate({ total: 100, bad: 5 }, 0.99)).toBeCloseTo(5);
    expect(burnRate({ total: 0, bad: 0 }, 0.99)).toBeNull();
    expect(budgetRemaining({ total: 1000, bad: 5 }, 0.99)).toBeCloseTo(0.5);
    expect(budgetRemaining({ total: 1000, bad: 20 }, 0.99)).toBeCloseTo(-1);
  });

  it("a rule fires only when both windows reach its rate", () => {
    const rule = { severity: "page", long: "1h", short: "5m", burnRate: 14.4 } as const;
    expect(ruleFires(rule, { "1h": 15, "5m": 20 })).toBe(true);
    expect(ruleFires(rule, { "1h": 15, "5m": 2 })).toBe(false);
    expect(ruleFires(rule, { "1h": 2, "5m": 20 })).toBe(false);
    expect(ruleFires(rule, { "1h": 15, "5m": null })).toBe(false);
  });
});

describe("GET /v1/slo", () => {
  beforeAll(async () => {
    await resetInsightTables();
    const rows: PvRow[] = [];
    // 6 h of good traffic: one page view a minute, LCP 1.2 s, TTFB 300 ms.
    for (let i = 0; i < 360; i++)
      rows.push({ pvid: `g${i}`, ts: NOW - (360 - i) * MIN, lcp: 1200, ttfb: 300 });
    // The last 10 minutes also carry slow product pages: 4 a minute with LCP 5 s and TTFB 2 s.
    for (let i = 0; i < 40; i++)
      rows.push({
        pvid: `s${i}`,
        ts: NOW - 10 * MIN + Math.floor(i / 4) * MIN + 1000,
        lcp: 5000,
        ttfb: 2000,
      });
    // Another page group, slow, outside the LCP objective's scope; sampled at 1/2 (weight 2).
    rows.push({
      pvid: "other",
      ts: NOW - 2 * MIN,
      pageGroup: "/c/:slug",
      lcp: 9000,
      ttfb: 100,
      sampleRate: 0.5,
    });
    await insertPageViews(rows);
  });

  it("answers every objective with windows, burn rates, budget and alerts", async () => {
    const { status, body } = await getJson(app, "/v1/slo");
    expect(status).toBe(200);
    // biome-ignore lint/suspicious/noExplicitAny: the answer's JSON, read field by field in assertions
    const [lcp, ttfb] = body.slos as Record<string, any>[];
    expect(lcp?.id).toBe("lcp-p75");
    expect(lcp?.objective).toBe("p75 LCP ≤ 2.5 s");
    // 5 min: 5 good + 20 slow (the /c/ page view is out of scope).
    expect(lcp?.windows["5m"]).toMatchObject({ total: 25, bad: 20 });
    expect(lcp?.windows["5m"].burnRate).toBeCloseTo(0.8 / 0.25);
    expect(lcp?.windows["1h"]).toMatchObject({ total: 100, bad: 40 });
    expect(lcp?.budgetWindow).toMatchObject({ total: 400, bad: 40 });
    expect(lcp?.budgetRemaining).toBeCloseTo(1 - 40 / (400 * 0.25));
    expect(lcp?.alerts.map((a: { firing: boolean }) => a.firing)).toEqual([false, false]);
    // TTFB 99 %: the /c/ page view counts, weighted 2.
    expect(ttfb?.windows["5m"]).toMatchObject({ total: 27, bad: 20 });
    expect(ttfb?.windows["1h"].burnRate).toBeCloseTo(40 / 102 / 0.01);
    expect(ttfb?.alerts).toEqual([
      expect.objectContaining({ severity: "page", long: "1h", short: "5m", burnRate: 14.4, firing: true }),
      expect.objectContaining({ severity: "ticket", long: "6h", short: "30m", burnRate: 6, firing: true }),
    ]);
    expect(body.alertStates).toEqual([]);
  });

  it("one objective by id; unknown id, unknown parameter and bad tokens are refused", async () => {
    const one = await getJson(app, "/v1/slo?slo=ttfb-99");
    expect((one.body.slos as unknown[]).length).toBe(1);
    expect((await getJson(app, "/v1/slo?slo=nope")).body.error).toContain('unknown slo "nope"');
    expect((await getJson(app, "/v1/slo?window=1h")).status).toBe(400);
    expect((await getJson(app, "/v1/slo", null)).status).toBe(401);
    expect((await getJson(app, "/v1/slo", "wrong")).status).toBe(401);
    const off = createInsightsRoutes({ db: env.DB, queryToken: "", slos, now: () => NOW });
    expect((await getJson(off, "/v1/slo")).status).toBe(503);
    const refused = createInsightsRoutes({
      db: env.DB,
      queryToken: TOKEN,
      tokenError: "RUM_QUERY_TOKEN is shorter than 32 characters",
      slos,
      now: () => NOW,
    });
    const r = await getJson(refused, "/v1/slo");
    expect(r.status).toBe(503);
    expect(r.body.error).toContain("RUM_QUERY_TOKEN is shorter");
  });

  it("an objective without page views has no burn rate and no budget figure", async () => {
    const none = createInsightsRoutes({
      db: env.DB,
      queryToken: TOKEN,
      slos: parseSlos('[{"id":"x","metric":"inp","threshold":200,"target":0.9,"site":"elsewhere"}]'),
      now: () => NOW,
    });
    // biome-ignore lint/suspicious/noExplicitAny: the answer's JSON, read field by field in assertions
    const s = ((await getJson(none, "/v1/slo")).body.slos as Record<string, any>[])[0];
    expect(s?.budgetRemaining).toBeNull();
    expect(s?.windows["1h"].burnRate).toBeNull();
    expect(s?.alerts.every((a: { firing: boolean }) => !a.firing)).toBe(true);
  });
});
