import { describe, expect, it } from "vitest";
import { DecayedCounts, decayFactor } from "./counts.ts";
import { collapseRepeats, NextPageModel } from "./model.ts";
import { resolveModelOptions } from "./options.ts";
import { transitionWeight } from "./weight.ts";

const plain = { recencyWeight: 0, bagContext: false, halfLifeMs: Number.POSITIVE_INFINITY };

describe("NextPageModel", () => {
  it("never proposes the current page and ignores reloads", () => {
    const m = new NextPageModel(plain);
    m.observeSession(["a", "a", "b", "a", "c"]);
    const top = m.predict(["a"], { k: 5 });
    expect(top.map((c) => c.page)).not.toContain("a");
    expect(
      m.counts
        .successors("u1:a")
        .map(([p]) => p)
        .sort(),
    ).toEqual(["b", "c"]);
  });

  it("uses the second-order context when it was seen", () => {
    const m = new NextPageModel(plain);
    for (let i = 0; i < 20; i++) m.observeSession(["x", "a", "b"]);
    for (let i = 0; i < 30; i++) m.observeSession(["y", "a", "c"]);
    expect(m.predict(["x", "a"])[0]?.page).toBe("b");
    expect(m.predict(["y", "a"])[0]?.page).toBe("c");
    // unseen second-order context backs off to first order (c is more frequent after a)
    expect(m.predict(["z", "a"])[0]?.page).toBe("c");
  });

  it("backs off to popularity for an unseen page, and a sparse context keeps lower-order mass", () => {
    const m = new NextPageModel(plain);
    for (let i = 0; i < 50; i++) m.observeSession(["h", "p"]);
    m.observeSession(["q", "r"]);
    expect(m.predict(["never-seen"])[0]?.page).toBe("p");
    const d = m.distribution(["q"]);
    expect(d.get("r")).toBeGreaterThan(0);
    expect(d.get("p")).toBeGreaterThan(0); // discounted mass from the popularity level
    const sum = [...d.values()].reduce((s, v) => s + v, 0);
    expect(sum).toBeCloseTo(1, 9);
  });

  it("backs off to the page group when a URL has no observations", () => {
    const groupOf = (p: string) => (p.startsWith("/p/") ? "/p/:id" : p.startsWith("/c/") ? "/c/:slug" : p);
    const m = new NextPageModel(plain, groupOf);
    for (let i = 0; i < 10; i++) m.observeSession(["/c/shoes", "/p/1"]);
    for (let i = 0; i < 10; i++) m.observeSession(["/c/hats", "/p/2"]);
    for (let i = 0; i < 40; i++) m.observeSession(["/", "/about"]);
    // /c/new was never seen: its group says a product comes next, not the popular /about
    const top = m.predict(["/c/new"], { k: 2 });
    expect(top.map((c) => c.page).sort()).toEqual(["/p/1", "/p/2"]);
    const noGroups = new NextPageModel(plain);
    for (let i = 0; i < 10; i++) noGroups.observeSession(["/c/shoes", "/p/1"]);
    for (let i = 0; i < 40; i++) noGroups.observeSession(["/", "/about"]);
    expect(noGroups.predict(["/c/new"])[0]?.page).toBe("/about");
  });

  it("applies the threshold and k", () => {
    const m = new NextPageModel(plain);
    for (let i = 0; i < 8; i++) m.observeSession(["a", "b"]);
    for (let i = 0; i < 2; i++) m.observeSession(["a", "c"]);
    expect(m.predict(["a"], { threshold: 0.5 }).map((c) => c.page)).toEqual(["b"]);
    expect(m.predict(["a"], { threshold: 0.99 })).toEqual([]);
    expect(m.predict(["a"], { k: 1 }).length).toBe(1);
  });

  it("drops excluded (denied) pages from the candidates", () => {
    const m = new NextPageModel(plain);
    for (let i = 0; i < 8; i++) m.observeSession(["/p/1", "/cart"]);
    m.observeSession(["/p/1", "/p/2"]);
    const top = m.predict(["/p/1"], { exclude: (p) => p === "/cart" });
    expect(top.map((c) => c.page)).toEqual(["/p/2"]);
  });

  it("applies the threshold to the true probability, before excluding pages (no renormalising)", () => {
    const m = new NextPageModel(plain);
    for (let i = 0; i < 8; i++) m.observeSession(["/p/1", "/cart"]);
    for (let i = 0; i < 2; i++) m.observeSession(["/p/1", "/p/2"]);
    const all = m.predict(["/p/1"]);
    const p2 = all.find((c) => c.page === "/p/2")?.p ?? 0;
    expect(p2).toBeGreaterThan(0.1);
    expect(p2).toBeLessThan(0.3);
    const kept = m.predict(["/p/1"], { exclude: (p) => p === "/cart", threshold: 0.3 });
    expect(kept).toEqual([]);
    const low = m.predict(["/p/1"], { exclude: (p) => p === "/cart", threshold: 0.1 });
    expect(low).toEqual([{ page: "/p/2", p: p2 }]);
  });

  it("lets recent observations outweigh old ones under decay", () => {
    const hour = 3600_000;
    const m = new NextPageModel({ ...plain, halfLifeMs: hour });
    for (let i = 0; i < 10; i++) m.observe(["a"], "old", 1, 0);
    for (let i = 0; i < 3; i++) m.observe(["a"], "new", 1, 5 * hour);
    expect(m.predict(["a"], { now: 5 * hour })[0]?.page).toBe("new");
    const undecayed = new NextPageModel(plain);
    for (let i = 0; i < 10; i++) undecayed.observe(["a"], "old", 1, 0);
    for (let i = 0; i < 3; i++) undecayed.observe(["a"], "new", 1, 5 * hour);
    expect(undecayed.predict(["a"])[0]?.page).toBe("old");
  });

  it("gives pages seen earlier in the session a share by recency", () => {
    const m = new NextPageModel({ ...plain, recencyWeight: 0.9 });
    for (let i = 0; i < 10; i++) m.observeSession(["b", "z"]);
    m.observeSession(["x", "y"]);
    expect(m.predict(["x", "y", "b"])[0]?.page).toBe("y");
  });

  it("returns nothing from an empty model or an empty path", () => {
    const m = new NextPageModel();
    expect(m.predict(["a"])).toEqual([]);
    m.observeSession(["a", "b"]);
    expect(m.predict([])).toEqual([]);
  });
});

