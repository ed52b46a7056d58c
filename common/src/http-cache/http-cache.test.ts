import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hasPathPrefix } from "../http-response.ts";
import { parseHttpDate } from "./http-date.ts";
import { normalizePath } from "./path.ts";
import { compileCookieMatcher, hasMatchingCookie, isPrefetchPurpose, keepCookies } from "./request-policy.ts";
import { decideStore, targetedCacheControl } from "./storability.ts";
import { normalizeVaryValue, parseVary, variantOf } from "./vary.ts";

const NOW = Date.parse("2026-11-25T12:00:00Z");
const headers = (o: Record<string, string>) => (n: string) => o[n] ?? null;

describe("parseHttpDate (RFC 9110 §5.6.7)", () => {
  it("accepts the three forms, nothing else", () => {
    const t = Date.UTC(1994, 10, 6, 8, 49, 37);
    expect(parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT")).toBe(t);
    expect(parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT", NOW)).toBe(t);
    expect(parseHttpDate("Sun Nov  6 08:49:37 1994")).toBe(t);
    for (const bad of [
      "0",
      "-1",
      "1994-11-06T08:49:37Z",
      "Sun, 06 Nov 1994 08:49:37 +0000",
      "Sun, 31 Feb 1994 08:49:37 GMT",
      "",
    ])
      expect(parseHttpDate(bad), bad).toBeNull();
  });
  it("round-trips every IMF-fixdate (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_102_444_800 }), (s) => {
        const d = new Date(s * 1000);
        expect(parseHttpDate(d.toUTCString())).toBe(s * 1000);
      }),
    );
  });
});

describe("normalizePath", () => {
  it("decodes unreserved escapes, upper-cases the rest, refuses encoded slashes, backslashes, NUL and dot-segments", () => {
    expect(normalizePath("/%61pi/%7euser/%e2%82%ac")).toEqual({ ok: true, path: "/api/~user/%E2%82%AC" });
    for (const bad of [
      "/a%2Fb",
      "/a%2fb",
      "/a%5Cb",
      "/a/%2E%2E/b",
      "/a/%2e/b",
      "/a%zz",
      "/a%0",
      "/a%00",
      "/s/..;/a",
      "/s/.;x/a",
      "/s/.%2e;/a",
    ])
      expect(normalizePath(bad).ok, bad).toBe(false);
    expect(normalizePath("/a/.well-known/x")).toEqual({ ok: true, path: "/a/.well-known/x" });
  });
  it("is idempotent (property)", () => {
    const part = fc.constantFrom(
      "a",
      "B",
      "/",
      ".",
      "..",
      ";",
      "%2e",
      "%2E",
      "%41",
      "%7e",
      "%2F",
      "%5c",
      "%zz",
      "%E2%82%AC",
      "~",
    );
    fc.assert(
      fc.property(fc.array(part, { maxLength: 12 }), (parts) => {
        const a = normalizePath(`/${parts.join("")}`);
        if (a.ok) expect(normalizePath(a.path)).toEqual(a);
      }),
      { numRuns: 300 },
    );
  });
});

describe("Vary", () => {
  it("parses names, drops Accept-Encoding, spots *", () => {
    expect(parseVary("Accept-Language, accept-encoding,X-A, x-a")).toEqual({
      star: false,
      names: ["accept-language", "x-a"],
    });
    expect(parseVary("Accept, *")).toEqual({ star: true, names: [] });
    expect(parseVary(null)).toEqual({ star: false, names: [] });
  });
  it("normalises whitespace only; absent differs from empty", () => {
    expect(normalizeVaryValue("  en ,  de  ")).toBe("en,de");
    const v = (o: Record<string, string>) => variantOf(["a"], headers(o));
    expect(v({ a: " x" })).toBe(v({ a: "x " }));
    expect(v({})).not.toBe(v({ a: "" }));
  });
});

