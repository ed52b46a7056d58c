import { describe, expect, it } from "vitest";
import {
  type BatchSenderOptions,
  createBatchSender,
  createNdjsonSender,
  jsonBytes,
  QUEUE_MAX_BATCH_BYTES,
  QUEUE_MAX_MESSAGE_BYTES,
  utf8Length,
} from "./batch-sender.ts";

/** A fake clock: `sleep` resolves only when `advance` moves time past its deadline. */
function fakeClock() {
  let now = 0;
  const timers: { at: number; resolve: () => void }[] = [];
  const settle = async () => {
    for (let i = 0; i < 20; i++) await Promise.resolve();
  };
  return {
    sleeps: [] as number[],
    sleep(ms: number): Promise<void> {
      this.sleeps.push(ms);
      return new Promise<void>((resolve) => timers.push({ at: now + ms, resolve }));
    },
    /** Moves time forward by `ms`, firing due timers in order and letting their promises run. */
    async advance(ms: number) {
      const end = now + ms;
      await settle();
      for (;;) {
        timers.sort((a, b) => a.at - b.at);
        const next = timers[0];
        if (!next || next.at > end) break;
        timers.shift();
        now = next.at;
        next.resolve();
        await settle();
      }
      now = end;
      await settle();
    },
    pendingTimers: () => timers.length,
  };
}

interface Msg {
  id: number;
  pad?: string;
}

/** A sender over a recording sink; `failures` makes the next N sendBatch calls reject. */
function harness(opts: Partial<BatchSenderOptions<Msg>> = {}) {
  const clock = fakeClock();
  const calls: Msg[][] = [];
  const sink = { failures: 0, attempts: 0 };
  const dropped: { count: number; error: unknown }[] = [];
  const waited: Promise<unknown>[] = [];
  const sender = createBatchSender<Msg>({
    sendBatch: async (messages) => {
      sink.attempts++;
      if (sink.failures > 0) {
        sink.failures--;
        throw new Error(`queue down (attempt ${sink.attempts})`);
      }
      calls.push([...messages]);
    },
    sleep: (ms) => clock.sleep(ms),
    onDropped: (count, error) => dropped.push({ count, error }),
    ...opts,
  });
  const waitUntil = (p: Promise<unknown>) => {
    waited.push(p);
  };
  const add = (from: number, to: number) => {
    for (let i = from; i < to; i++) sender.add({ id: i }, waitUntil);
  };
  return { clock, calls, sink, dropped, waited, sender, waitUntil, add };
}

const ids = (batches: Msg[][]) => batches.map((b) => b.map((m) => m.id));

