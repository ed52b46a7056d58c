/** The hot-path shortcuts give the same answers as the general code they replace. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { servedHeaders } from "../src/finish.ts";
import type { CachedMeta } from "../src/hot-cache.ts";
import { urlParts } from "../src/url-parts.ts";
import { cacheStatus, makeEdge, route, timing, uniquePath } from "./helpers.ts";

const parts = (u: URL | ReturnType<typeof urlParts>) => ({
  protocol: u.protocol,
  host: u.host,
  pathname: u.pathname,
  search: u.search,
});

describe("urlParts (string slicing instead of new URL)", () => {
  it("matches URL for the request URLs the edge sees, and for odd ones via the fallback", () => {
    const cases = [
      "https://shop.test/",
      "http://127.0.0.1:8787/p/1?b=2&a=1",
      "https://shop.test/search?q=a%20b&utm_source=x#frag",
      "https://shop.test/a?",
      "https://shop.test/a?#x",
      "https://shop.test/a#x?y",
      "http://[::1]:8080/x/y/?z",
      "https://user:pw@shop.test/secret?x=1",
      "https://shop.test/%E2%82%AC/%2F?%3F=%23",
      "ftp://files.test/a",
      "blob:https://shop.test/uuid",
    ];
    for (const c of cases) {
      const href = new Request(c).url;
      expect(parts(urlParts(href)), href).toEqual(parts(new URL(href)));
    }
  });

  it("matches URL for generated http(s) URLs (property)", () => {
    fc.assert(
      fc.property(fc.webUrl({ withQueryParameters: true, withFragments: true }), (raw) => {
        const href = new URL(raw).href;
        expect(parts(urlParts(href))).toEqual(parts(new URL(href)));
      }),
      { numRuns: 300 },
    );
    // A CPU-bound property run: generous on a shared machine.
  }, 30_000);
});

describe("servedHeaders (one Headers per stored object, reused by its HITs)", () => {
  const meta = (headers: [string, string][]): CachedMeta => ({
    key: "https://shop.test/x",
    base: "https://shop.test/x",
    variant: "",
    vary: null,
    revalidateAlways: false,
    status: 200,
    headers,
    storedAt: 0,
    initialAge: 0,
    freshUntil: 1,
    swrUntil: 1,
    sieUntil: 1,
    etag: null,
    lastModified: null,
    tags: [],
    html: false,
  });

  it("keeps every stored header (a repeated name joined like Headers) plus Timing-Allow-Origin, memoised per object", () => {
    const m = meta([
      ["content-type", "text/html"],
      ["vary", "accept-encoding"],
      ["vary", "x-a"],
      ["__proto__", "p"],
      ["constructor", "c"],
    ]);
    const s = servedHeaders(m);
    expect(servedHeaders(m)).toBe(s);
    expect(s.h.get("__proto__")).toBe("p");
    expect(s.h.get("constructor")).toBe("c");
    expect(s.h.get("vary")).toBe("accept-encoding, x-a");
    expect(s.h.get("content-type")).toBe("text/html");
    expect(s.h.get("timing-allow-origin")).toBe("*");
    expect(s.age).toBe(-1);
    expect(servedHeaders(meta([["content-type", "text/html"]]))).not.toBe(s);
  });

  it("a Response copies the shared headers: later changes never reach an earlier response", () => {
    const s = servedHeaders(meta([["content-type", "text/plain"]]));
    s.h.set("x-request-id", "first");
    const first = new Response("a", { headers: s.h });
    s.h.set("x-request-id", "second");
    const second = new Response("b", { headers: s.h });
    expect(first.headers.get("x-request-id")).toBe("first");
    expect(second.headers.get("x-request-id")).toBe("second");
  });

  it("concurrent HITs of one object each keep their own request id, Server-Timing and Age", async () => {
    const t = makeEdge();
    const p = uniquePath("shared-headers");
    await route(p, { headers: { "cache-control": "public, max-age=600" } });
    await (await t.call(p)).text();
    const a = await t.call(p);
    t.clock.advance(3);
    const b = await t.call(p);
    const c = await t.call(p);
    for (const r of [a, b, c]) {
      expect(cacheStatus(r)).toBe("HIT");
      expect(r.headers.get("x-request-id")).toBe(timing(r).get("rid")?.description);
    }
    expect(new Set([a, b, c].map((r) => r.headers.get("x-request-id"))).size).toBe(3);
    expect(a.headers.get("age")).toBe("0");
    expect(b.headers.get("age")).toBe("3");
    expect(c.headers.get("age")).toBe("3");
  });

  it("a HIT carries the stored headers plus the edge's own (which replace the origin's)", async () => {
    const t = makeEdge();
    const p = uniquePath("hit-headers");
    await route(p, {
      headers: {
        "cache-control": "public, max-age=60",
        "x-request-id": "from-origin",
        "timing-allow-origin": "https://other.test",
        "x-custom": "kept",
        link: ["</a.css>; rel=preload", "</b.js>; rel=preload"],
      },
    });
    const miss = await t.call(p);
    await miss.text();
    t.clock.advance(7);
    const hit = await t.call(p);
    expect(cacheStatus(hit)).toBe("HIT");
    expect(hit.headers.get("x-custom")).toBe("kept");
    expect(hit.headers.get("link")).toBe(miss.headers.get("link"));
    expect(hit.headers.get("content-type")).toBe(miss.headers.get("content-type"));
    expect(hit.headers.get("x-request-id")).toBe(timing(hit).get("rid")?.description);
    expect(hit.headers.get("x-request-id")).not.toBe("from-origin");
    expect(hit.headers.get("timing-allow-origin")).toBe("*");
    expect(hit.headers.get("age")).toBe("7");
    expect(await hit.text()).toBe(await (await t.call(p)).text());
  });
});
