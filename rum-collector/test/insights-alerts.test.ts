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

async function traffic(from: number, to: number, ttfb: number, tag: string) {
  const rows: PvRow[] = [];
  for (let t = from, i = 0; t < to; t += 15_000, i++) rows.push({ pvid: `${tag}${i}`, ts: t, ttfb });
  await insertPageViews(rows);
}

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
    expect(r.got[0]?.body.text).toContain("burn 1h 100.0×, 5m 100.0× (alert at 14.4×)");
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
      burnRateThreshold: 14.4,
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
});
