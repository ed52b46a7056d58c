/** Prefetch learning through the edge's speculation hook (wire.ts `onHtml` → `observeServed`), on MISS and HIT. */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { parseEdgeConfig } from "../src/config.ts";
import { createPrefetchFromEnv } from "../src/prefetch/wire.ts";
import { cacheStatus, makeEdge, route, uniquePath } from "./helpers.ts";

function prefetchEdge() {
  const vars = { ...(env as unknown as Record<string, unknown>), PREFETCH_FLUSH_SECONDS: "3600" };
  const part = createPrefetchFromEnv(vars as unknown as Env, parseEdgeConfig(vars), null);
  const t = makeEdge({}, undefined, { speculation: part.speculation });
  return { t, pf: part.prefetch };
}

describe("prefetch learning through the edge", () => {
  it("learns same-origin Referer transitions on MISS and HIT, counts speculative HITs, ignores other Referers", async () => {
    const { t, pf } = prefetchEdge();
    const p = uniquePath("pf-hook");
    expect(cacheStatus(await t.call(p))).toBe("MISS");
    expect(pf.counters.pending).toBe(0);
    const hit = await t.call(p, { headers: { referer: "https://shop.test/c/shoes?x=1" } });
    expect(cacheStatus(hit)).toBe("HIT");
    expect(pf.counters.pending).toBe(1);
    // Same transition again: the same key.
    await t.call(p, { headers: { referer: "https://shop.test/c/shoes" } });
    expect(pf.counters.pending).toBe(1);
    await t.call(p, { headers: { referer: "https://shop.test.evil.example/c/shoes" } });
    await t.call(p, { headers: { referer: `https://shop.test${p}` } });
    await t.call(p);
    expect(pf.counters.pending).toBe(1);
    // A speculative HIT is counted per arm and never learned from (also with the legacy Purpose).
    await t.call(p, { headers: { "sec-purpose": "prefetch", referer: "https://shop.test/c/other" } });
    expect(pf.counters.pending).toBe(2);
    await t.call(p, { headers: { purpose: "prefetch", referer: "https://shop.test/c/third" } });
    expect(pf.counters.pending).toBe(2);
  });

  it("marks a page that varies on Cookie as unsafe from its HIT too, and never learns it", async () => {
    const { t, pf } = prefetchEdge();
    const p = uniquePath("pf-hook-vary");
    await route(p, {
      headers: { "content-type": "text/html", "cache-control": "public, max-age=60", vary: "Cookie" },
    });
    await t.call(p);
    pf.unsafe.clear();
    const hit = await t.call(p, { headers: { referer: "https://shop.test/c/a" } });
    expect(cacheStatus(hit)).toBe("HIT");
    expect(pf.unsafe.has(p)).toBe(true);
    expect(pf.counters.pending).toBe(0);
  });
});
