import { describe, expect, it } from "vitest";
import { numberOption } from "../lib/args.mjs";

describe("numberOption", () => {
  it("reads --name N as a positive integer, the default when absent, and names a bad value", () => {
    const opt = numberOption(["--beacons", "3000", "--rounds", "0", "--top", "x"]);
    expect(opt("beacons", 5)).toBe(3000);
    expect(opt("seconds", 5)).toBe(5);
    expect(() => opt("rounds", 5)).toThrow('Invalid option --rounds: expected a positive integer (got "0")');
    expect(() => opt("top", 5)).toThrow(/--top.*"x"/);
    expect(() => numberOption(["--beacons"])("beacons", 5)).toThrow(/--beacons.*"undefined"/);
  });
});
