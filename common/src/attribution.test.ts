import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type AttributionInput, attribute, cacheStatusFromServerTiming } from "./attribution.ts";
import type { Attribution, NavTiming, ServerTimingEntry } from "./rum-types.ts";

/** A navigation: 10 ms to DNS, 30 ms connect (DNS+TCP+TLS), request at 42, first byte at 142. */
function nav(over: Partial<NavTiming> = {}): NavTiming {
  return {
    type: "navigate",
    redirectStart: 0,
    redirectEnd: 0,
    fetchStart: 2,
    domainLookupStart: 10,
    domainLookupEnd: 15,
    connectStart: 15,
    secureConnectionStart: 25,
    connectEnd: 40,
    requestStart: 42,
    responseStart: 142,
    responseEnd: 170,
    domInteractive: 300,
    domContentLoadedEventEnd: 320,
    loadEventEnd: 500,
    transferSize: 10_000,
    encodedBodySize: 9_000,
    deliveryType: "",
    activationStart: 0,
    ...over,
  };
}

function st(cache: string | null, edge?: number, origin?: number, app?: number): ServerTimingEntry[] {
  const out: ServerTimingEntry[] = [];
  if (cache !== null) out.push({ name: "cdn-cache", duration: 0, description: cache });
  if (edge !== undefined) out.push({ name: "edge", duration: edge, description: "" });
  if (origin !== undefined) out.push({ name: "origin", duration: origin, description: "" });
  if (app !== undefined) out.push({ name: "app", duration: app, description: "" });
  out.push({ name: "rid", duration: 0, description: "abc123" });
  return out;
}

function sum(a: Attribution): number {
  return a.queueing + a.lastMile + a.edge + a.middleMile + (a.backend ?? 0);
}

