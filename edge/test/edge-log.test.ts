/** The edge's log senders: the image log's NDJSON lines and the page-view log's columnar batches. */
import { describe, expect, it, vi } from "vitest";
import { QUEUE_MAX_MESSAGE_BYTES } from "../../common/src/batch-sender.ts";
import type { EdgeLogMessage } from "../../common/src/rum-types.ts";
import { classifyUserAgent } from "../../common/src/user-agent.ts";
import { readMessageBody } from "../../rum-collector/src/store/consumer.ts";
import {
  createLogSender,
  EdgeLogger,
  LOG_MAX_RECORDS,
  type LogQueue,
  type PageViewFacts,
} from "../src/edge-log.ts";

type Msg = { body: string; contentType: "text" };

function harness() {
  const messages: Msg[] = [];
  const owner: { queue: LogQueue | null } = {
    queue: {
      async sendBatch(list) {
        for (const m of list) messages.push(m);
      },
    },
  };
  const pending: Promise<unknown>[] = [];
  const waitUntil = (p: Promise<unknown>) => {
    pending.push(p);
  };
  return { messages, owner, waitUntil, settle: () => Promise.all(pending) };
}

describe("createLogSender", () => {
  it("sends more than 100 records as one packed message (one queue write), each line the record's JSON", async () => {
    const h = harness();
    const sender = createLogSender<{ i: number; path: string }>(h.owner, 5, "test log", "records");
    const records = Array.from({ length: 250 }, (_, i) => ({ i, path: `/p/${i}?q=\u00e9\n"x"` }));
    for (const r of records) sender.add(r, h.waitUntil);
    await h.settle();
    expect(h.messages).toHaveLength(1);
    expect(h.messages[0]?.contentType).toBe("text");
    const lines = h.messages[0]?.body.split("\n") ?? [];
    expect(lines).toEqual(records.map((r) => JSON.stringify(r)));
  });

  it("starts a new message before one would exceed the queue's message size; nothing lost, order kept", async () => {
    const h = harness();
    const sender = createLogSender<{ i: number; pad: string }>(h.owner, 5, "test log", "records");
    // Multi-byte text: the cap counts UTF-8 bytes, not string length.
    const pad = "\u20ac".repeat(1000);
    const n = 200;
    for (let i = 0; i < n; i++) sender.add({ i, pad }, h.waitUntil);
    await h.settle();
    expect(h.messages.length).toBeGreaterThan(1);
    for (const m of h.messages) {
      expect(new TextEncoder().encode(m.body).byteLength).toBeLessThanOrEqual(QUEUE_MAX_MESSAGE_BYTES);
    }
    const ids = h.messages.flatMap((m) => m.body.split("\n").map((l) => (JSON.parse(l) as { i: number }).i));
    expect(ids).toEqual(Array.from({ length: n }, (_, i) => i));
  });

  it("caps a batch at LOG_MAX_RECORDS records even when they are tiny", async () => {
    const h = harness();
    const sender = createLogSender<number>(h.owner, 5, "test log", "records");
    for (let i = 0; i < LOG_MAX_RECORDS + 1; i++) sender.add(i, h.waitUntil);
    await h.settle();
    expect(h.messages.map((m) => m.body.split("\n").length)).toEqual([LOG_MAX_RECORDS, 1]);
  });

  it("reads the owner's queue when a batch leaves, not when a record is added", async () => {
    const h = harness();
    const queue = h.owner.queue;
    h.owner.queue = null;
    const sender = createLogSender<number>(h.owner, 60_000, "test log", "records");
    sender.add(1, () => {});
    h.owner.queue = queue;
    sender.add(2, () => {});
    await sender.flush();
    expect(h.messages.map((m) => m.body)).toEqual(["1\n2"]);
  });
});

