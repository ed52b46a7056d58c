import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { evaluateSloAlerts, parseAlertConfig } from "../src/insights/alerts.ts";
import { parseSlos } from "../src/insights/slo-config.ts";
import { insertPageViews, type PvRow, resetInsightTables } from "./insights-fixtures.ts";

const T = Date.UTC(2026, 11, 1, 12, 0, 0);
const MIN = 60_000;
const slos = parseSlos('[{"id":"ttfb-99","metric":"ttfb","threshold":800,"target":0.99}]');

/** A receiver that records what it was sent (status to answer settable). */
function receiver() {
  // biome-ignore lint/suspicious/noExplicitAny: the answer's JSON, read field by field in assertions
  const got: { url: string; body: Record<string, any> }[] = [];
  let status = 200;
  const fetch = (async (url: string | URL | Request, init?: RequestInit) => {
    got.push({ url: String(url), body: JSON.parse(String(init?.body)) });
    return new Response("ok", { status });
  }) as typeof globalThis.fetch;
  return { got, fetch, setStatus: (s: number) => (status = s) };
}

/** One page view every 15 s in [from, to); `lcp` as well when given. */
async function traffic(from: number, to: number, ttfb: number, tag: string, lcp?: (i: number) => number) {
  const rows: PvRow[] = [];
  for (let t = from, i = 0; t < to; t += 15_000, i++)
    rows.push({ pvid: `${tag}${i}`, ts: t, ttfb, lcp: lcp?.(i) ?? null });
  await insertPageViews(rows);
}

const states = async () =>
  (
    await env.DB.prepare("SELECT slo_id, severity, state FROM rum_slo_alerts ORDER BY slo_id, severity").all<{
      slo_id: string;
      severity: string;
      state: string;
    }>()
  ).results.map((r) => `${r.slo_id}:${r.severity}:${r.state}`);

const cfg = (format: "slack" | "generic") =>
  parseAlertConfig({
    RUM_ALERT_WEBHOOK: "https://hooks.test/x",
    RUM_ALERT_FORMAT: format,
    RUM_ALERT_DASHBOARD_URL: "https://shop.test/_dash/",
  });

