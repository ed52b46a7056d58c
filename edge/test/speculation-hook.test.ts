/** The speculation hook (`deps.speculation`) and prefetch requests, as edge/README.md documents them. */
import { describe, expect, it } from "vitest";
import type { RequestContext } from "../src/context.ts";
import { cacheStatus, makeEdge, route, uniquePath } from "./helpers.ts";

describe("speculation hook", () => {
  it("onHtml sees public cacheable HTML 200 answers to GET (MISS and HIT) with the request context, nothing else", async () => {
    const seen: { path: string; status: string; prefetch: boolean; rule: boolean }[] = [];
    const t = makeEdge({}, undefined, {
      speculation: {
        handles: () => null,
        onHtml(ctx: RequestContext, res: Response) {
          seen.push({
            path: ctx.path,
            status: ctx.cacheStatus,
            prefetch: ctx.prefetch,
            rule: ctx.rule !== undefined,
          });
          const h = new Headers(res.headers);
          h.set("speculation-rules", '"/_edge/rules.json"');
          return new Response(res.body, { status: res.status, headers: h });
        },
      },
    });
    const p = uniquePath("spec");
    const miss = await t.call(p);
    expect(miss.headers.get("speculation-rules")).toBe('"/_edge/rules.json"');
    const hit = await t.call(p, { headers: { "sec-purpose": "prefetch" } });
    expect(cacheStatus(hit)).toBe("HIT");
    expect(hit.headers.get("speculation-rules")).not.toBeNull();
    // Not for personal, non-HTML, uncacheable or HEAD answers.
    await t.call(p, { headers: { cookie: "session=1" } });
    await t.call(p, { method: "HEAD" });
    const plain = uniquePath("spec-text");
    await route(plain, { headers: { "content-type": "text/plain" } });
    await t.call(plain);
    const priv = uniquePath("spec-private");
    await route(priv, { headers: { "cache-control": "private" } });
    await t.call(priv);
    expect(seen).toEqual([
      { path: p, status: "MISS", prefetch: false, rule: false },
      { path: p, status: "HIT", prefetch: true, rule: false },
    ]);
  });

  it("handles() may answer a request itself before the cache", async () => {
    const t = makeEdge({}, undefined, {
      speculation: {
        handles: (ctx) => (ctx.path === "/_spec/rules.json" ? Response.json({ prefetch: [] }) : null),
        onHtml: (_ctx, res) => res,
      },
    });
    expect(await (await t.call("/_spec/rules.json")).json()).toEqual({ prefetch: [] });
  });

  it("prefetch requests (Sec-Purpose or Purpose: prefetch) are not logged as page views", async () => {
    const t = makeEdge();
    const p = uniquePath("prefetch-log");
    await t.call(p, { headers: { "sec-purpose": "prefetch" } });
    await t.call(p, { headers: { purpose: "prefetch" } });
    expect(t.logged.length).toBe(0);
    await t.call(p);
    expect(t.logged.length).toBe(1);
  });
});
