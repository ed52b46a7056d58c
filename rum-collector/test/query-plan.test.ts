import { describe, expect, it } from "vitest";
import { autoInterval, describeResolution, planSegments } from "../src/query/plan.ts";
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

  it("widens an edge whose minute rows are gone first, so a widened whole day reads the day row", () => {
    // 23.5 h: 00:30 → 24:00 of a day whose minute rows are past retention.
    const plan = planSegments({
      from: D + 30 * MINUTE_MS,
      to: D + DAY_MS,
      hourDone: D + 2 * DAY_MS,
      dayDone: D + DAY_MS,
      minuteKeptFrom: D + 2 * DAY_MS,
      hourKeptFrom: D,
    });
    expect(plan).toEqual([{ granularity: "day", from: D, to: D + DAY_MS }]);
    const res = describeResolution(D + 30 * MINUTE_MS, D + DAY_MS, plan);
    expect(res).toMatchObject({ exact: false, startGranularity: "day", endGranularity: "day" });
    expect(res.note).toMatch(/retention/);
  });

  it("widens the end edge too, and only up to the series interval", () => {
    const from = D + 2 * HOUR_MS;
    const to = D + DAY_MS + 5 * HOUR_MS + 20 * MINUTE_MS;
    const base = {
      from,
      to,
      hourDone: D + 2 * DAY_MS,
      dayDone: D + 2 * DAY_MS,
      minuteKeptFrom: D + 3 * DAY_MS,
    };
    expect(planSegments({ ...base, hourKeptFrom: D + 3 * DAY_MS })).toEqual([
      { granularity: "day", from: D, to: D + 2 * DAY_MS },
    ]);
    // Hour rows kept: only the end's partial hour is widened (to 06:00).
    expect(planSegments({ ...base, hourKeptFrom: D })).toEqual([
      { granularity: "hour", from, to: D + DAY_MS + 6 * HOUR_MS },
    ]);
    expect(planSegments({ ...base, hourKeptFrom: D + 3 * DAY_MS, coarsest: "hour" })).toEqual([
      { granularity: "hour", from, to: D + DAY_MS + 6 * HOUR_MS },
    ]);
  });

  it("keeps minute rows at the edges while they exist (exact range, no widening)", () => {
    const from = D + 30 * MINUTE_MS;
    const to = D + DAY_MS;
    const plan = planSegments({ from, to, hourDone: D + DAY_MS, dayDone: D + DAY_MS, minuteKeptFrom: D });
    expect(plan).toEqual([
      { granularity: "minute", from, to: D + HOUR_MS },
      { granularity: "hour", from: D + HOUR_MS, to: D + DAY_MS },
    ]);
    expect(describeResolution(from, to, plan)).toMatchObject({ exact: true, note: null });
    expect(describeResolution(from + 1500, to, plan).note).toMatch(/whole minutes/);
  });

  it("covers the range with adjacent segments and no overlap (property over random ranges)", () => {
    let seed = 42;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 500; i++) {
      const from = D + Math.floor(rnd() * 5 * DAY_MS);
      const to = from + 1 + Math.floor(rnd() * 4 * DAY_MS);
      const hourDone = D + Math.floor(rnd() * 8) * DAY_MS + Math.floor(rnd() * 24) * HOUR_MS;
      const dayDone = Math.floor(Math.min(hourDone, D + Math.floor(rnd() * 8) * DAY_MS) / DAY_MS) * DAY_MS;
      const plan = planSegments({
        from,
        to,
        hourDone,
        dayDone,
        minuteKeptFrom: rnd() < 0.5 ? null : D + Math.floor(rnd() * 6 * DAY_MS),
        hourKeptFrom: rnd() < 0.5 ? null : D + Math.floor(rnd() * 3 * DAY_MS),
      });
      expect(plan[0]?.from).toBeLessThanOrEqual(from);
      expect(plan[plan.length - 1]?.to).toBeGreaterThanOrEqual(to);
      for (let k = 1; k < plan.length; k++) expect(plan[k]?.from).toBe(plan[k - 1]?.to);
      for (const s of plan) {
        const size = s.granularity === "day" ? DAY_MS : s.granularity === "hour" ? HOUR_MS : MINUTE_MS;
        expect(s.from % size).toBe(0);
        expect(s.to % size).toBe(0);
        if (s.granularity === "hour") expect(s.to).toBeLessThanOrEqual(hourDone);
        if (s.granularity === "day") expect(s.to).toBeLessThanOrEqual(dayDone);
      }
    }
  });

  it("chooses an automatic interval from the range", () => {
    expect(autoInterval(0, HOUR_MS)).toBe("minute");
    expect(autoInterval(0, 2 * DAY_MS)).toBe("hour");
    expect(autoInterval(0, 30 * DAY_MS)).toBe("day");
  });
});