describe("SLO burn alerts", () => {
  beforeEach(async () => {
    await resetInsightTables();
    // 6 h of good TTFB, then from T − 70 min every page view is slow (a full burn).
    await traffic(T - 6 * 60 * MIN, T - 70 * MIN, 200, "ok");
    await traffic(T - 70 * MIN, T, 2500, "slow");
  });

  it("sends one firing message per rule, nothing while it keeps firing, then one resolve", async () => {
    const r = receiver();
    const first = await evaluateSloAlerts({ db: env.DB, slos, config: cfg("slack"), now: T, fetch: r.fetch });
    expect(first.sent.map((e) => `${e.severity}:${e.status}`)).toEqual(["page:firing", "ticket:firing"]);
    expect(r.got).toHaveLength(2);
    expect(r.got[0]?.url).toBe("https://hooks.test/x");
    expect(r.got[0]?.body.text).toMatch(/^:rotating_light: \[PAGE\] SLO "p99 TTFB ≤ 800 ms" is burning/);
    // 28-day budget window (the default): 2 % of it in an hour is a 13.44× burn.
    expect(r.got[0]?.body.text).toContain("burn 1h 100.0×, 5m 100.0× (alert at 13.44×)");
    expect(r.got[0]?.body.text).toContain("https://shop.test/_dash/slo?slo=ttfb-99");
    expect(r.got[0]?.body.blocks[0].text.type).toBe("mrkdwn");

    const again = await evaluateSloAlerts({
      db: env.DB,
      slos,
      config: cfg("slack"),
      now: T + MIN,
      fetch: r.fetch,
    });
    expect(again.sent).toEqual([]);
    expect(again.firing).toHaveLength(2);
    expect(r.got).toHaveLength(2);

    // Recovery: 40 minutes of fast page views bring the 5 min and 30 min windows back under.
    await traffic(T, T + 40 * MIN, 200, "back");
    const later = await evaluateSloAlerts({
      db: env.DB,
      slos,
      config: cfg("slack"),
      now: T + 40 * MIN,
      fetch: r.fetch,
    });
    expect(later.sent.map((e) => `${e.severity}:${e.status}`)).toEqual(["page:resolved", "ticket:resolved"]);
    expect(r.got[2]?.body.text).toMatch(/^:white_check_mark: \[RESOLVED page\]/);
    const quiet = await evaluateSloAlerts({
      db: env.DB,
      slos,
      config: cfg("slack"),
      now: T + 41 * MIN,
      fetch: r.fetch,
    });
    expect(quiet.sent).toEqual([]);
    expect(r.got).toHaveLength(4);
  });

  it("generic format carries status, severity, objective and both burn rates", async () => {
    const r = receiver();
    await evaluateSloAlerts({ db: env.DB, slos, config: cfg("generic"), now: T, fetch: r.fetch });
    expect(r.got[0]?.body).toMatchObject({
      status: "firing",
      severity: "page",
      slo: { id: "ttfb-99", objective: "p99 TTFB ≤ 800 ms", target: 0.99 },
      burnRates: { "1h": 100, "5m": 100 },
      burnRateThreshold: 13.44,
      at: new Date(T).toISOString(),
      dashboard: "https://shop.test/_dash/slo?slo=ttfb-99",
    });
  });

  it("a failed send is retried on the next run, not lost and not doubled", async () => {
    const r = receiver();
    r.setStatus(500);
    const errors: string[] = [];
    const first = await evaluateSloAlerts({
      db: env.DB,
      slos,
      config: cfg("generic"),
      now: T,
      fetch: r.fetch,
      logError: (m) => errors.push(m),
    });
    expect(first.failed).toHaveLength(2);
    expect(errors[0]).toContain("webhook answered 500");
    r.setStatus(200);
    const second = await evaluateSloAlerts({
      db: env.DB,
      slos,
      config: cfg("generic"),
      now: T + MIN,
      fetch: r.fetch,
    });
    expect(second.sent).toHaveLength(2);
    const third = await evaluateSloAlerts({
      db: env.DB,
      slos,
      config: cfg("generic"),
      now: T + 2 * MIN,
      fetch: r.fetch,
    });
    expect(third.sent).toHaveLength(0);
    expect(r.got).toHaveLength(4);
  });

  it("two overlapping runs send each transition once", async () => {
    const r = receiver();
    const runs = await Promise.all([
      evaluateSloAlerts({ db: env.DB, slos, config: cfg("generic"), now: T, fetch: r.fetch }),
      evaluateSloAlerts({ db: env.DB, slos, config: cfg("generic"), now: T, fetch: r.fetch }),
    ]);
    expect(runs[0].sent.length + runs[1].sent.length).toBe(2);
    expect(r.got).toHaveLength(2);
  });

  it("without a webhook nothing is sent or claimed; bad config names the key", async () => {
    const r = receiver();
    const res = await evaluateSloAlerts({
      db: env.DB,
      slos,
      config: parseAlertConfig({}),
      now: T,
      fetch: r.fetch,
    });
    expect(res.firing).toHaveLength(2);
    expect(r.got).toHaveLength(0);
    expect((await env.DB.prepare("SELECT COUNT(*) AS n FROM rum_slo_alerts").first<{ n: number }>())?.n).toBe(
      0,
    );
    expect(() => parseAlertConfig({ RUM_ALERT_WEBHOOK: "ftp://x" })).toThrow(
      /^Invalid config RUM_ALERT_WEBHOOK/,
    );
    expect(() => parseAlertConfig({ RUM_ALERT_FORMAT: "teams" })).toThrow(/^Invalid config RUM_ALERT_FORMAT/);
    expect(parseAlertConfig({}).format).toBe("slack");
  });

  it("no page views keeps the alert as it was: silence (a total outage) never resolves it", async () => {
    const r = receiver();
    await evaluateSloAlerts({ db: env.DB, slos, config: cfg("generic"), now: T, fetch: r.fetch });
    expect(r.got).toHaveLength(2);
    // Seven hours on, no page view in any burn window: no resolve, both still firing.
    const silent = await evaluateSloAlerts({
      db: env.DB,
      slos,
      config: cfg("generic"),
      now: T + 7 * 60 * MIN,
      fetch: r.fetch,
    });
    expect(silent.sent).toEqual([]);
    expect(silent.noData).toEqual([
      { slo: "ttfb-99", severity: "page" },
      { slo: "ttfb-99", severity: "ticket" },
    ]);
    expect(silent.firing).toHaveLength(2);
    expect(await states()).toEqual(["ttfb-99:page:firing", "ttfb-99:ticket:firing"]);
    // Beacons come back, fast: the first evidence resolves each alert, once.
    await traffic(T + 7 * 60 * MIN, T + 7 * 60 * MIN + 10 * MIN, 200, "back");
    const back = await evaluateSloAlerts({
      db: env.DB,
      slos,
      config: cfg("generic"),
      now: T + 7 * 60 * MIN + 10 * MIN,
      fetch: r.fetch,
    });
    expect(back.sent.map((e) => `${e.severity}:${e.status}`)).toEqual(["page:resolved", "ticket:resolved"]);
    expect(back.noData).toEqual([]);
    // Silence before anything fired does not start an alert either.
    await resetInsightTables();
    const none = await evaluateSloAlerts({
      db: env.DB,
      slos,
      config: cfg("generic"),
      now: T,
      fetch: r.fetch,
    });
    expect(none.sent).toEqual([]);
    expect(none.firing).toEqual([]);
    expect(await states()).toEqual([]);
  });
});

