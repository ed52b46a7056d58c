/**
 * Nothing lost: a D1 outage longer than the old retries (3, a few seconds apart) is ridden out
 * with exponential backoff, every page view stored once after D1 returns; a message that still
 * fails after max_retries goes to the dead-letter queue, is parked in R2 and replayed.
 */
import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import type { RumQueueMessage } from "../../common/src/rum-types.ts";
import { DEFAULT_DEAD_LETTER_QUEUE } from "../src/config.ts";
import { handleQueue as workerQueue } from "../src/index.ts";
import { createQueryRoutes } from "../src/query/routes.ts";
import { handleQueue, retryDelaySeconds } from "../src/store/consumer.ts";
import { pageView, resetRumTables, withEdgeLogs } from "./store-fixtures.ts";

const T0 = Date.UTC(2026, 10, 24, 10, 0, 0);

/** D1 that fails every call while `down` is true (an outage), the real one otherwise. */
function flakyDb(state: { down: boolean }): D1Database {
  return new Proxy(env.DB, {
    get(target, prop) {
      const v = Reflect.get(target, prop);
      if (typeof v !== "function") return v;
      return (...a: unknown[]) => {
        if (state.down && (prop === "batch" || prop === "exec"))
          return Promise.reject(new Error("D1_ERROR: Network connection lost."));
        if (state.down && prop === "prepare") {
          const stmt = (v as (...x: unknown[]) => D1PreparedStatement).apply(target, a);
          return new Proxy(stmt, {
            get(s, p) {
              const f = Reflect.get(s, p);
              if (p === "bind")
                return (...b: unknown[]) => {
                  const bound = (f as (...x: unknown[]) => D1PreparedStatement).apply(s, b);
                  return new Proxy(bound, {
                    get(bs, bp) {
                      const g = Reflect.get(bs, bp);
                      if (["run", "all", "first", "raw"].includes(String(bp)))
                        return () => Promise.reject(new Error("D1_ERROR: Network connection lost."));
                      return typeof g === "function" ? g.bind(bs) : g;
                    },
                  });
                };
              if (["run", "all", "first", "raw"].includes(String(p)))
                return () => Promise.reject(new Error("D1_ERROR: Network connection lost."));
              return typeof f === "function" ? f.bind(s) : f;
            },
          });
        }
        return (v as (...x: unknown[]) => unknown).apply(target, a);
      };
    },
  });
}

async function deliver(queue: string, bodies: unknown[], attempts: number, e: Env, handler = handleQueue) {
  const batch = createMessageBatch(
    queue,
    bodies.map((body, i) => ({ id: `out-m${i}`, timestamp: new Date(T0), attempts, body })),
  );
  // Records the delay each retry asks for (the test harness's result keeps only the ids).
  const delays: Array<{ msgId: string; delaySeconds: number | undefined }> = [];
  for (const m of batch.messages) {
    const retry = m.retry.bind(m);
    m.retry = (o?: QueueRetryOptions) => {
      delays.push({ msgId: m.id, delaySeconds: o?.delaySeconds });
      retry(o);
    };
  }
  const ctx = createExecutionContext();
  await handler(batch as MessageBatch<RumQueueMessage>, e, ctx);
  return { ...(await getQueueResult(batch, ctx)), delays };
}

async function count(): Promise<number> {
  const r = await env.DB.prepare("SELECT COUNT(*) AS n FROM rum_page_views").first<{ n: number }>();
  return r?.n ?? 0;
}

