import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_PAGE_GROUP_LENGTH, pageGroupFor, parsePageGroupRules } from "./page-group.ts";

const rules = parsePageGroupRules("/p/:id=product,/c/:slug=category,/=home,/search=search,/static/*=static");

describe("pageGroupFor with rules", () => {
  it("maps route patterns to groups", () => {
    expect(pageGroupFor("/p/123", rules)).toBe("product");
    expect(pageGroupFor("/p/123/", rules)).toBe("product");
    expect(pageGroupFor("/c/shoes?utm_source=x", rules)).toBe("category");
    expect(pageGroupFor("/", rules)).toBe("home");
    expect(pageGroupFor("/search?q=red+shoes", rules)).toBe("search");
    expect(pageGroupFor("/static/a/b/c.js", rules)).toBe("static");
    expect(pageGroupFor("https://shop.example/p/9?x=1#top", rules)).toBe("product");
  });
  it("does not match a pattern with a different segment count", () => {
    expect(pageGroupFor("/p/123/reviews", rules)).toBe("/p/:id/reviews");
    expect(pageGroupFor("/p", rules)).toBe("/p");
  });
  it("first rule wins", () => {
    const r = parsePageGroupRules("/p/special=special,/p/:id=product");
    expect(pageGroupFor("/p/special", r)).toBe("special");
    expect(pageGroupFor("/p/other", r)).toBe("product");
  });
});

describe("pageGroupFor default grouping", () => {
  it("replaces id-like segments and drops the query", () => {
    expect(pageGroupFor("/p/123")).toBe("/p/:id");
    expect(pageGroupFor("/order/3f2504e0-4f89-11d3-9a0c-0305e82c3301/status")).toBe("/order/:id/status");
    expect(pageGroupFor("/blob/deadbeefdeadbeefdeadbeef")).toBe("/blob/:id");
    expect(pageGroupFor("/p/blue-shirt-12345?ref=home")).toBe("/p/:id");
    expect(pageGroupFor("/Category/Shoes")).toBe("/category/shoes");
    expect(pageGroupFor("")).toBe("/");
    expect(pageGroupFor("/?q=1")).toBe("/");
  });
  it("keeps short words with digits such as versions", () => {
    expect(pageGroupFor("/v2/help")).toBe("/v2/help");
  });
  it("caps segments and length", () => {
    expect(pageGroupFor("/a/b/c/d/e/f/g/h/i/j")).toBe("/a/b/c/d/e/f/g/h/*");
    expect(
      pageGroupFor(`/${"x".repeat(30)}/${"y".repeat(30)}/${"z".repeat(30)}/${"w".repeat(30)}`).length,
    ).toBe(MAX_PAGE_GROUP_LENGTH);
  });
  it("never returns a query, a digit run of 2+ or more than the cap (property)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        const g = pageGroupFor(s);
        expect(g.startsWith("/")).toBe(true);
        expect(g.length).toBeLessThanOrEqual(MAX_PAGE_GROUP_LENGTH);
        expect(g).not.toMatch(/[?#]/);
      }),
    );
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[a-z]{1,8}$/), { maxLength: 4 }), fc.nat(), (words, id) => {
        const g = pageGroupFor(`/${[...words, String(id)].join("/")}`);
        expect(g).toBe(`/${[...words, ":id"].join("/")}`);
      }),
    );
  });
});

describe("parsePageGroupRules", () => {
  it("parses entries and ignores blanks", () => {
    expect(parsePageGroupRules(" /p/:id = product ,, \n/=home")).toEqual([
      { pattern: "/p/:id", group: "product" },
      { pattern: "/", group: "home" },
    ]);
    expect(parsePageGroupRules("")).toEqual([]);
  });
  it("names the bad entry", () => {
    expect(() => parsePageGroupRules("/p/:id=product,oops")).toThrow(/"oops"/);
    expect(() => parsePageGroupRules("p/:id=product")).toThrow(/"p\/:id=product".*start with/);
    expect(() => parsePageGroupRules("/p/:id=")).toThrow(/"\/p\/:id=".*group/);
    expect(() => parsePageGroupRules("/p/*/x=bad")).toThrow(/"\/p\/\*\/x=bad"/);
    expect(() => parsePageGroupRules("/p/:=bad")).toThrow(/needs a name/);
    expect(() => parsePageGroupRules("/p?x=1=bad")).toThrow(/without query/);
  });
});
