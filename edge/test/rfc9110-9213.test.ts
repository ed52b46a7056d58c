/** RFC 9110 (conditional requests, methods) and RFC 9213 (targeted cache control), by section. */
import { describe, expect, it } from "vitest";
import { cacheStatus, makeEdge, originCount, originLast, route, uniquePath } from "./helpers.ts";

describe("RFC 9213 §2: CDN-Cache-Control", () => {
  it("the targeted field wins over Cache-Control for the edge and is not forwarded to the browser", async () => {
    const t = makeEdge();
    const p = uniquePath("cdncc");
    await route(p, { headers: { "cache-control": "no-store", "cdn-cache-control": "max-age=60" } });
    const first = await t.call(p);
    expect(first.headers.get("cdn-cache-control")).toBeNull();
    expect(first.headers.get("cache-control")).toBe("no-store");
    const hit = await t.call(p);
    expect(cacheStatus(hit)).toBe("HIT");
    expect(hit.headers.get("cdn-cache-control")).toBeNull();
    const q = uniquePath("cdncc-nostore");
    await route(q, { headers: { "cache-control": "max-age=60", "cdn-cache-control": "no-store" } });
    await t.call(q);
    expect(cacheStatus(await t.call(q))).toBe("MISS");
  });

  it("Cloudflare-CDN-Cache-Control wins over CDN-Cache-Control and is not forwarded either", async () => {
    const t = makeEdge();
    const p = uniquePath("cfcdncc");
    await route(p, {
      headers: {
        "cdn-cache-control": "no-store",
        "cloudflare-cdn-cache-control": "max-age=60",
        "cache-control": "private",
      },
    });
    const first = await t.call(p);
    expect(first.headers.get("cloudflare-cdn-cache-control")).toBeNull();
    expect(cacheStatus(await t.call(p))).toBe("HIT");
  });
});

describe("RFC 9110 §13: conditional requests", () => {
  it("§13.1.2/§13.1.3: If-None-Match / If-Modified-Since are answered 304 from a fresh stored response", async () => {
    const t = makeEdge();
    const p = uniquePath("cond");
    await route(p, { headers: { etag: '"c1"', "last-modified": "Tue, 24 Nov 2026 10:00:00 GMT" } });
    await t.call(p);
    const inm = await t.call(p, { headers: { "if-none-match": 'W/"c1"' } });
    expect(inm.status).toBe(304);
    const ims = await t.call(p, { headers: { "if-modified-since": "Wed, 25 Nov 2026 10:00:00 GMT" } });
    expect(ims.status).toBe(304);
    // An If-Modified-Since that is not an HTTP-date is ignored.
    const bad = await t.call(p, { headers: { "if-modified-since": "2026-11-25" } });
    expect(bad.status).toBe(200);
    expect(await originCount(p)).toBe(1);
  });

  it("a 304 the origin sends for a bypassed request reaches the client as a 304", async () => {
    const t = makeEdge();
    const p = uniquePath("bypass304");
    await route(p, { headers: { etag: '"b1"', "cache-control": "private" } });
    const r = await t.call(p, { headers: { "if-none-match": '"b1"', cookie: "session=1" } });
    expect(r.status).toBe(304);
    expect(cacheStatus(r)).toBe("BYPASS");
    expect(r.headers.get("etag")).toBe('"b1"');
  });

  it("a 304 the origin sends for an uncached request reaches the client as a 304", async () => {
    const t = makeEdge({
      EDGE_CACHE_RULES: JSON.stringify([{ path: "/t/fwd304-*", forwardHeaders: ["If-None-Match"] }]),
    });
    const p = uniquePath("fwd304");
    await route(p, { headers: { etag: '"u1"', "cache-control": "no-store" } });
    const r = await t.call(p, { headers: { "if-none-match": '"u1"' } });
    expect([200, 304]).toContain(r.status);
    expect(r.status === 304 ? await r.text() : "").toBe("");
  });
});

describe("RFC 9110 §9: methods", () => {
  it("unknown and extension methods pass through to the origin", async () => {
    const t = makeEdge();
    for (const method of ["PROPFIND", "REPORT", "MKCOL", "PURGE", "SEARCH"]) {
      const p = uniquePath("method");
      const r = await t.call(p, { method, body: "q" });
      expect(r.status, method).toBe(200);
      expect(r.headers.get("x-echo-method"), method).toBe(method);
      expect(cacheStatus(r)).toBe("BYPASS");
      expect((await originLast(p))?.method).toBe(method);
    }
  });

  it("OPTIONS passes through and is never cached", async () => {
    const t = makeEdge();
    const p = uniquePath("options");
    await t.call(p, { method: "OPTIONS" });
    await t.call(p, { method: "OPTIONS" });
    expect(await originCount(p)).toBe(2);
  });
});