describe("createBatchSender", () => {
  it("sends a batch as soon as it holds maxBatchSize messages", async () => {
    const h = harness({ maxBatchSize: 3, maxWaitMs: 50 });
    h.add(0, 7);
    await h.clock.advance(0);
    expect(ids(h.calls)).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ]);
    expect(h.sender.stats()).toMatchObject({ accepted: 7, sent: 6, pending: 1, batches: 2 });
    // The leftover waits for its timer, not for more messages.
    await h.clock.advance(49);
    expect(h.calls).toHaveLength(2);
    await h.clock.advance(1);
    expect(ids(h.calls)).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    expect(h.sender.stats()).toMatchObject({ accepted: 7, sent: 7, pending: 0, failed: 0, batches: 3 });
  });

  it("sends a partial batch maxWaitMs after its first message, from that request's waitUntil", async () => {
    const h = harness({ maxWaitMs: 50 });
    h.add(0, 1);
    expect(h.waited).toHaveLength(1); // the opener registered the flush
    await h.clock.advance(30);
    h.add(1, 3); // later requests only append
    expect(h.waited).toHaveLength(1);
    expect(h.calls).toHaveLength(0);
    await h.clock.advance(20);
    expect(ids(h.calls)).toEqual([[0, 1, 2]]);
    // The next message opens a new batch with its own timer.
    h.add(3, 4);
    expect(h.waited).toHaveLength(2);
    await h.clock.advance(50);
    expect(ids(h.calls)).toEqual([[0, 1, 2], [3]]);
    await Promise.all(h.waited); // every waitUntil promise settles
  });

  it("hands each flush to the waitUntil of the request that opened or filled the batch", async () => {
    const h = harness({ maxBatchSize: 2, maxWaitMs: 10 });
    const perRequest = ["a", "b", "c"].map(() => [] as Promise<unknown>[]);
    const attemptsDuringAdd: number[] = [];
    perRequest.forEach((list, i) => {
      h.sender.add({ id: i }, (p) => list.push(p));
      attemptsDuringAdd.push(h.sink.attempts);
    });
    expect(perRequest.map((l) => l.length)).toEqual([1, 1, 1]); // a: timer, b: send by size, c: timer
    expect(attemptsDuringAdd).toEqual([0, 1, 1]); // b's add started the send itself, synchronously
    await h.clock.advance(10);
    expect(ids(h.calls)).toEqual([[0, 1], [2]]);
  });

  it("a batch sent by size is not sent again when its opener's timer fires", async () => {
    const h = harness({ maxBatchSize: 2, maxWaitMs: 10 });
    h.add(0, 2);
    await h.clock.advance(0);
    h.add(2, 3);
    await h.clock.advance(100);
    expect(ids(h.calls)).toEqual([[0, 1], [2]]);
    expect(h.sender.stats()).toMatchObject({ accepted: 3, sent: 3, batches: 2 });
  });

  it("splits on the byte limit (JSON bytes) before the count limit", async () => {
    const pad = "x".repeat(90); // {"id":N,"pad":"x…"} ≈ 110 bytes
    const h = harness({ maxBatchBytes: 300, maxWaitMs: 5 });
    for (let i = 0; i < 7; i++) h.sender.add({ id: i, pad }, h.waitUntil);
    await h.clock.advance(5);
    expect(ids(h.calls)).toEqual([[0, 1], [2, 3], [4, 5], [6]]);
    for (const batch of h.calls) {
      expect(batch.reduce((n, m) => n + jsonBytes(m), 0)).toBeLessThanOrEqual(300);
    }
  });

  it("sends a message larger than the byte limit alone", async () => {
    const h = harness({ maxBatchBytes: 100, maxWaitMs: 5 });
    h.sender.add({ id: 0 }, h.waitUntil);
    h.sender.add({ id: 1, pad: "y".repeat(200) }, h.waitUntil);
    h.sender.add({ id: 2 }, h.waitUntil);
    await h.clock.advance(5);
    expect(ids(h.calls)).toEqual([[0], [1], [2]]);
  });

  it("keeps the Queues limits by default (100 messages, 250,000 bytes)", async () => {
    const h = harness();
    h.add(0, 250);
    await h.clock.advance(50);
    expect(h.calls.map((b) => b.length)).toEqual([100, 100, 50]);
    const big = harness();
    const pad = "z".repeat(10_000);
    for (let i = 0; i < 60; i++) big.sender.add({ id: i, pad }, big.waitUntil);
    await big.clock.advance(50);
    for (const batch of big.calls) {
      expect(batch.reduce((n, m) => n + jsonBytes(m), 0)).toBeLessThanOrEqual(QUEUE_MAX_BATCH_BYTES);
    }
    expect(big.calls.flat()).toHaveLength(60);
    expect(big.calls.length).toBeGreaterThan(1);
  });

  it("retries a failed batch with doubling backoff, then succeeds without duplicates", async () => {
    const h = harness({ maxWaitMs: 10, retries: 3, backoffMs: 100 });
    h.sink.failures = 2;
    h.add(0, 5);
    await h.clock.advance(10); // attempt 1 fails
    expect(h.calls).toHaveLength(0);
    await h.clock.advance(100); // attempt 2 fails
    expect(h.sink.attempts).toBe(2);
    await h.clock.advance(199);
    expect(h.sink.attempts).toBe(2);
    await h.clock.advance(1); // attempt 3 succeeds
    expect(ids(h.calls)).toEqual([[0, 1, 2, 3, 4]]);
    expect(h.clock.sleeps).toEqual([10, 100, 200]);
    expect(h.dropped).toEqual([]);
    expect(h.sender.stats()).toMatchObject({ accepted: 5, sent: 5, failed: 0, pending: 0, retries: 2 });
  });

  it("calls onDropped once with the batch's count when every retry failed", async () => {
    const h = harness({ maxBatchSize: 4, maxWaitMs: 10, retries: 2, backoffMs: 50 });
    h.sink.failures = 3;
    h.add(0, 4); // leaves by size and fails 3 times (1 attempt + 2 retries)
    await h.clock.advance(1_000);
    expect(h.sink.attempts).toBe(3);
    expect(h.clock.sleeps).toEqual([10, 50, 100]);
    expect(h.dropped).toHaveLength(1);
    expect(h.dropped[0]?.count).toBe(4);
    expect(String(h.dropped[0]?.error)).toContain("queue down (attempt 3)");
    h.add(4, 6); // the next batch goes through
    await h.clock.advance(10);
    expect(ids(h.calls)).toEqual([[4, 5]]);
    expect(h.dropped).toHaveLength(1);
    expect(h.sender.stats()).toMatchObject({ accepted: 6, sent: 2, failed: 4, pending: 0, retries: 2 });
    await Promise.all(h.waited); // waitUntil promises resolve, never reject
  });

  it("a throwing onDropped hook does not reject the waitUntil promise", async () => {
    const h = harness({
      maxWaitMs: 1,
      retries: 0,
      onDropped: () => {
        throw new Error("hook bug");
      },
    });
    h.sink.failures = 1;
    h.add(0, 1);
    await h.clock.advance(1);
    await expect(Promise.all(h.waited)).resolves.toBeDefined();
    expect(h.sender.stats().failed).toBe(1);
  });

  it("never duplicates, loses or reorders messages across many interleaved batches", async () => {
    const h = harness({ maxBatchSize: 7, maxBatchBytes: 200, maxWaitMs: 3, retries: 5, backoffMs: 1 });
    h.sink.failures = 4;
    let id = 0;
    for (let round = 0; round < 40; round++) {
      const n = (round * 13) % 11;
      for (let i = 0; i < n; i++) h.sender.add({ id: id++, pad: "p".repeat((id * 7) % 40) }, h.waitUntil);
      await h.clock.advance(round % 4);
    }
    await h.clock.advance(1_000);
    const seen = h.calls.flat().map((m) => m.id);
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: id }, (_, i) => i));
    for (const batch of h.calls) {
      const b = batch.map((m) => m.id);
      expect(b).toEqual([...b].sort((x, y) => x - y));
      expect(batch.length).toBeLessThanOrEqual(7);
    }
    expect(h.sender.stats()).toMatchObject({ accepted: id, sent: id, failed: 0, pending: 0 });
  });

  it("flush() sends the open batch now", async () => {
    const h = harness({ maxWaitMs: 1_000 });
    h.add(0, 3);
    await h.sender.flush();
    expect(ids(h.calls)).toEqual([[0, 1, 2]]);
    await h.clock.advance(1_000);
    expect(h.calls).toHaveLength(1);
  });

  it("rejects invalid options with the option name and value", () => {
    const base = { sendBatch: async () => {}, sleep: async () => {} };
    expect(() => createBatchSender({ ...base, maxBatchSize: 0 })).toThrow(/maxBatchSize.*0/);
    expect(() => createBatchSender({ ...base, retries: -1 })).toThrow(/retries.*-1/);
    expect(() => createBatchSender({ ...base, maxWaitMs: Number.NaN })).toThrow(/maxWaitMs/);
  });
});

