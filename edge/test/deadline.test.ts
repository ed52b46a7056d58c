import { describe, expect, it } from "vitest";
import { OriginDeadline } from "../src/deadline.ts";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const never = new Promise<string>(() => {});

describe("OriginDeadline: one timer for the headers' limit and the body read after it", () => {
  it("expires when the headers do not come in time, never after they came", async () => {
    let late = 0;
    new OriginDeadline(20, () => late++);
    const ok = new OriginDeadline(20, () => late++);
    ok.headersArrived();
    await sleep(80);
    expect(late).toBe(1);
  });

  it("gives a body read its whole deadline from when it starts, past the headers' limit", async () => {
    const d = new OriginDeadline(20, () => {
      throw new Error("headers' action must not run once they arrived");
    });
    d.headersArrived();
    const t0 = Date.now();
    const r = d.race(never, 120, () => "timeout");
    await sleep(60); // the headers' timer has fired by now and was set again for the time left
    let settled = false;
    r.then(() => {
      settled = true;
    });
    await sleep(0);
    expect(settled).toBe(false);
    expect(await r).toBe("timeout");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(100);
  });

  it("a body deadline shorter than the headers' time left replaces the timer", async () => {
    const d = new OriginDeadline(5_000, () => {});
    d.headersArrived();
    const t0 = Date.now();
    expect(await d.race(never, 30, () => "timeout")).toBe("timeout");
    expect(Date.now() - t0).toBeLessThan(2_000);
  });

  it("a body read in time gets its value and the timer is cleared; rejections pass through", async () => {
    let fired = 0;
    const d = new OriginDeadline(30, () => fired++);
    d.headersArrived();
    expect(await d.race(Promise.resolve("body"), 30, () => "timeout")).toBe("body");
    const e = new OriginDeadline(30, () => fired++);
    e.headersArrived();
    await expect(e.race(Promise.reject(new Error("boom")), 30, () => "timeout")).rejects.toThrow("boom");
    await sleep(80);
    expect(fired).toBe(0);
  });
});
