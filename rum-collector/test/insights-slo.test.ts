import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import {
  alertThresholds,
  budgetRemaining,
  burnRate,
  CLAMP_BAD_SHARE,
  maxBurnRate,
  ruleFires,
} from "../src/insights/burn.ts";
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
    // A window without page views is no evidence either way: null, the alert keeps its state.
    expect(ruleFires(rule, { "1h": 15, "5m": null })).toBeNull();
    expect(ruleFires(rule, { "1h": null, "5m": null })).toBeNull();
    expect(ruleFires(rule, {})).toBeNull();
  });

  const rates = (target: number, days: number) =>
    alertThresholds(target, days).map((r) => [r.severity, r.long, r.short, r.burnRate, r.clamped]);

  it("thresholds are 2 % of the budget in 1 h and 5 % in 6 h: 14.4× and 6× only for 30 days", () => {
    expect(rates(0.99, 30)).toEqual([
      ["page", "1h", "5m", 14.4, false],
      ["ticket", "6h", "30m", 6, false],
    ]);
    expect(rates(0.99, 28)).toEqual([
      ["page", "1h", "5m", 13.44, false],
      ["ticket", "6h", "30m", 5.6, false],
    ]);
    expect(rates(0.999, 7)).toEqual([
      ["page", "1h", "5m", 3.36, false],
      ["ticket", "6h", "30m", 1.4, false],
    ]);
    // Short budget windows: 2 % of a 1-day budget in an hour is a 0.48× burn, which would page
    // while the objective is met; no threshold goes under 1×.
    expect(rates(0.99, 1)).toEqual([
      ["page", "1h", "5m", 1, true],
      ["ticket", "6h", "30m", 1, true],
    ]);
  });

  it("a low target that cannot burn that fast is clamped: page at 90 % bad, ticket in the workbook ratio", () => {
    // p75: at most 4× (every page view bad), under 13.44× and 5.6×.
    expect(maxBurnRate(0.75)).toBe(4);
    expect(rates(0.75, 28)).toEqual([
      ["page", "1h", "5m", 3.6, true],
      ["ticket", "6h", "30m", 1.5, true],
    ]);
    // The same for any budget window: the clamp depends on the target only.
    expect(rates(0.75, 30)).toEqual(rates(0.75, 28));
    // p90 (max 10×): the page is clamped to 9×, the ticket keeps 6 ÷ 14.4 of it.
    expect(rates(0.9, 30)).toEqual([
      ["page", "1h", "5m", 9, true],
      ["ticket", "6h", "30m", 3.75, true],
    ]);
    // Every threshold of every allowed config is reachable, and the page is the higher one.
    for (const target of [0.01, 0.25, 0.5, 0.75, 0.9, 0.93, 0.95, 0.99, 0.999])
      for (const days of [1, 7, 14, 28, 30]) {
        const [page, ticket] = alertThresholds(target, days);
        expect(page?.burnRate).toBeLessThanOrEqual(Math.max(1, CLAMP_BAD_SHARE * maxBurnRate(target)) + 1e-9);
        expect(page?.burnRate).toBeLessThanOrEqual(maxBurnRate(target));
        expect(ticket?.burnRate).toBeLessThanOrEqual(page?.burnRate ?? 0);
      }
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
    // p75 thresholds are clamped to 3.6× / 1.5×: a 1 h burn of 1.6× fires neither.
    expect(lcp?.alerts.map((a: { burnRate: number; firing: boolean }) => [a.burnRate, a.firing])).toEqual([
      [3.6, false],
      [1.5, false],
    ]);
    // TTFB 99 %: the /c/ page view counts, weighted 2.
    expect(ttfb?.windows["5m"]).toMatchObject({ total: 27, bad: 20 });
    expect(ttfb?.windows["1h"].burnRate).toBeCloseTo(40 / 102 / 0.01);
    expect(ttfb?.alerts).toEqual([
      // Default 28-day budget window: 2 % in 1 h = 13.44×, 5 % in 6 h = 5.6×.
      expect.objectContaining({ severity: "page", long: "1h", short: "5m", burnRate: 13.44, firing: true }),
      expect.objectContaining({ severity: "ticket", long: "6h", short: "30m", burnRate: 5.6, firing: true }),
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
    expect(s?.alerts.map((a: { firing: boolean | null }) => a.firing)).toEqual([null, null]);
  });
});
