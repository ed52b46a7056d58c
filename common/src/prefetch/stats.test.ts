import { describe, expect, it } from "vitest";
import { bootstrapQuantileDiff, quantile, seededRandom } from "./stats.ts";

describe("prefetch stats", () => {
  it("computes quantiles by interpolation", () => {
    expect(quantile([], 0.75)).toBeNull();
    expect(quantile([5], 0.75)).toBe(5);
    expect(quantile([1, 2, 3, 4, 5], 0.75)).toBe(4);
    expect(quantile([4, 1, 3, 2], 0.5)).toBe(2.5);
  });

  it("gives a bootstrap CI that covers a real difference and excludes zero when it is large", () => {
    const rnd = seededRandom(7);
    const a = Array.from({ length: 400 }, () => 1000 + rnd() * 400);
    const b = Array.from({ length: 400 }, () => 1300 + rnd() * 400);
    const ci = bootstrapQuantileDiff(a, b, 0.75, seededRandom(1), 300);
    expect(ci?.diff).toBeLessThan(0);
    expect(ci?.lo).toBeLessThan(ci?.diff ?? 0);
    expect(ci?.hi).toBeGreaterThan(ci?.diff ?? 0);
    expect(ci?.hi).toBeLessThan(0);
    const same = bootstrapQuantileDiff(a, a.slice().reverse(), 0.75, seededRandom(2), 300);
    expect(same?.lo).toBeLessThanOrEqual(0);
    expect(same?.hi).toBeGreaterThanOrEqual(0);
    expect(bootstrapQuantileDiff([], b, 0.75, seededRandom(3))).toBeNull();
  });
});
