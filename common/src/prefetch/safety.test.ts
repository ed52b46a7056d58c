import { describe, expect, it } from "vitest";
import {
  clientDenyReason,
  isPrerenderRequest,
  isSpeculativeRequest,
  DEFAULT_SPECULATION_POLICY as P,
  responseDenyReason,
  urlDenyReason,
} from "./safety.ts";

const O = "https://shop.example";
const h = (o: Record<string, string>) => new Headers(o);

describe("urlDenyReason", () => {
  it("allows same-origin catalogue pages", () => {
    expect(urlDenyReason("/p/12", O, P)).toBeNull();
    expect(urlDenyReason("https://shop.example/c/shoes?page=2", O, P)).toBeNull();
    expect(urlDenyReason("/search", O, P)).toBeNull();
    expect(urlDenyReason("/cartography", O, P)).toBeNull();
  });
  it.each([
    ["/cart", /denied/],
    ["/cart/add?id=1", /denied/],
    ["/CHECKOUT/step-2", /denied/],
    ["/%63art", /denied/],
    ["//account", /cross-origin|denied/],
    ["/logout", /denied/],
    ["/login?next=/", /denied/],
    ["/account/orders", /denied/],
    ["/search?q=shoes", /query/],
    ["https://evil.example/p/1", /cross-origin/],
    ["http://shop.example/p/1", /cross-origin/],
    ["https://u:p@shop.example/p/1", /credentials/],
    ["/%E0%A4%A", /undecodable/],
  ])("denies %s", (url, reason) => {
    expect(urlDenyReason(url, O, P)).toMatch(reason);
  });
});

describe("responseDenyReason", () => {
  const html = { "content-type": "text/html; charset=utf-8", "cache-control": "public, max-age=60" };
  it("allows a cacheable public HTML page", () => expect(responseDenyReason(200, h(html))).toBeNull());
  it.each([
    [200, { ...html, "cache-control": "private, max-age=60" }, /private/],
    [200, { ...html, "cache-control": "no-store" }, /no-store/],
    [200, { ...html, "set-cookie": "a=b" }, /cookie/],
    [200, { ...html, vary: "Accept-Encoding, Cookie" }, /Vary/],
    [200, { ...html, "content-type": "application/json" }, /HTML/],
    [404, html, /status/],
  ])("denies %s %j", (status, headers, reason) => {
    expect(responseDenyReason(status, h(headers))).toMatch(reason);
  });
});

describe("clientDenyReason", () => {
  it("allows a plain fast client", () => expect(clientDenyReason(h({ ect: "4g" }), P)).toBeNull());
  it.each([
    [{ "save-data": "on" }, /Save-Data/],
    [{ ect: "2g" }, /ECT/],
    [{ ect: "slow-2g" }, /ECT/],
    [{ cookie: "theme=dark; session=abc" }, /session cookie/],
    [{ authorization: "Bearer x" }, /Authorization/],
  ])("denies %j", (headers, reason) => {
    expect(clientDenyReason(h(headers), P)).toMatch(reason);
  });
  it("keeps 3g and unknown ECT", () => {
    expect(clientDenyReason(h({ ect: "3g" }), P)).toBeNull();
    expect(clientDenyReason(h({ ect: "bogus" }), P)).toBeNull();
    expect(clientDenyReason(h({ cookie: "sessionless=1" }), P)).toBeNull();
  });
});

describe("Sec-Purpose", () => {
  it("recognises prefetch and prerender", () => {
    expect(isSpeculativeRequest(h({ "sec-purpose": "prefetch" }))).toBe(true);
    expect(isSpeculativeRequest(h({ "sec-purpose": "prefetch;prerender" }))).toBe(true);
    expect(isSpeculativeRequest(h({ "sec-purpose": "prefetch;anonymous-client-ip" }))).toBe(true);
    expect(isSpeculativeRequest(h({ purpose: "prefetch" }))).toBe(true);
    expect(isSpeculativeRequest(h({}))).toBe(false);
    expect(isSpeculativeRequest(h({ "sec-purpose": "other" }))).toBe(false);
    expect(isPrerenderRequest(h({ "sec-purpose": "prefetch;prerender" }))).toBe(true);
    expect(isPrerenderRequest(h({ "sec-purpose": "prefetch" }))).toBe(false);
  });
});