describe("nothing lost", () => {
  beforeEach(async () => {
    await resetRumTables();
    for (const prefix of ["dlq/", "raw/", "parquet/"]) {
      const listed = await env.RUM_ARCHIVE.list({ prefix });
      if (listed.objects.length) await env.RUM_ARCHIVE.delete(listed.objects.map((o) => o.key));
    }
  });

  it("backs off exponentially (5 s doubling, capped at 5 min)", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map(retryDelaySeconds)).toEqual([5, 10, 20, 40, 80, 160, 300, 300]);
    // With max_retries = 12 (wrangler.toml) the queue waits this long before the dead-letter queue.
    const total = Array.from({ length: 12 }, (_, i) => retryDelaySeconds(i + 1)).reduce((a, b) => a + b);
    expect(total).toBeGreaterThanOrEqual(30 * 60);
  });

  it("a D1 outage over six deliveries (> 5 min of backoff) loses no page view", async () => {
    const state = { down: true };
    const e = { ...env, DB: flakyDb(state) } as Env;
    const body = withEdgeLogs(
      Array.from({ length: 40 }, (_, i) => pageView({ pvid: `outage${String(i).padStart(3, "0")}`, ts: T0 })),
    )
      .map((m) => JSON.stringify(m))
      .join("\n");
    let waited = 0;
    for (let attempt = 1; attempt <= 6; attempt++) {
      const r = await deliver("rum-events", [body], attempt, e);
      expect(r.explicitAcks).toEqual([]);
      expect(r.retryMessages).toEqual([{ msgId: "out-m0" }]);
      expect(r.delays).toEqual([{ msgId: "out-m0", delaySeconds: retryDelaySeconds(attempt) }]);
      waited += retryDelaySeconds(attempt);
    }
    expect(waited).toBeGreaterThan(300);
    expect(await count()).toBe(0);
    state.down = false;
    const ok = await deliver("rum-events", [body], 7, e);
    expect(ok.retryMessages).toEqual([]);
    expect(ok.explicitAcks).toEqual(["out-m0"]);
    expect(await count()).toBe(40);
    const rolled = await env.DB.prepare(
      "SELECT SUM(views) AS v FROM rum_rollups WHERE granularity = 'minute' AND device <> '*'",
    ).first<{ v: number }>();
    expect(rolled?.v).toBe(40);
  });

  it("dead letters are parked in R2 and replayed into the store", async () => {
    const msgs = [pageView({ pvid: "dlq00001", ts: T0 }), pageView({ pvid: "dlq00002", ts: T0 })];
    const park = await deliver(
      DEFAULT_DEAD_LETTER_QUEUE,
      [msgs.map((m) => JSON.stringify(m)).join("\n")],
      1,
      env,
      workerQueue,
    );
    expect(park.explicitAcks).toEqual(["out-m0"]);
    expect((await env.RUM_ARCHIVE.list({ prefix: "dlq/" })).objects).toHaveLength(1);
    expect(await count()).toBe(0);

    const sent: Array<{ body: unknown }> = [];
    const queue = {
      sendBatch: async (b: Array<{ body: unknown }>) => void sent.push(...b),
    } as unknown as Queue;
    const app = createQueryRoutes({
      db: env.DB,
      queryToken: "t",
      now: () => T0,
      replay: { archive: env.RUM_ARCHIVE, queue },
    });
    const res = await app.request("/v1/replay?source=dlq", {
      method: "POST",
      headers: { Authorization: "Bearer t" },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      source: "dlq",
      objects: 1,
      records: 2,
      messages: 1,
      more: false,
    });
    expect((await env.RUM_ARCHIVE.list({ prefix: "dlq/" })).objects).toHaveLength(0);
    // What the replay sent is an ordinary rum-events message: the consumer stores it.
    const stored = await deliver(
      "rum-events",
      sent.map((s) => s.body),
      1,
      env,
    );
    expect(stored.retryMessages).toEqual([]);
    expect(await count()).toBe(2);
  });

  it("knows the dead-letter queue by RUM_DEAD_LETTER_QUEUE (production's own), and refuses a bad name", async () => {
    const body = [pageView({ pvid: "dlqprod1", ts: T0 })].map((m) => JSON.stringify(m)).join("\n");
    const prod = { ...env, RUM_DEAD_LETTER_QUEUE: "rum-events-production-dlq" } as Env;
    const park = await deliver("rum-events-production-dlq", [body], 1, prod, workerQueue);
    expect(park.explicitAcks).toEqual(["out-m0"]);
    expect((await env.RUM_ARCHIVE.list({ prefix: "dlq/" })).objects).toHaveLength(1);
    expect(await count()).toBe(0);
    // With another name configured, the default name is an ordinary queue: its page views are stored.
    const stored = await deliver(DEFAULT_DEAD_LETTER_QUEUE, [body], 1, prod, workerQueue);
    expect(stored.retryMessages).toEqual([]);
    expect(await count()).toBe(1);
    expect((await env.RUM_ARCHIVE.list({ prefix: "dlq/" })).objects).toHaveLength(1);

    const bad = { ...env, RUM_DEAD_LETTER_QUEUE: "Rum Events DLQ" } as unknown as Env;
    await expect(deliver("rum-events-production-dlq", [body], 1, bad, workerQueue)).rejects.toThrow(
      /^Invalid config RUM_DEAD_LETTER_QUEUE: expected a queue name .*\(got "Rum Events DLQ"\)$/,
    );
    expect((await env.RUM_ARCHIVE.list({ prefix: "dlq/" })).objects).toHaveLength(1);
    expect(await count()).toBe(1);
  });

  it("replays the archived NDJSON of an hour (idempotent: stored once)", async () => {
    const msgs = withEdgeLogs([pageView({ pvid: "arch0001", ts: T0 + 60_000 })]);
    await deliver("rum-events", [msgs.map((m) => JSON.stringify(m)).join("\n")], 1, env);
    expect(await count()).toBe(1);
    const sent: Array<{ body: unknown }> = [];
    const queue = {
      sendBatch: async (b: Array<{ body: unknown }>) => void sent.push(...b),
    } as unknown as Queue;
    const app = createQueryRoutes({
      db: env.DB,
      queryToken: "t",
      now: () => T0,
      replay: { archive: env.RUM_ARCHIVE, queue },
    });
    const range = `from=${T0}&to=${T0 + 3_600_000}`;
    const res = await app.request(`/v1/replay?source=archive&${range}`, {
      method: "POST",
      headers: { Authorization: "Bearer t" },
    });
    const body = (await res.json()) as { records: number };
    expect(body.records).toBeGreaterThanOrEqual(2);
    await deliver(
      "rum-events",
      sent.map((s) => s.body),
      1,
      env,
    );
    expect(await count()).toBe(1);
    const bad = await app.request("/v1/replay?source=archive&from=x", {
      method: "POST",
      headers: { Authorization: "Bearer t" },
    });
    expect(bad.status).toBe(400);
  });
});