describe("EdgeLogger", () => {
  const ctx = (pending: Promise<unknown>[]) =>
    ({
      waitUntil: (p: Promise<unknown>) => pending.push(p),
      passThroughOnException() {},
    }) as unknown as ExecutionContext;

  function request(headers: Record<string, string>, cf?: Record<string, unknown>): Request {
    const r = new Request("https://shop.example/", { headers });
    if (cf !== undefined) Object.defineProperty(r, "cf", { value: cf });
    return r;
  }

  const facts = (o: Partial<PageViewFacts>): PageViewFacts => ({
    rid: "a1b2c3d4e5f6-1z",
    path: "/c/4",
    status: 200,
    cacheStatus: "HIT",
    edgeMs: 0.25,
    originMs: null,
    appMs: null,
    request: request({}),
    ts: 1_764_000_000_123,
    ...o,
  });

  function collect() {
    const { messages, owner } = harness();
    const queue = owner.queue as LogQueue;
    return { messages, queue, records: () => messages.flatMap((m) => readMessageBody(m.body).messages) };
  }

  it("delivers every field of every page view, as the consumer reads it", async () => {
    const q = collect();
    const logger = new EdgeLogger(q.queue, 'site "é"', 5, (p) => (p.startsWith("/p/") ? "product" : "other"));
    const cases: PageViewFacts[] = [
      // The request that opens the batch gives the batch its colo (one isolate, one colo).
      facts({ request: request({ "cf-ipcountry": "NL" }, { country: "BE", colo: "AMS" }) }),
      facts({ request: request({ "cf-ipcountry": "T1" }) }),
      facts({ path: '/p/1?q="x"\n\u2028', cacheStatus: "MISS", originMs: 12.3456789, appMs: 3 }),
      facts({
        path: "/p/\u00e9\u{1f600}",
        rid: 'odd "rid" \u00e9',
        edgeMs: Number.NaN,
        appMs: Number.POSITIVE_INFINITY,
      }),
      facts({
        path: `/${"x".repeat(2000)}`,
        request: request(
          {
            "user-agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 Safari/604.1",
          },
          { country: "DE", colo: "FRA" },
        ),
      }),
      facts({ request: request({ "cf-ipcountry": "d\u00c9" }), status: 404, cacheStatus: "STALE" }),
    ];
    const pending: Promise<unknown>[] = [];
    for (const f of cases) logger.log(f, ctx(pending));
    await logger.flush();
    await Promise.all(pending);
    expect(q.messages).toHaveLength(1);
    expect(q.records()).toEqual(
      cases.map((f): EdgeLogMessage => {
        const country = f.request.headers.get("cf-ipcountry");
        const ua = classifyUserAgent(f.request.headers.get("user-agent"));
        const us = (x: number | null) =>
          x === null || !Number.isFinite(x) ? null : Math.round(x * 1000) / 1000;
        return {
          kind: "edge",
          ts: f.ts,
          rid: f.rid,
          site: 'site "é"',
          pageGroup: f.path.startsWith("/p/") ? "product" : "other",
          path: f.path,
          status: f.status,
          cacheStatus: f.cacheStatus,
          edgeMs: us(f.edgeMs) ?? 0,
          originMs: us(f.originMs),
          appMs: us(f.appMs),
          country: country === "NL" || country === "T1" ? country : "XX",
          colo: "AMS",
          device: ua.device,
          browser: ua.browser,
        };
      }),
    );
  });

  it("takes the country from EDGE_LOG_COUNTRY's source and the colo once per batch", async () => {
    const q = collect();
    const views = (source: "header" | "cf" | "off") => {
      const logger = new EdgeLogger(q.queue, "s", 60_000, undefined, source);
      const pending: Promise<unknown>[] = [];
      logger.log(
        facts({ request: request({ "cf-ipcountry": "NL" }, { country: "BE", colo: "AMS" }) }),
        ctx(pending),
      );
      logger.log(facts({ request: request({}, { country: "D\u00c9", colo: "FRA" }) }), ctx(pending));
      logger.log(facts({ request: request({ "cf-ipcountry": "nl" }, { country: 7 }) }), ctx(pending));
      return logger.flush();
    };
    await views("header");
    await views("cf");
    await views("off");
    const got = q.records().map((r) => `${(r as EdgeLogMessage).country} ${(r as EdgeLogMessage).colo}`);
    expect(got).toEqual([
      // header: CF-IPCountry as Cloudflare writes it (two capitals or digits), anything else XX.
      ...["NL AMS", "XX AMS", "XX AMS"],
      // cf: request.cf.country as the runtime gives it.
      ...["BE AMS", "D\u00c9 AMS", "XX AMS"],
      ...["XX AMS", "XX AMS", "XX AMS"],
    ]);
  });

  it("reads the colo again for each new batch, and LOCAL when request.cf has none", async () => {
    const q = collect();
    const logger = new EdgeLogger(q.queue, "s", 60_000);
    const pending: Promise<unknown>[] = [];
    logger.log(facts({ rid: "a", request: request({}) }), ctx(pending));
    logger.log(facts({ rid: "b", request: request({}, { colo: "FRA" }) }), ctx(pending));
    await logger.flush();
    logger.log(facts({ rid: "c", request: request({}, { colo: "FRA" }) }), ctx(pending));
    await logger.flush();
    expect(q.records().map((r) => `${(r as EdgeLogMessage).rid} ${(r as EdgeLogMessage).colo}`)).toEqual([
      "a LOCAL",
      "b LOCAL",
      "c FRA",
    ]);
  });

  it("fills queue messages up to their byte limit, never beyond, in order and without loss", async () => {
    const q = collect();
    const logger = new EdgeLogger(q.queue, "s", 5);
    const pending: Promise<unknown>[] = [];
    // Multi-byte paths (new ones and repeated ones), escaped request ids, a multi-byte colo.
    for (let i = 0; i < 1500; i++) {
      const path = i % 2 === 0 ? `/\u20ac${i}/${"\u00e9".repeat(300)}` : `/\u20ac/${i % 7}`;
      const rid = i % 3 === 0 ? `r-${i}` : `r "${i}" \u00e9`;
      logger.log(facts({ path, rid, request: request({}, { colo: "Z\u00fc" }) }), ctx(pending));
    }
    await logger.flush();
    await Promise.all(pending);
    expect(q.messages.length).toBeGreaterThan(1);
    for (const m of q.messages) {
      expect(new TextEncoder().encode(m.body).byteLength).toBeLessThanOrEqual(QUEUE_MAX_MESSAGE_BYTES);
      // Filled, not cut early: at least half of the limit (the count is an upper bound).
      if (m !== q.messages.at(-1))
        expect(new TextEncoder().encode(m.body).byteLength).toBeGreaterThan(QUEUE_MAX_MESSAGE_BYTES / 2);
    }
    expect(q.records().map((r) => (r as EdgeLogMessage).rid)).toEqual(
      Array.from({ length: 1500 }, (_, i) => (i % 3 === 0 ? `r-${i}` : `r "${i}" \u00e9`)),
    );
  });

  it("a batch leaves EDGE_LOG_FLUSH_MS after its first record, from that request's waitUntil", async () => {
    const q = collect();
    const logger = new EdgeLogger(q.queue, "s", 20);
    const first: Promise<unknown>[] = [];
    logger.log(facts({ rid: "a" }), ctx(first));
    logger.log(facts({ rid: "b" }), ctx([]));
    expect(first).toHaveLength(1);
    expect(q.messages).toHaveLength(0);
    await Promise.all(first);
    expect(q.records().map((r) => (r as EdgeLogMessage).rid)).toEqual(["a", "b"]);
  });

  it("retries a failed write once, then drops the batch with a warning naming the count", async () => {
    let calls = 0;
    const logger = new EdgeLogger(
      {
        sendBatch: async () => {
          calls++;
          throw new Error("queue down");
        },
      },
      "s",
      5,
    );
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const pending: Promise<unknown>[] = [];
    logger.log(facts({}), ctx(pending));
    logger.log(facts({}), ctx(pending));
    await Promise.all(pending);
    expect(calls).toBe(2);
    expect(warn).toHaveBeenCalledWith("edge log: dropped 2 page-view records (Error: queue down)");
    warn.mockRestore();
  });
});