describe("decideStore (RFC 9111 §3, §4.2, §5; RFC 9213)", () => {
  const d = (status: number, h: Record<string, string>, rule?: { ttl?: number; force: boolean }) =>
    decideStore(status, headers(h), rule, 300, NOW);
  it("never stores 1xx or 206, stores explicit-freshness finals, needs freshness for heuristic ones", () => {
    expect(d(100, { "cache-control": "max-age=60" }).store).toBe(false);
    expect(d(103, { "cache-control": "max-age=60" }).store).toBe(false);
    expect(d(206, { "cache-control": "max-age=60" }).store).toBe(false);
    expect(d(302, { "cache-control": "max-age=60" }).store).toBe(true);
    expect(d(503, { expires: "Wed, 25 Nov 2026 13:00:00 GMT" }).store).toBe(true);
    expect(d(302, {}).store).toBe(false);
    expect(d(200, {}).store).toBe(false);
    expect(d(200, {}, { ttl: 10, force: false }).store).toBe(true);
    expect(d(302, {}, { ttl: 10, force: false }).store).toBe(false);
  });
  it("targeted fields: Cloudflare-CDN-Cache-Control > CDN-Cache-Control > Cache-Control", () => {
    expect(targetedCacheControl(headers({ "cache-control": "a", "cdn-cache-control": "b" }))).toEqual({
      value: "b",
      targeted: true,
    });
    expect(
      targetedCacheControl(headers({ "cdn-cache-control": "b", "cloudflare-cdn-cache-control": "c" })).value,
    ).toBe("c");
    expect(d(200, { "cache-control": "private", "cdn-cache-control": "max-age=5" }).store).toBe(true);
  });
  it("no-cache: stored with a validator, never served stale; must-revalidate beats rule windows", () => {
    const nc = d(200, { "cache-control": "no-cache, stale-if-error=60", etag: '"x"' });
    expect(nc).toMatchObject({
      store: true,
      revalidateAlways: true,
      freshUntil: NOW,
      sieUntil: NOW,
      swrUntil: NOW,
    });
    expect(d(200, { "cache-control": "no-cache" }).store).toBe(false);
    const mr = decideStore(
      200,
      headers({ "cache-control": "max-age=10, must-revalidate" }),
      { sie: 600, swr: 60, force: false },
      300,
      NOW,
    );
    expect(mr.sieUntil).toBe(mr.freshUntil);
    expect(mr.swrUntil).toBe(mr.freshUntil);
  });
});

describe("request policy", () => {
  it("cookie patterns", () => {
    const m = compileCookieMatcher(["wordpress_logged_in_*", "sid"]);
    expect(hasMatchingCookie("a=1; wordpress_logged_in_abc=2", m)).toBe(true);
    expect(hasMatchingCookie("sidx=1; wordpress=1", m)).toBe(false);
    expect(keepCookies("a=1; sid=2 ; wordpress_logged_in_z=3", m)).toBe("sid=2; wordpress_logged_in_z=3");
    expect(keepCookies("a=1", m)).toBeNull();
  });
  it("prefetch purpose", () => {
    expect(isPrefetchPurpose("prefetch", null)).toBe(true);
    expect(isPrefetchPurpose("prefetch;prerender", null)).toBe(true);
    expect(isPrefetchPurpose(null, "prefetch")).toBe(true);
    expect(isPrefetchPurpose(null, null)).toBe(false);
    expect(isPrefetchPurpose("prefetchx", null)).toBe(false);
  });
  it("path prefixes on raw URLs", () => {
    expect(hasPathPrefix("https://a.test/_edge/purge", "/_edge/")).toBe(true);
    expect(hasPathPrefix("https://a.test/_dash?x", "/_dash")).toBe(true);
    expect(hasPathPrefix("https://a.test/_dashboard", "/_dash")).toBe(false);
    expect(hasPathPrefix("https://a.test/x/_edge/", "/_edge/")).toBe(false);
  });
});
