import { describe, expect, it } from "vitest";
import { Clock, cacheStatus, makeEdge, originCount, purge, route, uniquePath } from "./helpers.ts";

describe("purge API", () => {
  it("purges by URL (absolute or path), including the hot cache", async () => {
    const t = makeEdge();
    const p = uniquePath("purl");
    await t.call(`${p}?a=1`);
    expect(cacheStatus(await t.call(`${p}?a=1`))).toBe("HIT");
    const r = await purge(t, { urls: [`https://shop.test${p}?utm_source=x&a=1`] });
    expect(r.status).toBe(200);
    expect(((await r.json()) as { ok: boolean }).ok).toBe(true);
    expect(cacheStatus(await t.call(`${p}?a=1`))).toBe("MISS");
    expect(cacheStatus(await purge(t, { urls: [`${p}?a=1`] }))).toBe("BYPASS");
    expect(cacheStatus(await t.call(`${p}?a=1`))).toBe("MISS");
    expect(await originCount(p)).toBe(3);
  });

  it("purges all keyHeaders variants of a URL", async () => {
    const t = makeEdge({
      EDGE_CACHE_RULES: JSON.stringify([{ path: "/t/pvar-*", keyHeaders: ["accept-language"] }]),
    });
    const p = uniquePath("pvar");
    for (const l of ["en", "de"]) await t.call(p, { headers: { "accept-language": l } });
    expect(cacheStatus(await t.call(p, { headers: { "accept-language": "de" } }))).toBe("HIT");
    await purge(t, { urls: [p] });
    for (const l of ["en", "de"])
      expect(cacheStatus(await t.call(p, { headers: { "accept-language": l } }))).toBe("MISS");
  });

  it("purges by tag from Cache-Tag and Surrogate-Key (case-insensitive)", async () => {
    const t = makeEdge();
    const a = uniquePath("tag-a");
    const b = uniquePath("tag-b");
    const c = uniquePath("tag-c");
    await route(a, { headers: { "cache-tag": "product-1, category-4" } });
    await route(b, { headers: { "cache-tag": "product-2,category-4" } });
    await route(c, { headers: { "surrogate-key": "product-3 Category-4" } });
    for (const p of [a, b, c]) await t.call(p);
    const r = await purge(t, { tags: ["Product-1"] });
    expect(((await r.json()) as { keys: number }).keys).toBe(1);
    expect(cacheStatus(await t.call(a))).toBe("MISS");
    expect(cacheStatus(await t.call(b))).toBe("HIT");
    await purge(t, { tags: ["category-4"] });
    for (const p of [a, b, c]) expect(cacheStatus(await t.call(p))).toBe("MISS");
  });

  it("never sends Cache-Tag or Surrogate-Key to the client (MISS, HIT, bypass), yet purges by them", async () => {
    const t = makeEdge();
    const p = uniquePath("tag-hidden");
    await route(p, { headers: { "cache-tag": "hidden-1", "surrogate-key": "hidden-2" } });
    const answers = [
      await t.call(p),
      await t.call(p),
      await t.call(p, { method: "POST", body: "x" }),
      await t.call(p, { headers: { authorization: "Bearer x" } }),
    ];
    expect(answers.map(cacheStatus)).toEqual(["MISS", "HIT", "BYPASS", "BYPASS"]);
    for (const res of answers) {
      expect(res.headers.get("cache-tag")).toBeNull();
      expect(res.headers.get("surrogate-key")).toBeNull();
      await res.body?.cancel();
    }
    // POST invalidated the URL; store it again (a later millisecond), then purge by each tag.
    t.clock.advance(1);
    await t.call(p);
    expect(cacheStatus(await t.call(p))).toBe("HIT");
    await purge(t, { tags: ["hidden-2"] });
    t.clock.advance(1);
    expect(cacheStatus(await t.call(p))).toBe("MISS");
    expect(cacheStatus(await t.call(p))).toBe("HIT");
    await purge(t, { tags: ["HIDDEN-1"] });
    expect(cacheStatus(await t.call(p))).toBe("MISS");
  });

  it("purges everything by purge time", async () => {
    // A clock a year behind the other tests: this file's KV is shared, and a purge-everything
    // at the shared start time would purge their objects too.
    const clock = new Clock();
    clock.t -= 365 * 86_400_000;
    const t = makeEdge({}, clock);
    const a = uniquePath("all");
    const b = uniquePath("all");
    for (const p of [a, b]) await t.call(p);
    t.clock.advance(1);
    const r = await purge(t, { everything: true });
    const at = ((await r.json()) as { at: number }).at;
    expect(at).toBe(t.clock.t);
    t.clock.advance(1);
    for (const p of [a, b]) expect(cacheStatus(await t.call(p))).toBe("MISS");
    // Another isolate reads the purge time first and finds the copy re-fetched after the purge.
    const other = makeEdge({}, t.clock);
    expect(cacheStatus(await other.call(a))).toBe("HIT");
    expect(other.edge.purge.all).toBeGreaterThanOrEqual(at);
  });

  it("another isolate's hot cache drops purged objects after EDGE_PURGE_CHECK_SECONDS", async () => {
    const a = makeEdge({ EDGE_PURGE_CHECK_SECONDS: "5" });
    const b = makeEdge({ EDGE_PURGE_CHECK_SECONDS: "5" }, a.clock);
    const p = uniquePath("remote");
    await a.call(p);
    expect(cacheStatus(await b.call(p))).toBe("HIT");
    await purge(a, { urls: [p] });
    // b still holds it in memory until its next purge-state check.
    expect(cacheStatus(await b.call(p))).toBe("HIT");
    a.clock.advance(6);
    await b.call(p); // triggers the background check
    expect(cacheStatus(await b.call(p))).toBe("MISS");
  });

  it("rejects bad purge requests with 401/400 and a reason", async () => {
    const t = makeEdge();
    const cases: [unknown, string | null, number, RegExp][] = [
      [{ everything: true }, null, 401, /missing/i],
      [{ everything: true }, "wrong", 401, /invalid/i],
      ["{not json", "dev-admin-token", 400, /JSON/],
      [[1, 2], "dev-admin-token", 400, /object/],
      [{}, "dev-admin-token", 400, /exactly one/],
      [{ urls: [], tags: ["a"] }, "dev-admin-token", 400, /exactly one/],
      [{ urls: [] }, "dev-admin-token", 400, /non-empty/],
      [{ urls: [42] }, "dev-admin-token", 400, /urls\[0\]/],
      [{ urls: ["ftp://x/y"] }, "dev-admin-token", 400, /http/],
      [{ tags: ["a,b"] }, "dev-admin-token", 400, /tags\[0\]/],
      [{ everything: "yes" }, "dev-admin-token", 400, /everything/],
      [{ nuke: true }, "dev-admin-token", 400, /unknown field/],
    ];
    for (const [body, token, status, reason] of cases) {
      const r = await purge(t, body, token);
      expect(r.status, JSON.stringify(body)).toBe(status);
      expect(((await r.json()) as { error: string }).error).toMatch(reason);
    }
    const get = await t.call("/_edge/purge");
    expect(get.status).toBe(404);
    const disabled = makeEdge({ EDGE_ADMIN_TOKEN: "" });
    const off = await purge(disabled, { everything: true });
    expect(off.status).toBe(503);
    expect(((await off.json()) as { error: string }).error).toContain("EDGE_ADMIN_TOKEN");
  });
});
