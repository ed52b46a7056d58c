import { describe, expect, it } from "vitest";
import { createGroupCommit } from "../src/intake/group-commit.ts";

/** A queue whose calls stay pending until the test settles them. */
function manualQueue() {
  const calls: {
    kind: "send" | "sendBatch";
    messages: number[];
    resolve: () => void;
    reject: (e: Error) => void;
  }[] = [];
  const call = (kind: "send" | "sendBatch", messages: number[]) =>
    new Promise<void>((resolve, reject) => {
      calls.push({ kind, messages, resolve, reject });
    });
  return {
    calls,
    queue: {
      send: (m: number) => call("send", [m]),
      sendBatch: (ms: Iterable<{ body: number }>) =>
        call(
          "sendBatch",
          [...ms].map((x) => x.body),
        ),
    },
  };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

function track(p: Promise<void>) {
  const state = { status: "pending" as "pending" | "ok" | "failed", error: "" };
  p.then(
    () => {
      state.status = "ok";
    },
    (e: Error) => {
      state.status = "failed";
      state.error = e.message;
    },
  );
  return state;
}

describe("group commit", () => {
  it("sends alone when idle and batches what arrives while a send is in flight", async () => {
    const { calls, queue } = manualQueue();
    const gc = createGroupCommit(queue);
    const first = track(gc.send(0, 100));
    const rest = [1, 2, 3, 4].map((m) => track(gc.send(m, 100)));
    await tick();
    expect(calls.map((c) => [c.kind, c.messages])).toEqual([["send", [0]]]);
    calls[0]?.resolve();
    await tick();
    expect(first.status).toBe("ok");
    expect(rest.every((s) => s.status === "pending")).toBe(true);
    expect(calls.map((c) => [c.kind, c.messages])).toEqual([
      ["send", [0]],
      ["sendBatch", [1, 2, 3, 4]],
    ]);
    calls[1]?.resolve();
    await tick();
    expect(rest.every((s) => s.status === "ok")).toBe(true);
  });

  it("fails exactly the messages of a failed batch and carries on", async () => {
    const { calls, queue } = manualQueue();
    const gc = createGroupCommit(queue);
    const a = track(gc.send(0, 1));
    const b = track(gc.send(1, 1));
    await tick();
    calls[0]?.reject(new Error("queue down"));
    await tick();
    expect(a).toMatchObject({ status: "failed", error: "queue down" });
    expect(b.status).toBe("pending");
    calls[1]?.resolve();
    await tick();
    expect(b.status).toBe("ok");
  });

  it("caps batches by message count and by bytes", async () => {
    const { calls, queue } = manualQueue();
    const gc = createGroupCommit(queue, { maxMessages: 3, maxBytes: 250 });
    const all = Array.from({ length: 8 }, (_, i) => track(gc.send(i, 100)));
    for (let i = 0; i < 10 && all.some((s) => s.status === "pending"); i++) {
      await tick();
      for (const c of calls) c.resolve();
    }
    await tick();
    expect(all.every((s) => s.status === "ok")).toBe(true);
    const sizes = calls.map((c) => c.messages.length);
    expect(Math.max(...sizes)).toBe(2); // 3 × 100 bytes would exceed 250
    expect(calls.flatMap((c) => c.messages).sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it("gives up a stalled send (its requests fail, never a 204) and lets the next request lead", async () => {
    const { calls, queue } = manualQueue();
    let now = 0;
    const gc = createGroupCommit(queue, { stallMs: 1000, now: () => now });
    const stuck = track(gc.send(0, 1));
    await tick();
    now = 5000;
    const next = track(gc.send(1, 1));
    await tick();
    expect(stuck.status).toBe("failed");
    expect(stuck.error).toMatch(/stalled/);
    expect(calls.map((c) => c.messages)).toEqual([[0], [1]]);
    calls[1]?.resolve();
    calls[0]?.resolve(); // the late completion of the stalled send changes nothing
    await tick();
    expect(next.status).toBe("ok");
    expect(stuck.status).toBe("failed");
  });

  it("a synchronous throw from the queue fails that batch only", async () => {
    const gc = createGroupCommit<number>({
      send: () => {
        throw new Error("boom");
      },
      sendBatch: async () => {},
    });
    await expect(gc.send(1, 1)).rejects.toThrow("boom");
  });
});
