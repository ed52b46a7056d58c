import { describe, expect, it } from "vitest";
import { autoInterval, planSegments } from "../src/query/plan.ts";
import { DAY_MS, HOUR_MS, MINUTE_MS } from "../src/store/metrics.ts";

const D = Date.UTC(2026, 10, 1);

describe("planSegments", () => {
  it("uses minute rows only when nothing is downsampled", () => {
    expect(planSegments({ from: D, to: D + 2 * HOUR_MS, hourDone: null, dayDone: null })).toEqual([
      { granularity: "minute", from: D, to: D + 2 * HOUR_MS },
    ]);
  });

  it("uses the coarsest downsampled rows with minutes at the ragged edges", () => {
    const from = D + 23 * HOUR_MS + 30 * MINUTE_MS;
    const to = D + 3 * DAY_MS + 2 * HOUR_MS + 10 * MINUTE_MS;
    const plan = planSegments({ from, to, hourDone: D + 3 * DAY_MS + HOUR_MS, dayDone: D + 3 * DAY_MS });
    expect(plan).toEqual([
      { granularity: "minute", from, to: D + DAY_MS },
      { granularity: "day", from: D + DAY_MS, to: D + 3 * DAY_MS },
      { granularity: "hour", from: D + 3 * DAY_MS, to: D + 3 * DAY_MS + HOUR_MS },
      { granularity: "minute", from: D + 3 * DAY_MS + HOUR_MS, to },
    ]);
  });

  it("never uses a granularity coarser than the series interval", () => {
    const plan = planSegments({
      from: D,
      to: D + 2 * DAY_MS,
      hourDone: D + 2 * DAY_MS,
      dayDone: D + 2 * DAY_MS,
      coarsest: "hour",
    });
    expect(plan).toEqual([{ granularity: "hour", from: D, to: D + 2 * DAY_MS }]);
  });

  it("widens to the enclosing hour/day where finer rows are gone (retention)", () => {
    const from = D + 10 * HOUR_MS + 15 * MINUTE_MS;
    const plan = planSegments({
      from,
      to: D + 12 * HOUR_MS,
      hourDone: D + DAY_MS,
      dayDone: null,
      minuteKeptFrom: D + 20 * HOUR_MS,
    });
    expect(plan).toEqual([{ granularity: "hour", from: D + 10 * HOUR_MS, to: D + 12 * HOUR_MS }]);
  });

  it("rounds unaligned bounds outward to whole minutes", () => {
    expect(planSegments({ from: D + 1500, to: D + MINUTE_MS + 1, hourDone: null, dayDone: null })).toEqual([
      { granularity: "minute", from: D, to: D + 2 * MINUTE_MS },
    ]);
  });

  it("chooses an automatic interval from the range", () => {
    expect(autoInterval(0, HOUR_MS)).toBe("minute");
    expect(autoInterval(0, 2 * DAY_MS)).toBe("hour");
    expect(autoInterval(0, 30 * DAY_MS)).toBe("day");
  });
});
