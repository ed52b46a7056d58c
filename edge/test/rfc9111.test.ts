/** RFC 9111 (HTTP Caching) behaviour of the edge against the scripted origin, by section. */
import { describe, expect, it } from "vitest";
import { cacheStatus, makeEdge, originCount, route, uniquePath } from "./helpers.ts";

describe("RFC 9111 §4.1 Vary", () => {
  it("stores one variant per combination of the listed request headers (values normalised)", async () => {
    const t = makeEdge();
    const p = uniquePath("vary");
    await route(p, {
      headers: {
        vary: "Accept-Language, X-Device",
        "cache-control": "max-age=60",
        "content-type": "text/plain",
      },
      body: "v{n}",
    });
    const get = (lang: string, dev?: string) =>
      t.call(p, {
        headers: dev ? { "accept-language": lang, "x-device": dev } : { "accept-language": lang },
      });
    expect(cacheStatus(await get("en"))).toBe("MISS");
    const en = await get(" en ");
    expect(cacheStatus(en)).toBe("HIT");
    expect(await en.text()).toBe("v1");
    expect(cacheStatus(await get("de"))).toBe("MISS");
    const de = await get("de");
    expect(cacheStatus(de)).toBe("HIT");
    expect(await de.text()).toBe("v2");
    expect(cacheStatus(await get("en", "mobile"))).toBe("MISS");
    expect(await (await get("en")).text()).toBe("v1");
    expect(await originCount(p)).toBe(3);
    // Another isolate finds the variants through the Cache API marker.
    const other = makeEdge({}, t.clock);
    const o = await other.call(p, { headers: { "accept-language": "de" } });
    expect(cacheStatus(o)).toBe("HIT");
    expect(await o.text()).toBe("v2");
  });

  it("Vary: * is never served from cache", async () => {
    const t = makeEdge();
    const p = uniquePath("varystar");
    await route(p, { headers: { vary: "*", "cache-control": "max-age=60" } });
    await t.call(p);
    expect(cacheStatus(await t.call(p))).toBe("MISS");
    expect(await originCount(p)).toBe(2);
  });

  it("bounds the variants per URL (EDGE_VARY_MAX_VARIANTS)", async () => {
    const t = makeEdge({ EDGE_VARY_MAX_VARIANTS: "2" });
    const p = uniquePath("varybound");
    await route(p, { headers: { vary: "X-V", "cache-control": "max-age=60" } });
    for (const v of ["a", "b", "c"]) await t.call(p, { headers: { "x-v": v } });
    expect(cacheStatus(await t.call(p, { headers: { "x-v": "b" } }))).toBe("HIT");
    expect(cacheStatus(await t.call(p, { headers: { "x-v": "c" } }))).toBe("MISS");
  });

  it("Vary: Accept-Encoding keeps one stored copy for every encoding", async () => {
    const t = makeEdge();
    const p = uniquePath("varyae");
    await route(p, { headers: { vary: "Accept-Encoding", "cache-control": "max-age=60" } });
    await t.call(p, { headers: { "accept-encoding": "gzip" } });
    expect(cacheStatus(await t.call(p, { headers: { "accept-encoding": "br" } }))).toBe("HIT");
  });
});

describe("RFC 9111 §3 and RFC 9110 §15.1: which statuses are stored", () => {
  it("heuristically cacheable statuses with freshness, and any final status with explicit freshness (302, 503)", async () => {
    const t = makeEdge();
    for (const [status, cc, stored] of [
      [404, "max-age=60", true],
      [410, "max-age=60", true],
      [302, "max-age=60", true],
      [503, "max-age=60", true],
      [302, "", false],
      [500, "", false],
      [206, "max-age=60", false],
    ] as const) {
      const p = uniquePath(`status${status}`);
      await route(p, { status, headers: { "cache-control": cc, location: "/x" }, body: "b" });
      await t.call(p);
      expect(cacheStatus(await t.call(p)), `${status} ${cc}`).toBe(stored ? "HIT" : "MISS");
    }
  });

  it("a rule's ttl applies only to 200/203/301/404/410", async () => {
    const t = makeEdge({ EDGE_CACHE_RULES: JSON.stringify([{ path: "/t/*", ttl: 60 }]) });
    for (const [status, stored] of [
      [200, true],
      [404, true],
      [302, false],
      [500, false],
    ] as const) {
      const p = uniquePath(`rulettl${status}`);
      await route(p, { status, headers: { "cache-control": "", location: "/x" }, body: "b" });
      await t.call(p);
      expect(cacheStatus(await t.call(p)), String(status)).toBe(stored ? "HIT" : "MISS");
    }
  });
});