describe("attribute: examples", () => {
  it("MISS: splits the request→first-byte time into wire, edge, middle mile, backend", () => {
    const a = attribute({ nav: nav(), serverTiming: st("MISS", 80, 70, 50), vitals: { ttfb: 142 } });
    expect(a.ttfb).toBe(142);
    expect(a.queueing).toBe(12); // 10 before DNS + 2 between connectEnd and requestStart
    expect(a.lastMileConnect).toBe(30);
    expect(a.lastMileWire).toBe(20); // 100 − 80
    expect(a.lastMile).toBe(50);
    expect(a.edge).toBe(10);
    expect(a.middleMile).toBe(20);
    expect(a.backend).toBe(50);
    expect(a.originAsOnePart).toBe(false);
    expect(a.edgeMeasured).toBe(true);
    expect(a.download).toBe(28);
    expect(sum(a)).toBe(142);
  });

  it("HIT: middle mile and backend are 0 even if origin timings are present", () => {
    const a = attribute({ nav: nav(), serverTiming: st("HIT", 3, 70, 50), vitals: {} });
    expect(a.edge).toBe(3);
    expect(a.middleMile).toBe(0);
    expect(a.backend).toBe(0);
    expect(a.lastMileWire).toBe(97);
    expect(sum(a)).toBe(142);
  });

  it("STALE is served from cache like a HIT", () => {
    const a = attribute({ nav: nav(), serverTiming: st("stale", 4), vitals: {} });
    expect(a.middleMile).toBe(0);
    expect(a.backend).toBe(0);
    expect(a.edge).toBe(4);
    expect(cacheStatusFromServerTiming(st("stale"))).toBe("STALE");
  });

  it("no app timing: backend unknown, origin as one part", () => {
    const a = attribute({ nav: nav(), serverTiming: st("MISS", 80, 70), vitals: {} });
    expect(a.backend).toBeNull();
    expect(a.originAsOnePart).toBe(true);
    expect(a.middleMile).toBe(70);
    expect(a.edge).toBe(10);
    expect(sum(a)).toBe(142);
  });

  it("redirects count as queueing", () => {
    const a = attribute({
      nav: nav({
        redirectStart: 1,
        redirectEnd: 120,
        fetchStart: 121,
        domainLookupStart: 121,
        domainLookupEnd: 121,
        connectStart: 121,
        secureConnectionStart: 0,
        connectEnd: 121,
        requestStart: 122,
        responseStart: 222,
        responseEnd: 230,
      }),
      serverTiming: st("MISS", 80, 70, 50),
      vitals: {},
    });
    expect(a.ttfb).toBe(222);
    expect(a.queueing).toBe(122);
    expect(a.lastMileConnect).toBe(0);
    expect(a.lastMileWire).toBe(20);
    expect(sum(a)).toBe(222);
  });

  it("prerendered page: TTFB counts from activation and is 0 when the response came before", () => {
    const before = attribute({
      nav: nav({ activationStart: 1000 }),
      serverTiming: st("MISS", 80, 70, 50),
      vitals: {},
    });
    expect(before.ttfb).toBe(0);
    expect([before.queueing, before.lastMile, before.edge, before.middleMile, before.backend]).toEqual([
      0, 0, 0, 0, 0,
    ]);
    expect(before.download).toBe(0);
    // Activated mid-request: only the time after activation counts, server parts clamp to it.
    const mid = attribute({
      nav: nav({ activationStart: 100 }),
      serverTiming: st("MISS", 80, 70, 50),
      vitals: {},
    });
    expect(mid.ttfb).toBe(42);
    expect(mid.queueing).toBe(0);
    expect(mid.lastMileConnect).toBe(0);
    expect(mid.edge + mid.middleMile + (mid.backend ?? 0) + mid.lastMileWire).toBeCloseTo(42, 9);
    expect(mid.backend).toBe(42);
  });

  it("missing Server-Timing (site without the edge): wire holds request→first byte", () => {
    const a = attribute({ nav: nav(), vitals: { ttfb: 142 } });
    expect(a.edgeMeasured).toBe(false);
    expect(a.edge).toBe(0);
    expect(a.middleMile).toBe(0);
    expect(a.backend).toBeNull();
    expect(a.originAsOnePart).toBe(false);
    expect(a.lastMileWire).toBe(100);
    expect(sum(a)).toBe(142);
    // The origin's own app time is still a known backend part.
    const withApp = attribute({ nav: nav(), serverTiming: st(null, undefined, undefined, 30), vitals: {} });
    expect(withApp.backend).toBe(30);
    expect(withApp.lastMileWire).toBe(70);
  });

  it("no navigation entry: everything from vitals.ttfb lands in the wire part", () => {
    const a = attribute({ serverTiming: st("MISS", 80, 70, 50), vitals: { ttfb: 300 } });
    expect(a.ttfb).toBe(300);
    expect(a.lastMileWire).toBe(220);
    expect(a.download).toBe(0);
    expect(attribute({ vitals: {} }).ttfb).toBe(0);
  });

  it("render: LCP − TTFB split by the LCP sub-parts", () => {
    const a = attribute({
      nav: nav(),
      vitals: { lcp: 1142 },
      lcpParts: { ttfb: 142, resourceLoadDelay: 300, resourceLoadDuration: 500, elementRenderDelay: 200 },
    });
    expect(a.render).toEqual({ resourceLoadDelay: 300, resourceLoadDuration: 500, elementRenderDelay: 200 });
    expect(attribute({ nav: nav(), vitals: { lcp: 900 } }).render).toBeNull();
    // Sub-parts larger than LCP − TTFB are clamped, earlier sub-parts first.
    const c = attribute({
      nav: nav(),
      vitals: { lcp: 442 },
      lcpParts: { ttfb: 142, resourceLoadDelay: 250, resourceLoadDuration: 500, elementRenderDelay: 200 },
    });
    expect(c.render).toEqual({ resourceLoadDelay: 250, resourceLoadDuration: 50, elementRenderDelay: 0 });
  });

  it("unknown cache status descriptions map to NONE", () => {
    expect(cacheStatusFromServerTiming(st("WEIRD"))).toBe("NONE");
    expect(cacheStatusFromServerTiming(undefined)).toBe("NONE");
    expect(cacheStatusFromServerTiming(st("MISS"))).toBe("MISS");
  });
});

