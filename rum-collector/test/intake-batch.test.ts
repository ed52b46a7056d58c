import { env } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { PageViewMessage } from "../../common/src/rum-types.ts";
import type { IntakeStats, PageViewQueue } from "../src/intake/handlers.ts";
import { beaconRequest, fakeQueue, sampleBeacon, testApp } from "./intake-fixtures.ts";

/** An ExecutionContext that records waitUntil promises so a test can wait for the background work. */
function recordingCtx() {
  const promises: Promise<unknown>[] = [];
  const ctx = {
    waitUntil(p: Promise<unknown>) {
      promises.push(p);
    },
    passThroughOnException() {},
    props: {},
  } as unknown as ExecutionContext;
  // waitUntil work may register more (a retry never does, but a flush by size can): loop.
  const drain = async () => {
    for (let seen = 0; seen < promises.length; ) {
      const batch = promises.slice(seen);
      seen = promises.length;
      await Promise.all(batch);
    }
  };
  return { ctx, promises, drain };
}

/** A sleep whose batch-timer waits (`batchMs`) resolve on `open()`; backoff waits resolve at once. */
function gatedSleep(batchMs: number) {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const sleeps: number[] = [];
  const sleep = (ms: number) => {
    sleeps.push(ms);
    return ms === batchMs ? gate : Promise.resolve();
  };
  return { sleep, sleeps, open };
}

function beaconFor(pvid: string) {
  return beaconRequest({ ...sampleBeacon(), pvid });
}

describe("batched intake (RUM_INTAKE_BATCH_SIZE > 1) with a fake queue", () => {
  it("answers 204 before sending and sends fewer queue calls than beacons, each page view once", async () => {
    let stats: (() => IntakeStats) | undefined;
    const { app, queue } = testApp(
      { RUM_INTAKE_BATCH_SIZE: "40", RUM_INTAKE_BATCH_MS: "5" },
      { onIntakeStats: (s) => (stats = s) },
    );
    const { ctx, drain } = recordingCtx();
    const n = 150;
    const statuses = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        Promise.resolve(app.fetch(beaconFor(`pv_batch_${String(i).padStart(6, "0")}`), {}, ctx)).then(
          (r) => r.status,
        ),
      ),
    );
    expect(statuses.every((s) => s === 204)).toBe(true);
    // Full batches left at once; the partial one waits for its timer.
    expect(stats?.().pending).toBeGreaterThan(0);
    await drain();
    expect(queue.sent).toHaveLength(n);
    expect(new Set(queue.sent.map((m) => m.pvid)).size).toBe(n);
    expect(queue.calls.reduce((a, b) => a + b, 0)).toBe(n);
    expect(queue.calls.length).toBeLessThan(n);
    expect(Math.max(...queue.calls)).toBeLessThanOrEqual(40);
    // Each batch travels as one NDJSON queue message.
    expect(queue.contentTypes).toEqual(queue.calls.map(() => "text"));
    expect(stats?.()).toMatchObject({
      mode: "batched",
      accepted: n,
      sent: n,
      failed: 0,
      pending: 0,
      queueCalls: queue.calls.length,
    });
  });

  it("enqueues the same enriched message as the unbatched path", async () => {
    const batched = testApp({ RUM_INTAKE_BATCH_MS: "1" });
    const unbatched = testApp({ RUM_INTAKE_BATCH_SIZE: "1" });
    const { ctx, drain } = recordingCtx();
    const init = { cf: { country: "DE", colo: "FRA", asn: 3320 } };
    await batched.app.fetch(beaconRequest(sampleBeacon(), init), {}, ctx);
    await unbatched.app.fetch(beaconRequest(sampleBeacon(), init), {}, recordingCtx().ctx);
    await drain();
    expect(batched.queue.sent).toHaveLength(1);
    expect(batched.queue.sent).toEqual(unbatched.queue.sent);
    // Batched page views travel as their JSON text (serialised once, in the intake).
    expect(batched.queue.contentTypes).toEqual(["text"]);
  });

  it("retries a failed sendBatch and stores the batch once", async () => {
    const inner = fakeQueue();
    let failuresLeft = 2;
    const queue: PageViewQueue = {
      send: (m) => inner.send(m),
      async sendBatch(messages) {
        if (failuresLeft-- > 0) throw new Error("queue hiccup");
        return inner.sendBatch(messages);
      },
    };
    const { sleep, sleeps, open } = gatedSleep(7);
    const errors: string[] = [];
    const { app } = testApp({ RUM_INTAKE_BATCH_MS: "7" }, { queue, logError: (m) => errors.push(m), sleep });
    const { ctx, drain } = recordingCtx();
    for (let i = 0; i < 5; i++) {
      expect((await app.fetch(beaconFor(`pv_retry_${i}_abcdef`), {}, ctx)).status).toBe(204);
    }
    open();
    await drain();
    expect(inner.sent.map((m) => m.pvid)).toEqual([0, 1, 2, 3, 4].map((i) => `pv_retry_${i}_abcdef`));
    expect(inner.calls).toEqual([5]);
    expect(sleeps).toEqual([7, 100, 200]); // batch wait, then two backoffs
    expect(errors).toEqual([]);
  });

  it("drops the batch after every retry failed: onDropped logs the count, stats count it", async () => {
    const errors: string[] = [];
    let stats: (() => IntakeStats) | undefined;
    const { sleep, open } = gatedSleep(7);
    const { app, queue } = testApp(
      { RUM_INTAKE_BATCH_SIZE: "3", RUM_INTAKE_BATCH_MS: "7" },
      { batchRetries: 2, sleep, logError: (m) => errors.push(m), onIntakeStats: (s) => (stats = s) },
    );
    queue.fail = true;
    const { ctx, drain } = recordingCtx();
    for (let i = 0; i < 4; i++) {
      // A 204 means "accepted into the isolate's buffer": the outage is not visible to the client.
      expect((await app.fetch(beaconFor(`pv_drop_${i}_abcdef`), {}, ctx)).status).toBe(204);
    }
    open();
    await drain();
    expect(queue.sent).toHaveLength(0);
    expect(queue.failedCalls).toBe(6); // 2 batches (3 + 1) × (1 attempt + 2 retries)
    expect(errors).toEqual([
      "rum intake: dropped 3 accepted page views after 2 retries: queue down",
      "rum intake: dropped 1 accepted page views after 2 retries: queue down",
    ]);
    expect(stats?.()).toMatchObject({ accepted: 4, sent: 0, failed: 4, pending: 0, retries: 4 });
  });

  it("without an ExecutionContext it falls back to the awaited send (503 on failure)", async () => {
    const { app, queue } = testApp({ RUM_INTAKE_BATCH_SIZE: "100" });
    expect((await app.fetch(beaconFor("pv_noctx_abcdef"))).status).toBe(204);
    expect(queue.calls).toEqual([1]);
    queue.fail = true;
    expect((await app.fetch(beaconFor("pv_noctx_abcdeg"))).status).toBe(503);
  });
});

