import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { lcpParts } from "./lcp-parts.ts";

const t = fc.double({ min: 0, max: 60_000, noNaN: true });
const resource = fc.option(fc.record({ startTime: t, requestStart: t, responseEnd: t }), { nil: undefined });

describe("lcpParts", () => {
  it("splits an image LCP like web-vitals' attribution build", () => {
    // responseStart 200; image requested at 350, done at 900; LCP painted at 1000.
    expect(lcpParts(1000, 200, 0, { startTime: 340, requestStart: 350, responseEnd: 900 })).toEqual({
      ttfb: 200,
      resourceLoadDelay: 150,
      resourceLoadDuration: 550,
      elementRenderDelay: 100,
    });
  });

  it("gives a text LCP no resource parts", () => {
    expect(lcpParts(500, 120, 0, undefined)).toEqual({
      ttfb: 120,
      resourceLoadDelay: 0,
      resourceLoadDuration: 0,
      elementRenderDelay: 380,
    });
  });

  it("measures from activationStart on a prerendered page and falls back to startTime", () => {
    // Without Timing-Allow-Origin requestStart is 0: startTime is used instead.
    expect(lcpParts(300, 50, 100, { startTime: 150, requestStart: 0, responseEnd: 250 })).toEqual({
      ttfb: 0,
      resourceLoadDelay: 50,
      resourceLoadDuration: 100,
      elementRenderDelay: 150,
    });
  });

  it("caps a resource that finishes after LCP (e.g. video) at LCP", () => {
    const p = lcpParts(800, 100, 0, { startTime: 200, requestStart: 200, responseEnd: 5000 });
    expect(p).toEqual({
      ttfb: 100,
      resourceLoadDelay: 100,
      resourceLoadDuration: 600,
      elementRenderDelay: 0,
    });
  });

  it("parts are ≥ 0 and sum to LCP (0.1 ms) for any timings", () => {
    fc.assert(
      fc.property(t, t, t, resource, (lcp, responseStart, activationStart, res) => {
        const p = lcpParts(lcp, responseStart, activationStart, res);
        const parts = [p.ttfb, p.resourceLoadDelay, p.resourceLoadDuration, p.elementRenderDelay];
        for (const x of parts) expect(x).toBeGreaterThanOrEqual(0);
        const sumTenths = Math.round(parts.reduce((a, b) => a + b, 0) * 10);
        expect(sumTenths).toBe(Math.round(lcp * 10));
      }),
      { numRuns: 2000 },
    );
  });
});
