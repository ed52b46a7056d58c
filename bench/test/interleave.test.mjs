import { describe, expect, it } from "vitest";
import { quartetOrder, summariseQuartets } from "../lib/interleave.mjs";

/**
 * Simulates interleaved slices on a machine whose speed changes over time: slice k (1 s) of
 * target X runs at speed(k) × X's own rate.
 */
function simulate(quartets, rates, speed, cpuPerReq = { a: 0, b: 0 }) {
  const out = [];
  let k = 0;
  for (let q = 0; q < quartets; q++) {
    const m = { a: [], b: [] };
    for (const side of quartetOrder(q)) {
      const requests = rates[side] * speed(k++);
      m[side].push({ requests, seconds: 1, cpuSeconds: requests * cpuPerReq[side] });
    }
    out.push(m);
  }
  return out;
}

describe("quartetOrder", () => {
  it("alternates ABBA and BAAB so that each side runs first and last equally often", () => {
    expect(quartetOrder(0)).toEqual(["a", "b", "b", "a"]);
    expect(quartetOrder(1)).toEqual(["b", "a", "a", "b"]);
    expect(quartetOrder(2)).toEqual(quartetOrder(0));
  });
});

describe("summariseQuartets", () => {
  it("recovers the true ratio exactly under a steady drift", () => {
    // The machine slows down by 2 % per second: back-to-back A-then-B would read too low.
    const s = summariseQuartets(simulate(8, { a: 10_000, b: 8_200 }, (k) => 1 - 0.02 * k));
    for (const r of s.ratios) expect(r).toBeCloseTo(0.82, 10);
    expect(s.median).toBeCloseTo(0.82, 10);
    // Pooled, each side also gets the same share of early and late seconds.
    expect(s.pooled).toBeCloseTo(0.82, 10);
  });

  it("the median ignores quartets hit by a burst of load on one side", () => {
    // Slices 1 and 9 (B slices of quartets 0 and 2) run at a third of the speed.
    const s = summariseQuartets(
      simulate(6, { a: 10_000, b: 8_500 }, (k) => (k === 1 || k === 9 ? 1 / 3 : 1)),
    );
    expect(s.ratios.filter((r) => Math.abs(r - 0.85) > 1e-9)).toHaveLength(2);
    expect(s.median).toBeCloseTo(0.85, 10);
    expect(s.pooled).toBeLessThan(0.8);
    expect(s.q1).toBeLessThan(0.85);
    expect(s.q3).toBeCloseTo(0.85, 10);
  });

  it("pools CPU per request over all slices", () => {
    const s = summariseQuartets(simulate(4, { a: 9_000, b: 7_000 }, () => 1, { a: 100e-6, b: 130e-6 }));
    expect(s.cpuPooled).toBeCloseTo(1.3, 10);
  });

  it("gives NaN, not a number, when CPU was not measured or nothing ran", () => {
    const s = summariseQuartets([
      {
        a: [
          { requests: 10, seconds: 1 },
          { requests: 10, seconds: 1 },
        ],
        b: [
          { requests: 8, seconds: 1 },
          { requests: 8, seconds: 1 },
        ],
      },
    ]);
    expect(s.median).toBeCloseTo(0.8, 10);
    expect(s.cpuPooled).toBeNaN();
    expect(summariseQuartets([]).median).toBeNaN();
  });
});