describe("decay and weights", () => {
  it("halves a weight every half-life, in any order of arrival", () => {
    expect(decayFactor(0, 10, 10)).toBeCloseTo(0.5);
    expect(decayFactor(0, 10, Number.POSITIVE_INFINITY)).toBe(1);
    const c = new DecayedCounts(10);
    c.add("k", "x", 1, 10);
    c.add("k", "x", 1, 0); // late arrival counts as already decayed
    expect(c.successors("k", 10)[0]?.[1]).toBeCloseTo(1.5);
    expect(c.successors("k", 20)[0]?.[1]).toBeCloseTo(0.75);
  });

  it("weighs bounces and short dwells less, unknown dwell fully", () => {
    expect(transitionWeight(null)).toBe(1);
    expect(transitionWeight(500)).toBe(0.25);
    expect(transitionWeight(5000)).toBe(0.6);
    expect(transitionWeight(60_000)).toBe(1);
  });

  it("validates options, naming the key", () => {
    expect(() => resolveModelOptions({ discount: 1.5 })).toThrow(/discount/);
    expect(() => resolveModelOptions({ maxOrder: 2.5 })).toThrow(/maxOrder/);
    expect(() => new DecayedCounts(0)).toThrow(/halfLifeMs/);
  });

  it("collapses consecutive repeats only", () => {
    expect(collapseRepeats(["a", "a", "b", "a"])).toEqual(["a", "b", "a"]);
  });
});

describe("NextPageModel (property)", () => {
  it("gives a distribution that sums to 1 and never contains the current page", async () => {
    const fc = await import("fast-check");
    const page = fc.constantFrom("a", "b", "c", "d", "e");
    fc.assert(
      fc.property(
        fc.array(fc.array(page, { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 20 }),
        fc.array(page, { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        (sessions, path, groups) => {
          const m = new NextPageModel({}, groups ? (p) => (p < "c" ? "x" : "y") : undefined);
          for (const s of sessions) m.observeSession(s);
          const d = m.distribution(path);
          if (d.size === 0) return true;
          const sum = [...d.values()].reduce((s, v) => s + v, 0);
          return (
            Math.abs(sum - 1) < 1e-9 &&
            !d.has(path[path.length - 1] as string) &&
            [...d.values()].every((v) => v >= 0)
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
