/** The edge's log sender: records become NDJSON lines, batches fill queue messages by bytes. */
import { describe, expect, it } from "vitest";
import { QUEUE_MAX_MESSAGE_BYTES } from "../../common/src/batch-sender.ts";
import { createLogSender, LOG_MAX_RECORDS, type LogQueue } from "../src/edge-log.ts";

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