describe("createNdjsonSender", () => {
  it("sends each batch as one NDJSON text message no larger than QUEUE_MAX_MESSAGE_BYTES (UTF-8)", async () => {
    const clock = fakeClock();
    const sent: { body: string; contentType: "text" }[] = [];
    const waited: Promise<unknown>[] = [];
    const sender = createNdjsonSender({
      send: async (m) => {
        sent.push(m);
      },
      sleep: (ms) => clock.sleep(ms),
      maxBatchSize: 10_000,
    });
    // 3-byte characters: a cap counted in string length would overfill the message.
    const lines = Array.from({ length: 120 }, (_, i) => JSON.stringify({ i, pad: "\u20ac".repeat(1000) }));
    for (const l of lines) sender.add(l, (p) => waited.push(p));
    await clock.advance(1000);
    await Promise.all(waited);
    expect(sent.length).toBeGreaterThan(1);
    for (const m of sent) {
      expect(m.contentType).toBe("text");
      expect(utf8Length(m.body)).toBeLessThanOrEqual(QUEUE_MAX_MESSAGE_BYTES);
    }
    expect(sent.flatMap((m) => m.body.split("\n"))).toEqual(lines);
  });
});

describe("utf8Length", () => {
  it("matches TextEncoder for ASCII, 2-, 3- and 4-byte characters", () => {
    for (const s of ["", "abc", "é", "€uro", "😀", "a😀é€", '{"u":"/p/ß"}']) {
      expect(utf8Length(s), s).toBe(new TextEncoder().encode(s).length);
    }
  });
});
