import { describe, expect, it } from "vitest";
import { parseAge, parseCacheControl, sharedFreshness } from "./cache-control.ts";

const h = (cacheControl: string | null, extra: Partial<Record<"expires" | "date" | "age", string>> = {}) => ({
  cacheControl,
  expires: extra.expires ?? null,
  date: extra.date ?? null,
  age: extra.age ?? null,
});

describe("parseCacheControl", () => {
  it("reads flags and numbers, case-insensitive, with spaces", () => {
    const cc = parseCacheControl(
      "Public, S-MaxAge=60 ,max-age=10, stale-while-revalidate=30, stale-if-error=600",
    );
    expect(cc).toMatchObject({
      public: true,
      sMaxage: 60,
      maxAge: 10,
      staleWhileRevalidate: 30,
      staleIfError: 600,
    });
  });
  it("handles quoted values containing commas", () => {
    const cc = parseCacheControl('private="Set-Cookie, X-Foo", max-age="5"');
    expect(cc.private).toBe(true);
    expect(cc.maxAge).toBe(5);
  });
  it("treats malformed numbers as 0 and keeps the smallest duplicate", () => {
    expect(parseCacheControl("max-age=abc").maxAge).toBe(0);
    expect(parseCacheControl("max-age=-5").maxAge).toBe(0);
    expect(parseCacheControl("max-age=100, max-age=20").maxAge).toBe(20);
  });
  it("returns all-false for empty or garbage", () => {
    expect(parseCacheControl(null)).toMatchObject({ noStore: false, private: false });
    expect(parseCacheControl(null).maxAge).toBeUndefined();
    expect(parseCacheControl(",,;;==").noCache).toBe(false);
  });
  it("reads no-store, no-cache, must-revalidate", () => {
    expect(parseCacheControl("no-store, no-cache, must-revalidate")).toMatchObject({
      noStore: true,
      noCache: true,
      mustRevalidate: true,
    });
  });
});

describe("sharedFreshness", () => {
  const now = Date.parse("2026-11-25T12:00:00Z");
  it("prefers s-maxage over max-age over Expires", () => {
    expect(sharedFreshness(h("max-age=10, s-maxage=99"), now).lifetime).toBe(99);
    expect(sharedFreshness(h("max-age=10", { expires: "Wed, 25 Nov 2026 13:00:00 GMT" }), now).lifetime).toBe(
      10,
    );
  });
  it("uses Expires minus Date, and treats an invalid Expires as stale", () => {
    const f = sharedFreshness(
      h(null, { expires: "Wed, 25 Nov 2026 12:10:00 GMT", date: "Wed, 25 Nov 2026 12:00:00 GMT" }),
      now,
    );
    expect(f.lifetime).toBe(600);
    expect(sharedFreshness(h(null, { expires: "0" }), now).lifetime).toBe(0);
  });
  it("has no lifetime without freshness information", () => {
    expect(sharedFreshness(h("public"), now).lifetime).toBeNull();
  });
  it("reads Age and drops stale extensions under must-revalidate", () => {
    const f = sharedFreshness(h("max-age=60, stale-while-revalidate=5, must-revalidate", { age: "12" }), now);
    expect(f.age).toBe(12);
    expect(f.staleWhileRevalidate).toBe(0);
    expect(parseAge("x")).toBe(0);
    expect(parseAge(" 7 ")).toBe(7);
  });
});
