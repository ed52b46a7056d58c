/**
 * A complete, plausible beacon: a MISS through the edge with the origin's `app` timing, as the
 * beacon sends it. Shared by tests, benchmarks and the payload example in the collector README.
 */
import type { BeaconPayload } from "./rum-types.ts";

/** Defaults: site "demo", pvid "pv_0123456789abcdef", URL http://127.0.0.1:8787/p/123; `overrides` replace top-level fields. */
export function sampleBeacon(overrides: Partial<BeaconPayload> = {}): BeaconPayload {
  return {
    v: 1,
    site: "demo",
    pvid: "pv_0123456789abcdef",
    seq: 0,
    url: "http://127.0.0.1:8787/p/123",
    rid: "r-abc123",
    nav: {
      type: "navigate",
      redirectStart: 0,
      redirectEnd: 0,
      fetchStart: 2,
      domainLookupStart: 3,
      domainLookupEnd: 10,
      connectStart: 10,
      secureConnectionStart: 20,
      connectEnd: 40,
      requestStart: 41,
      responseStart: 141,
      responseEnd: 170,
      domInteractive: 300,
      domContentLoadedEventEnd: 320,
      loadEventEnd: 600,
      transferSize: 12000,
      encodedBodySize: 11000,
      deliveryType: "",
      activationStart: 0,
    },
    serverTiming: [
      { name: "cdn-cache", duration: 0, description: "MISS" },
      { name: "edge", duration: 80, description: "" },
      { name: "origin", duration: 70, description: "" },
      { name: "app", duration: 40, description: "" },
      { name: "rid", duration: 0, description: "r-abc123" },
    ],
    vitals: { lcp: 900, inp: 120, cls: 0.05, fcp: 500, ttfb: 141 },
    lcpParts: { ttfb: 141, resourceLoadDelay: 100, resourceLoadDuration: 300, elementRenderDelay: 359 },
    net: { ect: "4g", rtt: 50, downlink: 10, saveData: false },
    viewport: { w: 412, h: 915 },
    dpr: 2.625,
    sid: "s_0123456789abcdef",
    prev: "pv_fedcba9876543210",
    arm: "ours",
    ...overrides,
  };
}