describe("RFC 9111 §4.2 and §5: freshness", () => {
  it("§5.3: an Expires that is not an HTTP-date is already expired", async () => {
    const t = makeEdge();
    for (const expires of ["0", "tomorrow", "2099-01-01T00:00:00Z", "Thu, 01 Jan 2099 00:00:00 +0000"]) {
      const p = uniquePath("expires");
      await route(p, { headers: { "cache-control": "", expires } });
      await t.call(p);
      expect(cacheStatus(await t.call(p)), expires).toBe("MISS");
    }
    const ok = uniquePath("expires-ok");
    await route(ok, { headers: { "cache-control": "", expires: "Thu, 01 Jan 2099 00:00:00 GMT" } });
    await t.call(ok);
    expect(cacheStatus(await t.call(ok))).toBe("HIT");
  });

  it("§5.1: an Age that is not a non-negative integer is ignored", async () => {
    const t = makeEdge();
    for (const age of ["abc", "-5", "1.5", "9999999999999999999x"]) {
      const p = uniquePath("age");
      await route(p, { headers: { "cache-control": "max-age=60", age } });
      const first = await t.call(p);
      expect(first.headers.get("age"), age).toBe("0");
      expect(cacheStatus(await t.call(p))).toBe("HIT");
    }
    const p = uniquePath("age-valid");
    await route(p, { headers: { "cache-control": "max-age=60", age: "100" } });
    await t.call(p);
    expect(cacheStatus(await t.call(p))).toBe("MISS");
  });

  it("§5.2.2.10: s-maxage wins over max-age", async () => {
    const t = makeEdge();
    const p = uniquePath("smaxage");
    await route(p, { headers: { "cache-control": "max-age=1000, s-maxage=10" } });
    await t.call(p);
    t.clock.advance(5);
    expect(cacheStatus(await t.call(p))).toBe("HIT");
    t.clock.advance(10);
    expect(cacheStatus(await t.call(p))).toBe("EXPIRED");
  });

  it("§5.2.2.4: no-cache responses are stored and revalidated on every use", async () => {
    const t = makeEdge();
    const p = uniquePath("nocache");
    await route(p, {
      headers: { "cache-control": "no-cache", etag: '"nc1"', "content-type": "text/plain" },
      body: "body {n}",
    });
    await t.call(p);
    for (let i = 0; i < 3; i++) {
      const r = await t.call(p);
      expect(cacheStatus(r)).toBe("EXPIRED");
      expect(await r.text()).toBe("body 1");
    }
    expect(await originCount(p)).toBe(4);
  });

  it("§5.2.2.2: must-revalidate and proxy-revalidate responses are never served stale", async () => {
    const t = makeEdge();
    for (const d of ["must-revalidate", "proxy-revalidate"]) {
      const p = uniquePath("mustreval");
      await route(p, {
        headers: { "cache-control": `max-age=10, ${d}, stale-while-revalidate=60, stale-if-error=600` },
      });
      await t.call(p);
      t.clock.advance(20);
      await route(p, { mode: "5xx" });
      const r = await t.call(p);
      expect(r.status, d).toBe(503);
      expect(cacheStatus(r)).not.toBe("STALE");
    }
  });
});

describe("RFC 9111 §3.1, §3.2, §4.3.4: stored headers", () => {
  it("a stored response keeps its end-to-end headers; a 304 from revalidation updates them", async () => {
    const t = makeEdge();
    const p = uniquePath("hdrs");
    await route(p, {
      headers: { "cache-control": "max-age=10", etag: '"h1"', "x-custom": "one", "content-language": "en" },
    });
    await t.call(p);
    const hit = await t.call(p);
    expect(hit.headers.get("x-custom")).toBe("one");
    expect(hit.headers.get("content-language")).toBe("en");
    const bytes = (await hit.arrayBuffer()).byteLength;
    const head = await t.call(p, { method: "HEAD" });
    expect(head.headers.get("content-length")).toBe(String(bytes));
    t.clock.advance(20);
    await route(p, {
      headers: { "cache-control": "max-age=10", etag: '"h1"', "x-custom": "two", "content-language": "en" },
    });
    const refreshed = await t.call(p);
    expect(refreshed.headers.get("x-custom")).toBe("two");
    expect(cacheStatus(await t.call(p))).toBe("HIT");
    expect((await t.call(p)).headers.get("x-custom")).toBe("two");
  });
});

describe("RFC 9111 §4.4: invalidation by unsafe methods", () => {
  it("a successful POST/PUT/DELETE/PATCH invalidates the URL and same-origin Location/Content-Location", async () => {
    const t = makeEdge();
    for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
      const p = uniquePath("inval");
      const other = uniquePath("inval-loc");
      const foreign = uniquePath("inval-foreign");
      for (const q of [p, other, foreign]) await t.call(q);
      await route(p, {});
      const { route: setRoute } = await import("./helpers.ts");
      await setRoute(p, {
        headers: { location: other, "content-location": `https://elsewhere.test${foreign}` },
      });
      t.clock.advance(1);
      const r = await t.call(p, { method, body: method === "DELETE" ? undefined : "x" });
      expect(r.status, method).toBe(200);
      expect(cacheStatus(await t.call(p)), method).not.toBe("HIT");
      expect(cacheStatus(await t.call(other)), method).not.toBe("HIT");
      expect(cacheStatus(await t.call(foreign)), method).toBe("HIT");
    }
  });

  it("an error answer to an unsafe method invalidates nothing", async () => {
    const t = makeEdge();
    const p = uniquePath("inval-err");
    await t.call(p);
    await route(p, { mode: "5xx" });
    await t.call(p, { method: "POST", body: "x" });
    expect(cacheStatus(await t.call(p))).toBe("HIT");
  });
});
