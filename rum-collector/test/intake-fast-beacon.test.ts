import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { NAV_MS_KEYS, validateBeacon } from "../../common/src/beacon-schema.ts";
import type { NavTiming } from "../../common/src/rum-types.ts";
import { sampleBeacon } from "../../common/src/sample-beacon.ts";
import { fastValidBeacon } from "../src/intake/fast-beacon.ts";

const NAV_KEYS = [
  "type",
  ...NAV_MS_KEYS,
  "transferSize",
  "encodedBodySize",
  "deliveryType",
  "activationStart",
  "extra",
];

type Path = (string | number)[];

/** Every place the schema looks at, plus unknown keys at each level. */
const PATHS: Path[] = [
  ["v"],
  ["site"],
  ["pvid"],
  ["seq"],
  ["url"],
  ["rid"],
  ["nav"],
  ...NAV_KEYS.map((k) => ["nav", k]),
  ["serverTiming"],
  ["serverTiming", 0],
  ...["name", "duration", "description", "extra"].flatMap((k) => [
    ["serverTiming", 0, k],
    ["serverTiming", 4, k],
  ]),
  ["vitals"],
  ...["lcp", "inp", "cls", "fcp", "ttfb", "extra"].map((k) => ["vitals", k]),
  ["lcpParts"],
  ...["ttfb", "resourceLoadDelay", "resourceLoadDuration", "elementRenderDelay", "extra"].map((k) => [
    "lcpParts",
    k,
  ]),
  ["net"],
  ...["ect", "rtt", "downlink", "saveData", "extra"].map((k) => ["net", k]),
  ["viewport"],
  ["viewport", "w"],
  ["viewport", "h"],
  ["dpr"],
  ["holdout"],
  ["sid"],
  ["prev"],
  ["arm"],
  ["conv"],
  ["conv", "value"],
  ["conv", "extra"],
  ["extra"],
].map((p) => p.flat());

const DELETE = Symbol("delete");
/** Boundary values of every range in the schema, wrong types, and strings near each length limit. */
const VALUES: unknown[] = [
  DELETE,
  undefined,
  null,
  true,
  false,
  0,
  -0,
  -1,
  -0.5,
  1,
  1.5,
  2,
  16,
  16.01,
  100,
  100.5,
  1000,
  1001,
  100_000,
  100_001,
  600_000,
  600_000.5,
  600_001,
  1e10,
  1e10 + 1,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  "1",
  "",
  "4g",
  "slow-2g",
  "5g",
  "navigate",
  "prerender",
  "bogus",
  "back_forward_cache",
  "holdout",
  "ours",
  "press",
  1e9,
  1e9 + 1,
  { value: 12.5 },
  { value: -1 },
  "demo",
  "Demo",
  "pv_0123456789abcdef",
  "short",
  "r-abc.1:2",
  "r abc",
  "x".repeat(32),
  "x".repeat(33),
  "x".repeat(64),
  "x".repeat(65),
  "x".repeat(128),
  "x".repeat(129),
  "http://127.0.0.1:8787/",
  "https://example.com/a?b#c",
  `https://example.com/${"a".repeat(2030)}`,
  "ftp://example.com/",
  "http://",
  "javascript:alert(1)",
  [],
  [{ name: "a", duration: 1, description: "" }],
  Array.from({ length: 33 }, () => ({ name: "a", duration: 1, description: "" })),
  {},
  { w: 1, h: 2 },
];

function mutate(base: unknown, edits: [Path, unknown][]): unknown {
  const root = structuredClone(base) as Record<string, unknown>;
  for (const [path, value] of edits) {
    let o: unknown = root;
    for (const k of path.slice(0, -1)) {
      if (typeof o !== "object" || o === null) break;
      o = (o as Record<string | number, unknown>)[k];
    }
    if (typeof o !== "object" || o === null) continue;
    const last = path[path.length - 1] as string | number;
    if (value === DELETE) delete (o as Record<string | number, unknown>)[last];
    else (o as Record<string | number, unknown>)[last] = structuredClone(value);
  }
  return root;
}

describe("fastValidBeacon (the cheap check in front of valibot)", () => {
  it("takes the usual beacons and returns exactly valibot's result (keys, order, values)", () => {
    const {
      serverTiming: _st,
      nav: _nav,
      lcpParts: _lp,
      net: _net,
      viewport: _vp,
      ...minimal
    } = sampleBeacon();
    for (const beacon of [
      sampleBeacon(),
      sampleBeacon({ holdout: true, seq: 3 }),
      sampleBeacon({
        arm: "press",
        conv: { value: 129.9 },
        nav: { ...(sampleBeacon().nav as NavTiming), type: "back_forward_cache" },
      }),
      { ...minimal, vitals: {} },
      JSON.parse(JSON.stringify({ ...sampleBeacon(), unknown: { deep: 1 } })),
    ]) {
      const fast = fastValidBeacon(beacon);
      const slow = validateBeacon(beacon);
      expect(fast).not.toBeNull();
      expect(slow.ok).toBe(true);
      if (!slow.ok) continue;
      expect(JSON.stringify(fast)).toBe(JSON.stringify(slow.beacon));
      expect(fast).toEqual(slow.beacon);
      expect(fast).not.toHaveProperty("unknown");
    }
  });

  it("never accepts what valibot rejects, and accepts only as valibot does (property)", () => {
    let fastHits = 0;
    let rejected = 0;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(...PATHS), fc.constantFrom(...VALUES)), { maxLength: 3 }),
        (edits) => {
          const input = mutate(sampleBeacon(), edits);
          const fast = fastValidBeacon(input);
          const slow = validateBeacon(input);
          if (!slow.ok) rejected++;
          if (fast === null) return;
          fastHits++;
          expect(slow.ok).toBe(true);
          if (!slow.ok) return;
          expect(JSON.stringify(fast)).toBe(JSON.stringify(slow.beacon));
          expect(fast).toEqual(slow.beacon);
        },
      ),
      { numRuns: 3000 },
    );
    // Both sides of the property were exercised.
    expect(fastHits).toBeGreaterThan(100);
    expect(rejected).toBeGreaterThan(100);
  });

  it("leaves every rejection to valibot: null for non-objects and broken shapes", () => {
    for (const input of [null, 1, "x", [], [sampleBeacon()], { ...sampleBeacon(), v: 2 }]) {
      expect(fastValidBeacon(input)).toBeNull();
    }
    expect(fastValidBeacon({ ...sampleBeacon(), vitals: undefined })).toBeNull();
    expect(fastValidBeacon({ ...sampleBeacon(), rid: undefined })).toBeNull();
  });
});