describe("unbatched intake (RUM_INTAKE_BATCH_SIZE=1)", () => {
  it("sends one awaited message per beacon before the 204", async () => {
    const { app, queue } = testApp({ RUM_INTAKE_BATCH_SIZE: "1" });
    const { ctx, promises } = recordingCtx();
    for (let i = 0; i < 3; i++) {
      expect((await app.fetch(beaconFor(`pv_single_${i}_abcdef`), {}, ctx)).status).toBe(204);
      expect(queue.sent).toHaveLength(i + 1); // already sent when the 204 arrives
    }
    expect(queue.calls).toEqual([1, 1, 1]);
    expect(promises).toHaveLength(0); // no background work
  });

  it("answers 503 with Retry-After when the queue refuses, and counts it as refused", async () => {
    let stats: (() => IntakeStats) | undefined;
    const { app, queue } = testApp({ RUM_INTAKE_BATCH_SIZE: "1" }, { onIntakeStats: (s) => (stats = s) });
    queue.fail = true;
    const res = await app.fetch(beaconFor("pv_refused_abcdef"), {}, recordingCtx().ctx);
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(((await res.json()) as { error: string }).error).toContain("queue unavailable");
    expect(stats?.()).toMatchObject({ mode: "unbatched", accepted: 0, refused: 1, failed: 0 });
  });
});

describe("batched intake through the real root Worker, queue and consumer", () => {
  it("stores every one of many concurrent beacons exactly once in D1", async () => {
    const origin = "http://localhost:8000";
    const prefix = `pv_bat_${crypto.randomUUID().slice(0, 8)}_`;
    const n = 250; // more than two full batches of 100
    const body = (pvid: string) =>
      JSON.stringify({ v: 1, site: "demo", pvid, seq: 0, url: `${origin}/p/7`, vitals: { ttfb: 90 } });
    const statuses = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        exports.default
          .fetch("http://localhost:8787/_rum/v1/beacon", {
            method: "POST",
            // One client address each: the default rate limit (120/min per client) stays on.
            headers: { "content-type": "text/plain", origin, "cf-connecting-ip": `198.51.100.${i}` },
            body: body(`${prefix}${i}`),
          })
          .then((r) => r.status),
      ),
    );
    expect(statuses.filter((s) => s !== 204)).toEqual([]);
    let count = 0;
    for (let i = 0; i < 150 && count < n; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM rum_page_views WHERE pvid LIKE ?1")
        .bind(`${prefix}%`)
        .first<{ n: number }>();
      count = row?.n ?? 0;
    }
    expect(count).toBe(n);
    const distinct = await env.DB.prepare(
      "SELECT COUNT(DISTINCT pvid) AS n FROM rum_page_views WHERE pvid LIKE ?1",
    )
      .bind(`${prefix}%`)
      .first<{ n: number }>();
    expect(distinct?.n).toBe(n);
  });
});

// Type check: the fake queue implements the intake's queue interface.
const _typed: PageViewQueue = fakeQueue();
void _typed;
void (null as unknown as PageViewMessage);
