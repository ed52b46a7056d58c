import { describe, expect, it } from "vitest";
import { MAX_DURATION_MS, validateBeacon } from "./beacon-schema.ts";
import type { BeaconPayload } from "./rum-types.ts";
import { sampleBeacon as baseBeacon } from "./sample-beacon.ts";

/** A complete, plausible beacon as the edge-injected script sends it. */
function sampleBeacon(): BeaconPayload {
  return baseBeacon({ url: "https://shop.example/p/123?utm_source=x" });
}

function expectError(input: unknown, re: RegExp) {
  const r = validateBeacon(input);
  expect(r.ok).toBe(false);
  if (!r.ok) expect(r.error).toMatch(re);
}

describe("validateBeacon", () => {
  it("accepts a complete beacon unchanged", () => {
    const b = sampleBeacon();
    const r = validateBeacon(JSON.parse(JSON.stringify(b)));
    expect(r).toEqual({ ok: true, beacon: b });
  });

  it("accepts a minimal beacon (only required fields)", () => {
    const r = validateBeacon({
      v: 1,
      site: "demo",
      pvid: "abcdefgh",
      seq: 0,
      url: "http://a.test/",
      vitals: {},
    });
    expect(r.ok).toBe(true);
  });

  it("drops unknown keys", () => {
    const r = validateBeacon({ ...sampleBeacon(), ip: "1.2.3.4", ua: "x" });
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.beacon).not.toHaveProperty("ip");
      expect(r.beacon).not.toHaveProperty("ua");
    }
  });

  it("rejects non-objects and wrong versions", () => {
    expectError(null, /^expected a JSON object$/);
    expectError([], /^expected a JSON object$/);
    expectError("{}", /^expected a JSON object$/);
    const { pvid: _dropped, ...noPvid } = sampleBeacon();
    expectError(noPvid, /^pvid: required field is missing$/);
    expectError({ ...sampleBeacon(), v: 2 }, /^v: unsupported schema version \(got 2/);
  });

  it("rejects bad page-view ids", () => {
    expectError({ ...sampleBeacon(), pvid: "short" }, /^pvid: /);
    expectError({ ...sampleBeacon(), pvid: "has space in it" }, /^pvid: /);
    expectError({ ...sampleBeacon(), pvid: "x".repeat(65) }, /^pvid: /);
    expectError({ ...sampleBeacon(), pvid: 12345678 }, /^pvid: /);
  });

  it("rejects malformed site ids and URLs", () => {
    expectError({ ...sampleBeacon(), site: "Bad Site" }, /^site: /);
    expectError(
      { ...sampleBeacon(), url: "javascript:alert(1)" },
      /^url: expected an absolute http\(s\) URL/,
    );
    expectError({ ...sampleBeacon(), url: "/relative" }, /^url: /);
    expectError({ ...sampleBeacon(), url: `https://a.test/${"x".repeat(2100)}` }, /^url: /);
  });

  it("rejects negative and absurd durations with the field path", () => {
    expectError(
      { ...sampleBeacon(), vitals: { lcp: -1 } },
      /^vitals\.lcp: expected a duration in ms between 0 and 600000 \(got -1\)/,
    );
    expectError({ ...sampleBeacon(), vitals: { inp: MAX_DURATION_MS + 1 } }, /^vitals\.inp: /);
    expectError({ ...sampleBeacon(), vitals: { cls: 1e6 } }, /^vitals\.cls: /);
    const b = sampleBeacon();
    if (b.nav) b.nav.responseStart = -5;
    expectError(b, /^nav\.responseStart: .*got -5/);
    const c = sampleBeacon();
    c.serverTiming = [{ name: "edge", duration: 1e9, description: "" }];
    expectError(c, /^serverTiming\.0\.duration: /);
  });

  it("rejects non-finite numbers and wrong types", () => {
    expectError({ ...sampleBeacon(), vitals: { lcp: "800" } }, /^vitals\.lcp: /);
    expectError({ ...sampleBeacon(), seq: 1.5 }, /^seq: /);
    expectError({ ...sampleBeacon(), dpr: Number.POSITIVE_INFINITY }, /^dpr: /);
    expectError({ ...sampleBeacon(), net: { ect: "5g" } }, /^net\.ect: expected one of/);
    expectError({ ...sampleBeacon(), vitals: undefined }, /^vitals: required field is missing$/);
    expectError({ ...sampleBeacon(), vitals: 5 }, /^vitals: /);
  });

  it("bounds the number of Server-Timing entries", () => {
    const b = sampleBeacon();
    b.serverTiming = Array.from({ length: 33 }, (_, i) => ({ name: `t${i}`, duration: 1, description: "" }));
    expectError(b, /^serverTiming: expected at most 32/);
  });

  it("takes the session, previous page view, prefetch arm and conversion fields", () => {
    const b = {
      ...sampleBeacon(),
      sid: "s_abcdefgh",
      prev: "pv_12345678",
      arm: "press",
      conv: { value: 49.5 },
    };
    const r = validateBeacon(b);
    expect(r.ok && r.beacon).toMatchObject({
      sid: "s_abcdefgh",
      prev: "pv_12345678",
      arm: "press",
      conv: { value: 49.5 },
    });
    const nav = { ...sampleBeacon().nav, type: "back_forward_cache" };
    expect(validateBeacon({ ...sampleBeacon(), nav }).ok).toBe(true);
  });

  it("rejects malformed session ids, arms and conversion values with the field path", () => {
    expectError({ ...sampleBeacon(), sid: "short" }, /^sid: /);
    expectError({ ...sampleBeacon(), sid: "has spaces in it" }, /^sid: /);
    expectError({ ...sampleBeacon(), prev: "x".repeat(65) }, /^prev: /);
    expectError(
      { ...sampleBeacon(), arm: "control" },
      /^arm: expected one of holdout, ours, press \(got "control"\)/,
    );
    expectError({ ...sampleBeacon(), conv: { value: -1 } }, /^conv\.value: expected a conversion value/);
    expectError({ ...sampleBeacon(), conv: { value: "10" } }, /^conv\.value: /);
    expectError({ ...sampleBeacon(), conv: {} }, /^conv\.value: required field is missing$/);
    expectError({ ...sampleBeacon(), conv: true }, /^conv: /);
  });
});
