/**
 * Bounded by design: page groups per site are capped (later ones count as "(other)", names cut
 * to 100 characters); the cron's steps are independent (retention runs when downsampling fails)
 * and downsampling pages through a bucket's rows.
 */
import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  env,
  getQueueResult,
} from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import type { RumQueueMessage } from "../../common/src/rum-types.ts";
import { handleQueue } from "../src/store/consumer.ts";
import { downsample } from "../src/store/cron.ts";
import { handleScheduled } from "../src/store/maintenance.ts";
import { HOUR_MS } from "../src/store/metrics.ts";
import { storeMessages } from "../src/store/write-messages.ts";
import { pageView, resetRumTables, withEdgeLogs } from "./store-fixtures.ts";

const T0 = Date.UTC(2026, 10, 24, 10, 0, 0);
let batchNo = 0;

async function runBatch(bodies: RumQueueMessage[], e: Env) {
  batchNo++;
  const batch = createMessageBatch<RumQueueMessage>(
    "rum-events",
    bodies.map((body, i) => ({ id: `lim${batchNo}-m${i}`, timestamp: new Date(T0), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await handleQueue(batch, e, ctx);
  return getQueueResult(batch, ctx);
}

async function groups(): Promise<Map<string, number>> {
  const r = await env.DB.prepare(
    "SELECT page_group, SUM(views) AS v FROM rum_rollups WHERE granularity = 'minute' AND device <> '*' GROUP BY page_group",
  ).all<{ page_group: string; v: number }>();
  return new Map(r.results.map((x) => [x.page_group, x.v]));
}

describe("page groups per site are capped", () => {
  beforeEach(async () => {
    await resetRumTables();
    await env.DB.exec("DELETE FROM rum_page_groups");
  });

  it("admits RUM_MAX_PAGE_GROUPS groups, counts the rest as (other), cuts long names", async () => {
    const e = { ...env, RUM_MAX_PAGE_GROUPS: "3" } as Env;
    const long = "x".repeat(300);
    const names = ["g1", "g2", long, "g4", "g5", "g6"];
    const first = names.map((g, i) => pageView({ pvid: `cap${i}aaaa`, ts: T0, pageGroup: g }));
    const res = await runBatch(withEdgeLogs(first), e);
    expect(res.retryMessages).toEqual([]);
    // Admitted groups keep counting in later batches; new ones still go to (other).
    const more = ["g1", "g7"].map((g, i) => pageView({ pvid: `cap${i}bbbb`, ts: T0, pageGroup: g }));
    await runBatch(withEdgeLogs(more), e);
    const got = await groups();
    expect([...got.keys()].sort()).toEqual(["(other)", "g1", "g2", "x".repeat(100)].sort());
    expect(got.get("g1")).toBe(2);
    expect(got.get("(other)")).toBe(4);
    const stored = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM rum_page_groups WHERE site = 'demo'",
    ).first<{
      n: number;
    }>();
    expect(stored?.n).toBe(3);
    // The raw rows carry the capped group too (so later beacons find their rollup rows).
    const raw = await env.DB.prepare("SELECT page_group FROM rum_page_views WHERE pvid = 'cap5aaaa'").first<{
      page_group: string;
    }>();
    expect(raw?.page_group).toBe("(other)");
  });

  it("rejects a bad RUM_MAX_PAGE_GROUPS by name (the batch is retried, nothing is lost)", async () => {
    const e = { ...env, RUM_MAX_PAGE_GROUPS: "lots" } as Env;
    const res = await runBatch([pageView({ pvid: "capbad01", ts: T0 })], e);
    expect(res.retryMessages).toHaveLength(1);
  });
});

describe("cron steps are independent and bounded", () => {
  beforeEach(resetRumTables);

  it("retention runs while downsampling fails, and the failure is recorded", async () => {
    const old = T0 - 10 * 86_400_000;
    await storeMessages(env.DB, withEdgeLogs([pageView({ pvid: "oldpv001", ts: old })]), { now: old });
    const broken = new Proxy(env.DB, {
      get(target, prop) {
        if (prop === "prepare")
          return (sql: string) => {
            if (sql.includes("SELECT MIN(ts) AS ts FROM rum_rollups"))
              throw new Error("D1_ERROR: downsampling broke");
            return target.prepare(sql);
          };
        const v = Reflect.get(target, prop);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    await handleScheduled(
      createScheduledController({ scheduledTime: T0, cron: "*/5 * * * *" }),
      { ...env, DB: broken },
      createExecutionContext(),
    );
    const left = await env.DB.prepare("SELECT COUNT(*) AS n FROM rum_page_views").first<{ n: number }>();
    expect(left?.n).toBe(0);
    const state = await env.DB.prepare("SELECT step, last_error FROM rum_cron_state ORDER BY step").all<{
      step: string;
      last_error: string | null;
    }>();
    const by = new Map(state.results.map((r) => [r.step, r.last_error]));
    expect(by.get("downsample")).toMatch(/downsampling broke/);
    expect(by.get("retention")).toBeNull();
    expect(by.get("archive-retention")).toBeNull();
  });

  it("downsampling pages through more rows than one page (1,000) and loses none", async () => {
    const msgs = [];
    const countries = Array.from({ length: 26 }, (_, i) => `C${String.fromCharCode(65 + i)}`);
    // 45 minutes × 26 countries = 1,170 minute rows in one hour.
    for (let m = 0; m < 45; m++)
      for (const c of countries)
        msgs.push(pageView({ pvid: `pg${m}-${c}xx`, ts: T0 + m * 60_000, country: c, lcp: 1000 + m }));
    for (let i = 0; i < msgs.length; i += 100)
      await storeMessages(env.DB, withEdgeLogs(msgs.slice(i, i + 100)), { now: T0 });
    const minuteRows = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM rum_rollups WHERE granularity = 'minute' AND device <> '*'",
    ).first<{ n: number }>();
    expect(minuteRows?.n).toBe(1170);
    const r = await downsample(env.DB, T0 + HOUR_MS + 10 * 60_000);
    expect(r.hours).toBe(1);
    const hour = await env.DB.prepare(
      "SELECT COUNT(*) AS rows, SUM(views) AS v FROM rum_rollups WHERE granularity = 'hour' AND device <> '*'",
    ).first<{ rows: number; v: number }>();
    expect(hour).toEqual({ rows: 26, v: 1170 });
    const totals = await env.DB.prepare(
      "SELECT SUM(views) AS v FROM rum_rollups WHERE granularity = 'hour' AND device = '*'",
    ).first<{ v: number }>();
    expect(totals?.v).toBe(1170);
  });
});
