import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cacheKeyFor, compileParamMatcher, matchesParam, normalizeQuery } from "./cache-key.ts";

const key = (u: string, list?: string[]) => cacheKeyFor(new URL(u), compileParamMatcher(list));

describe("cache key", () => {
  it("drops marketing params and sorts the rest", () => {
    expect(key("https://Shop.Test/p/1?utm_source=x&b=2&gclid=9&a=1&fbclid=z#frag")).toBe(
      "https://shop.test/p/1?a=1&b=2",
    );
  });
  it("gives the same key for the same page with different marketing params", () => {
    expect(key("http://s.test/c?utm_medium=mail&q=shoe")).toBe(key("http://s.test/c?q=shoe&utm_campaign=w"));
  });
  it("keeps order of repeated names (stable sort) and original encoding", () => {
    expect(key("http://s.test/?z=1&a=2&a=1&q=a%20b")).toBe("http://s.test/?a=2&a=1&q=a%20b&z=1");
  });
  it("returns no '?' when every param is dropped or empty", () => {
    expect(key("http://s.test/x?utm_source=a&&_ga=1")).toBe("http://s.test/x");
    expect(key("http://s.test/x?")).toBe("http://s.test/x");
  });
  it("keeps the port and distinguishes scheme", () => {
    expect(key("http://s.test:8080/x")).not.toBe(key("https://s.test:8080/x"));
    expect(key("http://s.test:8080/x")).toBe("http://s.test:8080/x");
  });
  it("matches case-insensitively and through percent-encoding; custom lists replace the default", () => {
    expect(matchesParam("UTM_Source", compileParamMatcher())).toBe(true);
    expect(matchesParam("utm%5Fsource", compileParamMatcher())).toBe(true);
    expect(matchesParam("%E0%A4%A", compileParamMatcher())).toBe(false);
    expect(key("http://s.test/?ref=1&gclid=2", ["ref"])).toBe("http://s.test/?gclid=2");
  });
  it("normalizeQuery works without the leading ?", () => {
    expect(normalizeQuery("b=1&a", compileParamMatcher())).toBe("?a&b=1");
  });
});

describe("cache key properties", () => {
  const pair = fc.tuple(
    fc.constantFrom("a", "b", "c", "utm_source", "gclid", "q", "Z"),
    fc.stringMatching(/^[a-z0-9%]{0,4}$/),
  );
  it("does not depend on the order of distinct parameters and is idempotent", () => {
    fc.assert(
      fc.property(fc.uniqueArray(pair, { selector: (p) => p[0] }), (pairs) => {
        const m = compileParamMatcher();
        const q = pairs.map(([k, v]) => `${k}=${v}`);
        const a = normalizeQuery(q.join("&"), m);
        const b = normalizeQuery([...q].reverse().join("&"), m);
        expect(a).toBe(b);
        expect(normalizeQuery(a, m)).toBe(a);
        expect(a).not.toMatch(/utm_|gclid/);
      }),
    );
  });
});