const anyNumber = fc.oneof(
  { weight: 8, arbitrary: fc.double({ min: -1e3, max: 1e6, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(0, -0, Number.NaN, Number.POSITIVE_INFINITY, -1) },
);

const navArb: fc.Arbitrary<NavTiming> = fc.record({
  type: fc.constantFrom("navigate", "reload", "prerender"),
  redirectStart: anyNumber,
  redirectEnd: anyNumber,
  fetchStart: anyNumber,
  domainLookupStart: anyNumber,
  domainLookupEnd: anyNumber,
  connectStart: anyNumber,
  secureConnectionStart: anyNumber,
  connectEnd: anyNumber,
  requestStart: anyNumber,
  responseStart: anyNumber,
  responseEnd: anyNumber,
  domInteractive: anyNumber,
  domContentLoadedEventEnd: anyNumber,
  loadEventEnd: anyNumber,
  transferSize: fc.nat(),
  encodedBodySize: fc.nat(),
  deliveryType: fc.constantFrom("", "cache", "navigational-prefetch"),
  activationStart: fc.oneof(fc.constant(0), anyNumber),
});

const entryArb: fc.Arbitrary<ServerTimingEntry> = fc.record({
  name: fc.constantFrom("cdn-cache", "edge", "origin", "app", "rid", "EDGE", "other"),
  duration: anyNumber,
  description: fc.constantFrom("", "HIT", "MISS", "STALE", "EXPIRED", "BYPASS", "junk"),
});

const inputArb: fc.Arbitrary<AttributionInput> = fc.record(
  {
    nav: navArb,
    serverTiming: fc.array(entryArb, { maxLength: 8 }),
    vitals: fc.record(
      { ttfb: anyNumber, lcp: anyNumber, inp: anyNumber, cls: anyNumber, fcp: anyNumber },
      { requiredKeys: [] },
    ),
    lcpParts: fc.record({
      ttfb: anyNumber,
      resourceLoadDelay: anyNumber,
      resourceLoadDuration: anyNumber,
      elementRenderDelay: anyNumber,
    }),
  },
  { requiredKeys: ["vitals"] },
);

describe("attribute: properties", () => {
  it("parts sum to TTFB within 1e-9 and are all ≥ 0 for arbitrary inputs", () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const a = attribute(input);
        const parts = [a.queueing, a.lastMileConnect, a.lastMileWire, a.lastMile, a.edge, a.middleMile];
        for (const p of [...parts, a.backend ?? 0, a.ttfb, a.download]) {
          expect(Number.isFinite(p)).toBe(true);
          expect(p).toBeGreaterThanOrEqual(0);
        }
        expect(Math.abs(sum(a) - a.ttfb)).toBeLessThanOrEqual(1e-9);
        expect(Math.abs(a.lastMileConnect + a.lastMileWire - a.lastMile)).toBeLessThanOrEqual(1e-9);
        if (a.render) {
          for (const p of Object.values(a.render)) expect(p).toBeGreaterThanOrEqual(0);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("on HIT/STALE middle mile and backend are 0; without app backend is null", () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const a = attribute(input);
        const status = cacheStatusFromServerTiming(input.serverTiming);
        if (a.edgeMeasured && (status === "HIT" || status === "STALE")) {
          expect(a.middleMile).toBe(0);
          expect(a.backend).toBe(0);
        }
        const hasApp = (input.serverTiming ?? []).some((e) => e.name === "app");
        if (!hasApp && !(a.edgeMeasured && (status === "HIT" || status === "STALE")))
          expect(a.backend).toBeNull();
        if (!a.edgeMeasured) expect([a.edge, a.middleMile]).toEqual([0, 0]);
      }),
      { numRuns: 1000 },
    );
  });

  it("consistent inputs are reproduced exactly (no clamping)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 7, maxLength: 7 }),
        ([q = 0, c = 0, w = 0, e = 0, m = 0, b = 0, d = 0]) => {
          const a = attribute({
            nav: nav({
              fetchStart: 0,
              domainLookupStart: q,
              connectEnd: q + c,
              requestStart: q + c,
              responseStart: q + c + w + e + m + b,
              responseEnd: q + c + w + e + m + b + d,
            }),
            serverTiming: st("MISS", e + m + b, m + b, b),
            vitals: {},
          });
          expect([
            a.queueing,
            a.lastMileConnect,
            a.lastMileWire,
            a.edge,
            a.middleMile,
            a.backend,
            a.download,
          ]).toEqual([q, c, w, e, m, b, d]);
        },
      ),
    );
  });
});
