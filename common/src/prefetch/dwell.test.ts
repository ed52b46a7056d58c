import { describe, expect, it } from "vitest";
import { dwellWeights, type SessionPageView, transitionKey } from "./dwell.ts";

/** One tab: page views in order, `dwells[i]` ms between leaving page i and leaving page i + 1. */
function session(id: string, paths: string[], dwells: number[], t0 = 1_000_000): SessionPageView[] {
  let ts = t0;
  return paths.map((path, i) => {
    if (i > 0) ts += dwells[i - 1] as number;
    return {
      site: "s",
      sessionId: id,
      pvid: `${id}-${i}`,
      prevPvid: i > 0 ? `${id}-${i - 1}` : null,
      ts,
      path,
    };
  });
}

const k = (from: string, to: string) => transitionKey("s", from, to);

describe("dwellWeights", () => {
  it("weighs bounces 0.25, short dwells 0.6 and long dwells 1, averaged per transition", () => {
    const rows = [
      ...session("a", ["/c", "/p/1"], [500]),
      ...session("b", ["/c", "/p/1"], [1500]),
      ...session("c", ["/c", "/p/1"], [5000]),
      ...session("d", ["/c", "/p/1"], [60_000]),
      ...session("e", ["/c", "/p/1", "/cart"], [30_000, 3000]),
    ];
    const w = dwellWeights(rows);
    const t = w.get(k("/c", "/p/1"));
    expect(t?.samples).toBe(5);
    expect(t?.meanWeight).toBeCloseTo((0.25 + 0.25 + 0.6 + 1 + 1) / 5, 10);
    expect(t?.weight).toBeCloseTo(t?.meanWeight ?? -1, 10);
    expect(w.get(k("/p/1", "/cart"))?.meanWeight).toBe(0.6);
  });

  it("keeps weight 1 below the minimum number of observations", () => {
    const rows = [1, 2, 3, 4].flatMap((i) => session(`s${i}`, ["/c", "/p/1"], [100]));
    const w = dwellWeights(rows);
    expect(w.get(k("/c", "/p/1"))).toEqual({ samples: 4, meanWeight: 0.25, weight: 1 });
    const w3 = dwellWeights(rows, { minSamples: 3 });
    expect(w3.get(k("/c", "/p/1"))?.weight).toBe(0.25);
  });

  it("treats a negative dwell as unknown (weight 1)", () => {
    const rows = session("a", ["/c", "/p/1"], [-4000]);
    expect(dwellWeights(rows, { minSamples: 1 }).get(k("/c", "/p/1"))?.weight).toBe(1);
  });

  it("joins only within a session and a site, and skips page views whose previous one is missing", () => {
    const [first, second] = session("a", ["/c", "/p/1"], [100]) as [SessionPageView, SessionPageView];
    const otherSession = { ...second, sessionId: "b" };
    const otherSite = { ...second, site: "t" };
    const orphan = { ...second, pvid: "x", prevPvid: "missing" };
    const noSession = { ...second, pvid: "y", sessionId: null };
    const w = dwellWeights([first, otherSession, otherSite, orphan, noSession], { minSamples: 1 });
    expect(w.size).toBe(0);
    expect(dwellWeights([first, second], { minSamples: 1 }).get(k("/c", "/p/1"))?.samples).toBe(1);
  });

  it("counts a landing page (no previous page view) as no transition", () => {
    expect(dwellWeights(session("a", ["/"], [])).size).toBe(0);
  });
});
