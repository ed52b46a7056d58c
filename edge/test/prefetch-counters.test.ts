import { describe, expect, it } from "vitest";
import { BATCH_MAX, MAX_KEYS, PrefetchCounters } from "../src/prefetch/counters.ts";

/** A D1 stand-in that records each batch's size; `failAt` makes that batch (0-based) fail. */
function fakeDb(failAt = -1) {
  const batches: number[] = [];
  const stmt = { bind: (...args: unknown[]) => ({ args }) };
  const db = {
    prepare: () => stmt,
    batch: async (stmts: unknown[]) => {
      if (batches.length === failAt) {
        batches.push(-stmts.length);
        throw new Error("D1 batch failed");
      }
      batches.push(stmts.length);
      return [];
    },
  } as unknown as D1Database;
  return { db, batches };
}

const HOUR = 3_600_000;

describe("prefetch counters flush", () => {
  it(`writes at most ${BATCH_MAX} statements per D1 batch`, async () => {
    const c = new PrefetchCounters("s", 0, 0);
    for (let i = 0; i < MAX_KEYS; i++) c.transition("/a", `/p/${i}`, HOUR);
    for (let i = 0; i < MAX_KEYS; i++) c.speculation(`arm${i}`, "prefetch", 10, false, HOUR);
    expect(c.pending).toBe(2 * MAX_KEYS);
    const { db, batches } = fakeDb();
    await c.flush(db, HOUR);
    expect(Math.max(...batches)).toBeLessThanOrEqual(BATCH_MAX);
    expect(batches.reduce((a, b) => a + b, 0)).toBe(2 * MAX_KEYS);
    expect(batches).toHaveLength(Math.ceil((2 * MAX_KEYS) / BATCH_MAX));
    expect(c.pending).toBe(0);
    expect(c.lastError).toBeNull();
  });

  it("keeps only the counts of the failed batch and those after it for the next flush", async () => {
    const c = new PrefetchCounters("s", 0, 0);
    for (let i = 0; i < 1200; i++) c.transition("/a", `/p/${i}`, HOUR);
    c.speculation("ours", "prefetch", 10, true, HOUR);
    const failing = fakeDb(1);
    await c.flush(failing.db, HOUR);
    expect(failing.batches).toEqual([BATCH_MAX, -BATCH_MAX]);
    expect(c.lastError).toBe("D1 batch failed");
    expect(c.pending).toBe(1201 - BATCH_MAX); // the first batch is stored and not written again
    const ok = fakeDb();
    await c.flush(ok.db, HOUR);
    expect(ok.batches).toEqual([BATCH_MAX, 1201 - 2 * BATCH_MAX]);
    expect(c.pending).toBe(0);
  });

  it("an empty flush writes nothing and does not block the next one", async () => {
    const c = new PrefetchCounters("s", 0, 0);
    const { db, batches } = fakeDb();
    await c.flush(db, HOUR);
    c.transition("/a", "/b", HOUR);
    expect(c.due(HOUR)).toBe(true);
    await c.flush(db, HOUR);
    expect(batches).toEqual([1]);
  });
});
