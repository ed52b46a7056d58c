/**
 * Stalled origin bodies (issue: deadlines on body reads as well as headers): a body streamed
 * straight to the client is cut by EDGE_ORIGIN_BODY_TIMEOUT_MS when the origin sends nothing,
 * never stored, and a slow client (not reading) is never mistaken for a stalled origin.
 */
import { describe, expect, it, vi } from "vitest";
import { cacheStatus, makeEdge, originCount, route, uniquePath } from "./helpers.ts";

/** Reads the whole body; resolves with the error it failed with (null when it completed) and the time taken. */
async function drain(res: Response): Promise<{ error: unknown; ms: number; text: string }> {
  const t0 = Date.now();
  let text = "";
  try {
    text = await res.text();
    return { error: null, ms: Date.now() - t0, text };
  } catch (e) {
    return { error: e, ms: Date.now() - t0, text };
  }
}

describe("stalled origin bodies streamed to the client", () => {
  it("an uncacheable body that stalls mid-way ends for the client within the deadline; the next request goes to the origin", async () => {
    const t = makeEdge({ EDGE_ORIGIN_BODY_TIMEOUT_MS: "300" });
    const p = uniquePath("stall-pass");
    await route(p, { mode: "stall", headers: { "content-type": "text/plain", "cache-control": "no-store" } });
    const res = await t.call(p);
    expect(res.status).toBe(200);
    const d = await drain(res);
    expect(d.error).not.toBeNull();
    expect(d.ms).toBeLessThan(3000);
    await route(p, { headers: { "content-type": "text/plain", "cache-control": "no-store" }, body: "ok" });
    const next = await t.call(p);
    expect(cacheStatus(next)).toBe("MISS");
    expect(await next.text()).toBe("ok");
    expect(await originCount(p)).toBe(2);
  });

  it("a cacheable HTML body (beacon streamed in) that stalls ends for the client and is not stored", async () => {
    const t = makeEdge({ EDGE_ORIGIN_BODY_TIMEOUT_MS: "300" });
    const p = uniquePath("stall-store");
    await route(p, { mode: "stall", headers: { "cache-control": "public, max-age=600" } });
    const { res, done } = t.start(p);
    const first = await res;
    const d = await drain(first);
    expect(d.error).not.toBeNull();
    expect(d.ms).toBeLessThan(3000);
    await done;
    await route(p, { headers: { "cache-control": "public, max-age=600" }, body: "<p>whole</p>" });
    const next = await t.call(p);
    expect(cacheStatus(next)).toBe("MISS");
    expect(await next.text()).toContain("<p>whole</p>");
    // Nor in the Cache API tier (another isolate).
    const other = makeEdge({}, t.clock);
    expect(await (await other.call(p)).text()).toContain("<p>whole</p>");
    expect(await originCount(p)).toBe(2);
  });

  it("a small HTML body the edge buffers for the beacon that stalls gets 504", async () => {
    const t = makeEdge({ EDGE_ORIGIN_BODY_TIMEOUT_MS: "300" });
    const p = uniquePath("stall-buffered");
    await route(p, { mode: "stall", headers: { "content-length": "2000", "cache-control": "no-store" } });
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const r = await t.call(p);
    expect(r.status).toBe(504);
    expect(cacheStatus(r)).toBe("MISS");
    // The log names what happened: the body stalled, not the headers' time-out.
    expect(warn.mock.calls.map((c) => String(c[0])).join("\n")).toMatch(
      new RegExp(`origin body stalled \\(no data for 300 ms\\) rid=\\S+ GET ${p}`),
    );
    warn.mockRestore();
  });

  it("bypassed requests (Authorization) get the same deadlines: a buffered HTML page gets 504, a stream is cut", async () => {
    const t = makeEdge({ EDGE_ORIGIN_BODY_TIMEOUT_MS: "300" });
    const auth = { headers: { authorization: "Bearer x" } };
    const page = uniquePath("stall-bypass-html");
    await route(page, { mode: "stall", headers: { "content-length": "2000", "cache-control": "no-store" } });
    const r = await t.call(page, auth);
    expect(r.status).toBe(504);
    expect(cacheStatus(r)).toBe("BYPASS");
    const file = uniquePath("stall-bypass-file");
    await route(file, {
      mode: "stall",
      headers: { "content-type": "text/plain", "cache-control": "no-store" },
    });
    const res = await t.call(file, auth);
    expect(res.status).toBe(200);
    expect(cacheStatus(res)).toBe("BYPASS");
    const d = await drain(res);
    expect(d.error).not.toBeNull();
    expect(d.ms).toBeLessThan(3000);
  });

  it("a client that reads slowly is not cut: only time waiting on the origin counts", async () => {
    const t = makeEdge({ EDGE_ORIGIN_BODY_TIMEOUT_MS: "150" });
    const p = uniquePath("slow-client");
    const body = "x".repeat(200_000);
    await route(p, { headers: { "content-type": "text/plain", "cache-control": "no-store" }, body });
    const res = await t.call(p);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let n = 0;
    for (let i = 0; ; i++) {
      // Idle before the first reads for longer than the body deadline.
      if (i < 3) await new Promise((r) => setTimeout(r, 300));
      const { done, value } = await reader.read();
      if (done) break;
      n += value.byteLength;
    }
    expect(n).toBe(body.length);
  });
});
