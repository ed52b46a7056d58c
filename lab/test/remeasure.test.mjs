/** The lab's single re-measure of a scenario that is off, and how it shows in the closing line. */
import { describe, expect, it } from "vitest";
import { measureWithRetry, offParts } from "../lib/remeasure.mjs";
import { closingLine, parseClosingLine } from "../lib/report.mjs";

/** A fake measurement whose middle mile is off by `errors[n]` ms on its n-th call (tolerance 2). */
function fake(errors) {
  let n = 0;
  const measure = async () => {
    const error = errors[n++];
    return {
      rows: [
        { part: "backend", error: 0.3, tolerance: 2, ok: true },
        { part: "middleMile", error, tolerance: 2, ok: Math.abs(error) <= 2 },
      ],
      notes: [`attempt ${n}`],
    };
  };
  return { measure, calls: () => n };
}
const judge = (row) => (row.ok ? "ok" : "OFF");

describe("measureWithRetry", () => {
  it("measures once when every part is within tolerance", async () => {
    const f = fake([1.5]);
    const retried = [];
    const r = await measureWithRetry(f.measure, { judge, onRetry: (x) => retried.push(x) });
    expect(f.calls()).toBe(1);
    expect(retried).toEqual([]);
    expect(r.firstAttempt).toBeUndefined();
    expect(r.rows.map((x) => x.verdict)).toEqual(["ok", "ok"]);
  });

  it("re-measures an off scenario once; the second result decides and keeps the first", async () => {
    const f = fake([4.2, 1.1]);
    const lines = [];
    const r = await measureWithRetry(f.measure, { judge, onRetry: (x) => lines.push(offParts(x).join()) });
    expect(f.calls()).toBe(2);
    expect(lines).toEqual(["middle mile +4.2/±2.0 ms"]);
    expect(r.rows[1].verdict).toBe("ok");
    expect(r.firstAttempt.rows[1].verdict).toBe("OFF");
    expect(r.firstAttempt.notes).toEqual(["attempt 1"]);
  });

  it("off twice stays OFF (no third try, tolerance unchanged)", async () => {
    const f = fake([-3, -2.5, 0]);
    const r = await measureWithRetry(f.measure, { judge });
    expect(f.calls()).toBe(2);
    expect(offParts(r)).toEqual(["middle mile -2.5/±2.0 ms"]);
    expect(r.rows[1].tolerance).toBe(2);
  });

  it("an explained part is not re-measured", async () => {
    const f = fake([9]);
    await measureWithRetry(f.measure, { judge: (row) => (row.ok ? "ok" : "explained") });
    expect(f.calls()).toBe(1);
  });

  it("does not re-measure while the lab is stopping", async () => {
    const f = fake([5, 0]);
    const r = await measureWithRetry(f.measure, { judge, stopping: () => true });
    expect(f.calls()).toBe(1);
    expect(offParts(r)).toHaveLength(1);
  });
});

describe("closing line with re-measured scenarios", () => {
  it("names the count and parses back; absent when none was re-measured", () => {
    const line = closingLine({ scenarios: 2, ok: 10, explained: 0, off: 0, remeasured: 1, seconds: 61.2 });
    expect(line).toBe(
      "lab: PASS — 2 scenarios, 10 parts: 10 ok, 0 explained, 0 off, 1 re-measured (took 61 s)",
    );
    expect(parseClosingLine(line)).toMatchObject({ verdict: "PASS", off: 0, remeasured: 1, seconds: 61 });
    const plain = closingLine({ scenarios: 2, ok: 9, explained: 0, off: 1, seconds: 3 });
    expect(plain).not.toContain("re-measured");
    expect(parseClosingLine(plain)).toMatchObject({ verdict: "FAIL", off: 1, remeasured: 0 });
  });
});