describe("burn alerts of the default objectives (p75 LCP)", () => {
  const defaults = parseSlos(undefined);

  beforeEach(async () => {
    await resetInsightTables();
    // 6 h of good LCP and TTFB (1.2 s, 200 ms).
    await traffic(T - 6 * 60 * MIN, T - 70 * MIN, 200, "ok", () => 1200);
  });

  it("a p75 objective that really burns pages (clamped to 90 % bad, 3.6×)", async () => {
    // The last 70 minutes: 19 page views in 20 have LCP 4 s (95 % bad, a 3.8× burn; 13.44× is
    // out of reach for a 25 % budget).
    await traffic(T - 70 * MIN, T, 200, "slow", (i) => (i % 20 === 0 ? 1200 : 4000));
    const r = receiver();
    const res = await evaluateSloAlerts({
      db: env.DB,
      slos: defaults,
      config: cfg("generic"),
      now: T,
      fetch: r.fetch,
    });
    expect(res.sent.map((e) => `${e.slo.id}:${e.severity}:${e.status}`)).toEqual(["lcp-p75:page:firing"]);
    expect(r.got[0]?.body).toMatchObject({
      status: "firing",
      severity: "page",
      slo: { id: "lcp-p75", objective: "p75 LCP ≤ 2.5 s", target: 0.75 },
      burnRates: { "1h": 3.8, "5m": 3.8 },
      burnRateThreshold: 3.6,
    });
  });

  it("a p75 objective at 80 % bad does not page; a 6 h burn over 1.5× tickets", async () => {
    // 80 % bad for 70 minutes: a 3.2× burn, under the 3.6× page; over 6 h only 0.6×.
    await traffic(T - 70 * MIN, T, 200, "slow", (i) => (i % 5 === 0 ? 1200 : 4000));
    const r = receiver();
    const first = await evaluateSloAlerts({
      db: env.DB,
      slos: defaults,
      config: cfg("generic"),
      now: T,
      fetch: r.fetch,
    });
    expect(first.sent).toEqual([]);
    // Four more hours at 50 % bad: the 6 h burn passes 1.5× (half bad = 2×), the 30 min too.
    await traffic(T, T + 4 * 60 * MIN, 200, "half", (i) => (i % 2 === 0 ? 1200 : 4000));
    const later = await evaluateSloAlerts({
      db: env.DB,
      slos: defaults,
      config: cfg("generic"),
      now: T + 4 * 60 * MIN,
      fetch: r.fetch,
    });
    expect(later.sent.map((e) => `${e.slo.id}:${e.severity}:${e.status}`)).toEqual(["lcp-p75:ticket:firing"]);
    expect(r.got[0]?.body.burnRateThreshold).toBe(1.5);
  });
});
