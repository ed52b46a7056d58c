import { describe, expect, it } from "vitest";
import { cacheStatus, makeEdge, originCount, originLast, route, uniquePath } from "./helpers.ts";

describe("page cache", () => {
  it("MISS then HIT, one origin request, same body", async () => {
    const t = makeEdge();
    const p = uniquePath("hit");
    const a = await t.call(p);
    expect(cacheStatus(a)).toBe("MISS");
    const bodyA = await a.text();
    const b = await t.call(p);
    expect(cacheStatus(b)).toBe("HIT");
    expect(await b.text()).toBe(bodyA);
    expect(await originCount(p)).toBe(1);
  });

  it("serves a HIT from caches.default when the hot cache is empty (another isolate)", async () => {
    const p = uniquePath("tier2");
    const a = makeEdge();
    await (await a.call(p)).text();
    const b = makeEdge();
    const r = await b.call(p);
    expect(cacheStatus(r)).toBe("HIT");
    expect(await r.text()).toContain("n=1");
    expect(b.edge.hot.map.size).toBe(1);
    expect(await originCount(p)).toBe(1);
  });

  it("marketing params share one entry and the origin never sees them", async () => {
    const t = makeEdge();
    const p = uniquePath("mkt");
    expect(cacheStatus(await t.call(`${p}?b=2&utm_source=mail&a=1`))).toBe("MISS");
    expect(cacheStatus(await t.call(`${p}?a=1&gclid=xyz&b=2&fbclid=1`))).toBe("HIT");
    expect(cacheStatus(await t.call(`${p}?a=1&b=3`))).toBe("MISS");
    expect(await originCount(p)).toBe(2);
    expect((await originLast(p))?.url).toBe(`${p}?a=1&b=3`);
  });

  it("the marketing list is configurable", async () => {
    const t = makeEdge({ EDGE_MARKETING_PARAMS: "ref" });
    const p = uniquePath("mkt2");
    await t.call(`${p}?ref=a`);
    expect(cacheStatus(await t.call(`${p}?ref=b`))).toBe("HIT");
    expect(cacheStatus(await t.call(`${p}?utm_source=x`))).toBe("MISS");
  });

  it("stale-while-revalidate serves stale and refreshes exactly once", async () => {
    const t = makeEdge();
    const p = uniquePath("swr");
    await route(p, { headers: { "cache-control": "max-age=10, stale-while-revalidate=60" } });
    expect(await (await t.call(p)).text()).toContain("n=1");
    t.clock.advance(15);
    const calls = [t.start(p), t.start(p), t.start(p)];
    const res = await Promise.all(calls.map((c) => c.res));
    for (const r of res) {
      expect(cacheStatus(r)).toBe("STALE");
      expect(await r.text()).toContain("n=1");
    }
    await Promise.all(calls.map((c) => c.done));
    expect(await originCount(p)).toBe(2);
    const fresh = await t.call(p);
    expect(cacheStatus(fresh)).toBe("HIT");
    expect(await fresh.text()).toContain("n=2");
  });

  it("past the SWR window the entry is re-fetched (EXPIRED)", async () => {
    const t = makeEdge();
    const p = uniquePath("exp");
    await route(p, { headers: { "cache-control": "max-age=10" } });
    await t.call(p);
    t.clock.advance(11);
    const r = await t.call(p);
    expect(cacheStatus(r)).toBe("EXPIRED");
    expect(await r.text()).toContain("n=2");
    expect(await originCount(p)).toBe(2);
  });

  it("refreshes an expired copy conditionally: an origin 304 keeps the stored bytes (MISS path and SWR)", async () => {
    const t = makeEdge();
    const p = uniquePath("cond");
    await route(p, { headers: { etag: '"e1"', "cache-control": "max-age=10" } });
    expect(await (await t.call(p)).text()).toContain("n=1");
    t.clock.advance(11);
    const r = await t.call(p);
    expect(cacheStatus(r)).toBe("EXPIRED");
    expect(await r.text()).toContain("n=1");
    expect((await originLast(p))?.headers["if-none-match"]).toBe('"e1"');
    expect(await originCount(p)).toBe(2);
    expect(cacheStatus(await t.call(p))).toBe("HIT");

    const q = uniquePath("cond-swr");
    await route(q, { headers: { etag: '"s1"', "cache-control": "max-age=10, stale-while-revalidate=60" } });
    await t.call(q);
    t.clock.advance(11);
    expect(cacheStatus(await t.call(q))).toBe("STALE");
    expect(await originCount(q)).toBe(2);
    const fresh = await t.call(q);
    expect(cacheStatus(fresh)).toBe("HIT");
    expect(await fresh.text()).toContain("n=1");
    expect(fresh.headers.get("age")).toBe("0");
  });

  it("origin 5xx, network error or timeout → stale copy with cdn-cache;desc=STALE", async () => {
    const t = makeEdge({ EDGE_ORIGIN_TIMEOUT_MS: "300" });
    const p = uniquePath("sie");
    await route(p, { headers: { "cache-control": "max-age=10, stale-if-error=600" } });
    await t.call(p);
    t.clock.advance(20);
    for (const spec of [{ mode: "5xx" as const }, { mode: "close" as const }, { delayMs: 1500 }]) {
      await route(p, { headers: { "cache-control": "max-age=10, stale-if-error=600" }, ...spec });
      const r = await t.call(p);
      expect(r.status).toBe(200);
      expect(cacheStatus(r)).toBe("STALE");
      expect(await r.text()).toContain("n=1");
    }
    t.clock.advance(1000);
    await route(p, { mode: "5xx" });
    const gone = await t.call(p);
    expect(gone.status).toBe(503);
  });

  it("origin down without a stored copy → 502 with a reason", async () => {
    const t = makeEdge();
    const p = uniquePath("down");
    await route(p, { mode: "close" });
    const r = await t.call(p);
    expect(r.status).toBe(502);
    expect(((await r.json()) as { error: string }).error).toMatch(/origin/);
    // Errors do not mark the key uncacheable: the next requests still collapse.
    await route(p, { mode: "5xx" });
    expect((await t.call(p)).status).toBe(503);
    expect(t.edge.hitForPass.size).toBe(0);
  });

  it("20 concurrent misses → 1 origin request", async () => {
    const t = makeEdge();
    const p = uniquePath("collapse");
    await route(p, { delayMs: 150 });
    const calls = Array.from({ length: 20 }, () => t.start(p));
    const res = await Promise.all(calls.map((c) => c.res));
    const bodies = await Promise.all(res.map((r) => r.text()));
    await Promise.all(calls.map((c) => c.done));
    expect(new Set(bodies).size).toBe(1);
    // Waiters are MISS; on a slow machine a late one may already find the stored copy (HIT).
    expect(res.every((r) => r.status === 200 && ["MISS", "HIT"].includes(cacheStatus(r)))).toBe(true);
    expect(res.filter((r) => cacheStatus(r) === "MISS").length).toBeGreaterThanOrEqual(1);
    expect(await originCount(p)).toBe(1);
  });

  it("keys whose response was not storable go straight to the origin, concurrently (hit-for-pass)", async () => {
    const t = makeEdge();
    const p = uniquePath("h4p");
    await route(p, { headers: { "cache-control": "no-store" }, delayMs: 30 });
    await (await t.call(p)).text();
    expect(t.edge.hitForPass.has(`https://shop.test${p}`)).toBe(true);
    const calls = Array.from({ length: 5 }, () => t.start(p));
    const bodies = await Promise.all(calls.map(async (c) => (await c.res).text()));
    await Promise.all(calls.map((c) => c.done));
    expect(new Set(bodies).size).toBe(5);
    expect(await originCount(p)).toBe(6);
    // Once the origin allows caching, the next response is stored.
    await route(p, {});
    await t.call(p);
    expect(cacheStatus(await t.call(p))).toBe("HIT");
  });

  it("personal requests bypass: listed cookies and Authorization; other cookies do not", async () => {
    const t = makeEdge();
    const p = uniquePath("personal");
    await t.call(p);
    const c = await t.call(p, { headers: { cookie: "theme=dark; session=abc" } });
    expect(cacheStatus(c)).toBe("BYPASS");
    const a = await t.call(p, { headers: { authorization: "Bearer x" } });
    expect(cacheStatus(a)).toBe("BYPASS");
    const other = await t.call(p, { headers: { cookie: "_ga=GA1.2; theme=dark" } });
    expect(cacheStatus(other)).toBe("HIT");
    expect(await originCount(p)).toBe(3);
    const custom = makeEdge({ EDGE_BYPASS_COOKIES: "shopper" });
    expect(cacheStatus(await custom.call(p, { headers: { cookie: "shopper=1" } }))).toBe("BYPASS");
    expect(cacheStatus(await custom.call(p, { headers: { cookie: "session=1" } }))).toBe("HIT");
  });

  it("never stores Set-Cookie, private, no-store, no-cache or responses without freshness", async () => {
    const t = makeEdge();
    const cases: Record<string, string | string[]>[] = [
      { "set-cookie": "sid=1; Path=/", "cache-control": "public, max-age=60" },
      { "cache-control": "private, max-age=60" },
      { "cache-control": "no-store" },
      { "cache-control": "no-cache, max-age=60" },
      { "cache-control": "" },
    ];
    for (const headers of cases) {
      const p = uniquePath("nostore");
      await route(p, { headers });
      await t.call(p);
      const second = await t.call(p);
      expect(cacheStatus(second), JSON.stringify(headers)).toBe("MISS");
      expect(await originCount(p)).toBe(2);
    }
  });

  it("a ttl rule stores responses without freshness; a force rule stores Set-Cookie ones without the cookie", async () => {
    const t = makeEdge({
      EDGE_CACHE_RULES: JSON.stringify([
        { path: "/t/ttl-*", ttl: 30 },
        { path: "/t/force-*", ttl: 30, force: true },
        { path: "/t/skip-*", bypass: true },
      ]),
    });
    const a = uniquePath("ttl");
    await route(a, { headers: { "cache-control": "" } });
    await t.call(a);
    expect(cacheStatus(await t.call(a))).toBe("HIT");
    t.clock.advance(31);
    expect(cacheStatus(await t.call(a))).toBe("EXPIRED");

    const f = uniquePath("force");
    await route(f, { headers: { "set-cookie": "sid=1", "cache-control": "private" } });
    const first = await t.call(f);
    expect(first.headers.get("set-cookie")).toBe("sid=1");
    const hit = await t.call(f);
    expect(cacheStatus(hit)).toBe("HIT");
    expect(hit.headers.get("set-cookie")).toBeNull();

    const s = uniquePath("skip");
    await t.call(s);
    expect(cacheStatus(await t.call(s))).toBe("BYPASS");
  });

  it("keyHeaders rules key on the header's lower-cased, trimmed value", async () => {
    const t = makeEdge({
      EDGE_CACHE_RULES: JSON.stringify([{ path: "/t/lang-*", keyHeaders: ["Accept-Language"] }]),
    });
    const l = uniquePath("lang");
    await route(l, { headers: { vary: "Accept-Language, Accept-Encoding" } });
    expect(cacheStatus(await t.call(l, { headers: { "accept-language": "en" } }))).toBe("MISS");
    expect(cacheStatus(await t.call(l, { headers: { "accept-language": " EN " } }))).toBe("HIT");
    expect(cacheStatus(await t.call(l, { headers: { "accept-language": "de" } }))).toBe("MISS");
  });

  it("answers 304 for If-None-Match / If-Modified-Since from cache", async () => {
    const t = makeEdge();
    const p = uniquePath("etag");
    await route(p, { headers: { etag: '"v1"', "last-modified": "Tue, 24 Nov 2026 10:00:00 GMT" } });
    const first = await t.call(p, { headers: { "if-none-match": '"v1"' } });
    expect(first.status).toBe(304);
    const hit = await t.call(p, { headers: { "if-none-match": 'W/"v0", W/"v1"' } });
    expect(hit.status).toBe(304);
    expect(cacheStatus(hit)).toBe("HIT");
    expect(hit.headers.get("etag")).toBe('"v1"');
    expect(await hit.text()).toBe("");
    expect((await t.call(p, { headers: { "if-none-match": '"v2"' } })).status).toBe(200);
    expect(
      (await t.call(p, { headers: { "if-modified-since": "Tue, 24 Nov 2026 11:00:00 GMT" } })).status,
    ).toBe(304);
    expect(
      (await t.call(p, { headers: { "if-modified-since": "Tue, 24 Nov 2026 09:00:00 GMT" } })).status,
    ).toBe(200);
    expect(await originCount(p)).toBe(1);
    expect((await originLast(p))?.headers["if-none-match"]).toBeUndefined();
  });

  it("answers conditionals by Last-Modified alone, and with a full 200 when nothing was stored to compare", async () => {
    const t = makeEdge();
    const lm = uniquePath("lm-only");
    await route(lm, { headers: { "last-modified": "Tue, 24 Nov 2026 10:00:00 GMT" } });
    await (await t.call(lm)).text();
    const ims = { "if-modified-since": "Tue, 24 Nov 2026 11:00:00 GMT" };
    expect((await t.call(lm, { headers: ims })).status).toBe(304);
    // If-None-Match wins over If-Modified-Since; without a stored ETag it cannot match.
    expect((await t.call(lm, { headers: { ...ims, "if-none-match": "*" } })).status).toBe(200);

    const none = uniquePath("no-validators");
    await route(none, { body: "plain", headers: { "content-type": "text/plain" } });
    await (await t.call(none)).text();
    for (const headers of [{ "if-none-match": "*" }, ims, { "if-none-match": '"x"', ...ims }]) {
      const r = await t.call(none, { headers });
      expect(r.status).toBe(200);
      expect(cacheStatus(r)).toBe("HIT");
      expect(await r.text()).toBe("plain");
    }
    expect(await originCount(none)).toBe(1);
  });

  it("HEAD is answered from a cached GET (and a HEAD miss fills the cache with a GET)", async () => {
    const t = makeEdge();
    const p = uniquePath("head");
    await t.call(p);
    const h = await t.call(p, { method: "HEAD" });
    expect(cacheStatus(h)).toBe("HIT");
    expect(h.headers.get("content-type")).toContain("text/html");
    expect(await h.text()).toBe("");
    const q = uniquePath("head2");
    expect(cacheStatus(await t.call(q, { method: "HEAD" }))).toBe("MISS");
    expect((await originLast(q))?.method).toBe("GET");
    const g = await t.call(q);
    expect(cacheStatus(g)).toBe("HIT");
    expect(await g.text()).toContain(q);
  });

  it("hot cache: freshness holds per entry and eviction keeps it within its byte budget", async () => {
    const t = makeEdge({ EDGE_HOT_CACHE_BYTES: "1800", EDGE_HOT_CACHE_MAX_OBJECT_BYTES: "1500" });
    const paths = [uniquePath("lru"), uniquePath("lru"), uniquePath("lru")];
    for (const p of paths) await t.call(p);
    expect(t.edge.hot.bytes).toBeLessThanOrEqual(1800);
    expect(t.edge.hot.map.size).toBeLessThan(3);
    // Evicted entries still HIT from caches.default.
    for (const p of paths) expect(cacheStatus(await t.call(p))).toBe("HIT");
    for (const p of paths) expect(await originCount(p)).toBe(1);
  });
});
