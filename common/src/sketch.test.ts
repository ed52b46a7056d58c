import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { seededRandom } from "./seeded-random.ts";
import { QuantileSketch, SKETCH_MIN_VALUE, sketchOf } from "./sketch.ts";

const QS = [0, 0.01, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1];

function exactQuantile(sorted: number[], q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))] as number;
}

function checkAccuracy(values: number[]): void {
  const s = sketchOf(values);
  const sorted = [...values].sort((a, b) => a - b);
  for (const q of QS) {
    const exact = exactQuantile(sorted, q);
    const got = s.quantile(q);
    if (exact < SKETCH_MIN_VALUE) expect(got).toBeLessThan(SKETCH_MIN_VALUE);
    else expect(Math.abs(got - exact) / exact).toBeLessThanOrEqual(0.01);
  }
}

function lognormal(rnd: () => number, mu: number, sigma: number): number {
  const u = Math.max(rnd(), 1e-12);
  const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd());
  return Math.exp(mu + sigma * z);
}

describe("QuantileSketch accuracy", () => {
  it("is within 1 % of exact quantiles on random data (property)", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(fc.double({ min: 0, max: 1e7, noNaN: true }), fc.constantFrom(0, 1e-9, 0.001, 1, 2500)),
          { minLength: 1, maxLength: 400 },
        ),
        checkAccuracy,
      ),
      { numRuns: 300 },
    );
  });

  it("is within 1 % on heavy-tailed data (lognormal, pareto) of 50k values", () => {
    const rnd = seededRandom(42);
    const logn = Array.from({ length: 50_000 }, () => lognormal(rnd, Math.log(1200), 1.2));
    checkAccuracy(logn);
    const pareto = Array.from({ length: 50_000 }, () => 50 / Math.max(rnd(), 1e-12) ** (1 / 1.1));
    checkAccuracy(pareto);
    const cls = Array.from({ length: 20_000 }, () => (rnd() < 0.4 ? 0 : lognormal(rnd, Math.log(0.05), 1.5)));
    checkAccuracy(cls);
  });

  it("tracks count, sum, min, max exactly and ignores invalid values", () => {
    const s = sketchOf([0, 1.5, 2.25, 1000, -3, Number.NaN, Number.POSITIVE_INFINITY]);
    expect(s.count).toBe(4);
    expect(s.sum).toBe(1003.75);
    expect(s.min).toBe(0);
    expect(s.max).toBe(1000);
    expect(s.quantile(0)).toBe(0);
    expect(s.quantile(1)).toBe(1000);
    expect(new QuantileSketch().quantile(0.5)).toBeNaN();
    expect(s.quantile(1.5)).toBeNaN();
  });

  it("remove undoes add for count, sum and buckets", () => {
    const s = sketchOf([10, 20, 30]);
    expect(s.remove(20)).toBe(true);
    expect(s.count).toBe(2);
    expect(s.sum).toBe(40);
    expect(s.quantile(0.5)).toBeCloseTo(10, -0.5);
    expect(s.remove(5000)).toBe(false);
    expect(s.count).toBe(2);
    expect(QuantileSketch.fromBytes(s.add(20).toBytes()).toBytes()).toEqual(sketchOf([10, 20, 30]).toBytes());
  });
});

describe("QuantileSketch merge and serialisation", () => {
  const valuesArb = fc.array(fc.oneof(fc.double({ min: 0, max: 1e6, noNaN: true }), fc.constant(0)), {
    maxLength: 100,
  });

  it("merge is associative and commutative (serialised equality) and equals the sketch of the union", () => {
    fc.assert(
      fc.property(valuesArb, valuesArb, valuesArb, (a, b, c) => {
        const ab_c = sketchOf(a).merge(sketchOf(b)).merge(sketchOf(c)).toBytes();
        const a_bc = sketchOf(a)
          .merge(sketchOf(b).merge(sketchOf(c)))
          .toBytes();
        const cba = sketchOf(c).merge(sketchOf(b)).merge(sketchOf(a)).toBytes();
        const union = sketchOf([...a, ...b, ...c]).toBytes();
        expect(a_bc).toEqual(ab_c);
        expect(cba).toEqual(ab_c);
        expect(union).toEqual(ab_c);
      }),
      { numRuns: 300 },
    );
  });

  it("round-trips through bytes and base64", () => {
    fc.assert(
      fc.property(valuesArb, (a) => {
        const s = sketchOf(a);
        const back = QuantileSketch.fromBytes(s.toBytes());
        expect(back.toBytes()).toEqual(s.toBytes());
        expect(back.count).toBe(s.count);
        expect(back.sum).toBe(s.sum);
        expect(back.quantile(0.75)).toBe(s.quantile(0.75));
        expect(QuantileSketch.fromBase64(s.toBase64()).toBytes()).toEqual(s.toBytes());
      }),
    );
  });

  it("stays small: 10k lognormal LCP values fit in under 1 KB", () => {
    const rnd = seededRandom(7);
    const s = sketchOf(Array.from({ length: 10_000 }, () => lognormal(rnd, Math.log(1500), 0.8)));
    expect(s.toBytes().length).toBeLessThan(1024);
  });

  it("rejects truncated or unknown encodings", () => {
    const bytes = sketchOf([1, 2, 3]).toBytes();
    expect(() => QuantileSketch.fromBytes(bytes.slice(0, bytes.length - 1))).toThrow(/Truncated/);
    expect(() => QuantileSketch.fromBytes(new Uint8Array([9]))).toThrow(/version 9/);
    expect(() => QuantileSketch.fromBytes(new Uint8Array([...bytes, 0]))).toThrow(/Trailing/);
  });
});

describe("QuantileSketch.mergeBytes / mergeHex", () => {
  it("equals merge(fromBytes(...)) and leaves the sketch intact on bad input", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { maxLength: 60 }),
        fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { maxLength: 60 }),
        (a, b) => {
          const viaMerge = sketchOf(a).merge(sketchOf(b)).toBytes();
          expect(sketchOf(a).mergeBytes(sketchOf(b).toBytes()).toBytes()).toEqual(viaMerge);
          const hex = [...sketchOf(b).toBytes()].map((x) => x.toString(16).padStart(2, "0")).join("");
          expect(sketchOf(a).mergeHex(hex.toUpperCase()).toBytes()).toEqual(viaMerge);
        },
      ),
    );
    const s = sketchOf([1, 2, 3]);
    const before = s.toBytes();
    const bytes = sketchOf([4, 5]).toBytes();
    expect(() => s.mergeBytes(bytes.slice(0, bytes.length - 1))).toThrow();
    expect(() => s.mergeHex("zz")).toThrow(/Invalid hex/);
    expect(s.toBytes()).toEqual(before);
  });
});
