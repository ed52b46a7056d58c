import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { pickArm, pressAllowed } from "./tab-session.ts";

const sid = () => randomBytes(12).toString("hex");

describe("pickArm", () => {
  it("assigns arms in the configured shares (weights normalised by their sum)", () => {
    const counts: Record<string, number> = {};
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const arm = pickArm(sid(), "holdout:1,ours:8,press:1");
      counts[arm] = (counts[arm] ?? 0) + 1;
    }
    expect(Object.keys(counts).sort()).toEqual(["holdout", "ours", "press"]);
    expect((counts.holdout ?? 0) / n).toBeCloseTo(0.1, 1);
    expect((counts.ours ?? 0) / n).toBeCloseTo(0.8, 1);
    expect((counts.press ?? 0) / n).toBeCloseTo(0.1, 1);
  });

  it("is a pure function of the session id, so a tab keeps its arm", () => {
    const s = sid();
    const arm = pickArm(s, "holdout:0.1,ours:0.8,press:0.1");
    for (let i = 0; i < 5; i++) expect(pickArm(s, "holdout:0.1,ours:0.8,press:0.1")).toBe(arm);
    expect(pickArm("00000000aaaaaaaaaaaaaaaa", "holdout:0.1,ours:0.8,press:0.1")).toBe("holdout");
    expect(pickArm("ffffffffaaaaaaaaaaaaaaaa", "holdout:0.1,ours:0.8,press:0.1")).toBe("press");
  });

  it("no experiment without a valid spec; unknown arms and zero shares are ignored", () => {
    expect(pickArm(sid(), undefined)).toBe("");
    expect(pickArm(sid(), "")).toBe("");
    expect(pickArm(sid(), "control:1")).toBe("");
    for (let i = 0; i < 200; i++) expect(pickArm(sid(), "holdout:0,control:5,press:1")).toBe("press");
  });
});

describe("pressAllowed", () => {
  const here = new URL("https://shop.test/c/shoes?page=2");
  const ok = (href: string, conn?: { saveData?: boolean; effectiveType?: string }) =>
    pressAllowed(new URL(href, here), here, conn);

  it("allows other public pages of the same origin", () => {
    expect(ok("/p/1")).toBe(true);
    expect(ok("/c/shoes?page=3")).toBe(true);
    expect(ok("/search")).toBe(true); // no query: the search landing page
    expect(ok("/cartoons")).toBe(true); // a prefix of a word is not the denied path
    expect(ok("/p/1", { effectiveType: "4g", saveData: false })).toBe(true);
    expect(ok("/p/1", { effectiveType: "3g" })).toBe(true);
  });

  it.each([
    "/logout",
    "/cart",
    "/cart/add?id=1",
    "/Checkout/step-1",
    "/account",
    "/account/orders",
    "/login?next=/p/1",
    "/signin",
    "/signout",
    "/register",
    "/admin/",
    "/%63art", // percent-encoded /cart
    "/cart.html",
    "//logout",
    "/search?q=boots",
  ])("never prefetches %s", (href) => {
    expect(ok(href)).toBe(false);
  });

  it("never prefetches another origin, credentials or the current page", () => {
    expect(ok("https://other.test/p/1")).toBe(false);
    expect(ok("https://user:pw@shop.test/p/1")).toBe(false);
    expect(ok("/c/shoes?page=2#reviews")).toBe(false);
    expect(ok("/%E0%A4%A")).toBe(false); // undecodable path
  });

  it("prefetches nothing under Save-Data or a 2g connection", () => {
    expect(ok("/p/1", { saveData: true })).toBe(false);
    expect(ok("/p/1", { effectiveType: "2g" })).toBe(false);
    expect(ok("/p/1", { effectiveType: "slow-2g" })).toBe(false);
  });
});
