import { describe, expect, it } from "vitest";
import { clockTicksPerSecond, parseProcStatTicks, processCpuSeconds } from "../lib/proc-cpu.mjs";

describe("proc-cpu", () => {
  it("reads utime + stime, also when the command name holds spaces and parentheses", () => {
    const line =
      "4242 (work (er) d) S 1 4242 4242 0 -1 4194560 900 0 0 0 1234 56 0 0 20 0 9 0 100 2000000 500 18446744073709551615";
    expect(parseProcStatTicks(line)).toBe(1234 + 56);
    expect(() => parseProcStatTicks("garbage")).toThrow(/not a \/proc/);
  });

  it("measures this process: CPU seconds grow with work; NaN for a pid that does not exist", () => {
    const hz = clockTicksPerSecond();
    expect(hz).toBeGreaterThan(0);
    const a = processCpuSeconds(process.pid, hz);
    let x = 0;
    const until = Date.now() + 150;
    while (Date.now() < until) x += Math.sqrt(x + 1);
    const b = processCpuSeconds(process.pid, hz);
    expect(b).toBeGreaterThan(a);
    expect(x).toBeGreaterThan(0);
    expect(processCpuSeconds(2 ** 30, hz)).toBeNaN();
  });
});
