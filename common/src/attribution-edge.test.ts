import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { attribute } from "./attribution.ts";
import { attributeVerified, edgeServerTiming } from "./attribution-edge.ts";
import { METRIC_PARTS, metricPart } from "./attribution-parts.ts";
import { sampleBeacon } from "./sample-beacon.ts";

describe("attribution from the edge's own facts", () => {
  it("equals the beacon's attribution when its Server-Timing copy is honest", () => {
    const b = sampleBeacon();
    const facts = { site: "demo", cacheStatus: "MISS" as const, edgeMs: 80, originMs: 70, appMs: 40 };
    expect(attributeVerified(b, facts)).toEqual(attribute(b));
  });

  it("ignores a forged Server-Timing copy: the edge's values decide the split", () => {
    const b = sampleBeacon({
      serverTiming: [
        { name: "cdn-cache", duration: 0, description: "HIT" },
        { name: "edge", duration: 2, description: "" },
      ],
    });
    const a = attributeVerified(b, {
      site: "demo",
      cacheStatus: "MISS",
      edgeMs: 80,
      originMs: 70,
      appMs: 40,
    });
    expect(a).toMatchObject({ edge: 10, middleMile: 30, backend: 40, edgeMeasured: true });
    const none = attributeVerified(b, null);
    expect(none).toMatchObject({ edge: 0, middleMile: 0, backend: null, edgeMeasured: false });
    expect(none.ttfb).toBe(a.ttfb);
  });

  it("parts sum to TTFB for any edge facts (property)", () => {
    fc.assert(
      fc.property(
        fc.double({ min: -10, max: 5000, noNaN: true }),
        fc.option(fc.double({ min: -10, max: 5000, noNaN: true })),
        fc.option(fc.double({ min: -10, max: 5000, noNaN: true })),
        fc.constantFrom("HIT", "MISS", "STALE", "BYPASS", "EXPIRED" as const),
        (edgeMs, originMs, appMs, cacheStatus) => {
          const a = attributeVerified(sampleBeacon(), { site: "demo", cacheStatus, edgeMs, originMs, appMs });
          const sum = a.queueing + a.lastMile + a.edge + a.middleMile + (a.backend ?? 0);
          expect(Math.abs(sum - a.ttfb)).toBeLessThan(1e-9);
          for (const v of [a.queueing, a.lastMile, a.edge, a.middleMile, a.backend ?? 0])
            expect(v).toBeGreaterThanOrEqual(0);
        },
      ),
    );
  });

  it("the facts become the Server-Timing entries the edge sends", () => {
    expect(
      edgeServerTiming({ site: "s", cacheStatus: "HIT", edgeMs: 3, originMs: null, appMs: null }),
    ).toEqual([
      { name: "cdn-cache", duration: 0, description: "HIT" },
      { name: "edge", duration: 3, description: "" },
    ]);
  });
});

describe("the table of attribution parts", () => {
  it("names every numeric attribution field once, with unique columns, and marks the edge facts", () => {
    const a = attribute(sampleBeacon());
    const numeric = [
      ...Object.entries(a)
        .filter(([, v]) => typeof v === "number" || v === null)
        .map(([k]) => k),
      ...Object.keys(a.render ?? {}),
    ];
    const ttfbAndRender = METRIC_PARTS.filter((p) => p.kind !== "vital").map((p) => p.name);
    expect(ttfbAndRender.sort()).toEqual(numeric.sort());
    expect(new Set(METRIC_PARTS.map((p) => p.column)).size).toBe(METRIC_PARTS.length);
    expect(METRIC_PARTS.filter((p) => p.edgeFact).map((p) => p.name)).toEqual([
      "edge",
      "middleMile",
      "backend",
    ]);
    expect(metricPart("lcp")?.read(a, { lcp: 900 })).toBe(900);
  });
});
