import { describe, expect, it } from "vitest";
import { formatServerTiming, parseServerTiming, serverTimingDuration } from "./server-timing.ts";

describe("parseServerTiming", () => {
  it("parses dur and desc, token and quoted", () => {
    expect(parseServerTiming('app;dur=12.5, cdn-cache;desc=HIT, db;dur=3;desc="a, \\"b\\"; c"')).toEqual([
      { name: "app", duration: 12.5, description: "" },
      { name: "cdn-cache", duration: 0, description: "HIT" },
      { name: "db", duration: 3, description: 'a, "b"; c' },
    ]);
  });
  it("merges several header lines in order", () => {
    const e = parseServerTiming(["a;dur=1", "b;dur=2, c"]);
    expect(e.map((x) => x.name)).toEqual(["a", "b", "c"]);
  });
  it("keeps the first dur/desc, ignores unknown params, tolerates spaces", () => {
    expect(parseServerTiming("x ; dur = 5 ; dur=9 ; foo=bar ; desc=one;desc=two")).toEqual([
      { name: "x", duration: 5, description: "one" },
    ]);
  });
  it("skips garbage without throwing", () => {
    expect(parseServerTiming('@@@, ok;dur=1, ;dur=2, x;dur=abc, y;desc="unterminated')).toEqual([
      { name: "ok", duration: 1, description: "" },
      { name: "x", duration: 0, description: "" },
    ]);
    expect(parseServerTiming("")).toEqual([]);
    expect(parseServerTiming(null)).toEqual([]);
    expect(parseServerTiming(",,, ,")).toEqual([]);
  });
  it("finds a duration by name", () => {
    expect(serverTimingDuration(parseServerTiming("APP;dur=4"), "app")).toBe(4);
    expect(serverTimingDuration([], "app")).toBeNull();
  });
});

describe("formatServerTiming", () => {
  it("formats, quotes non-token descriptions and rounds", () => {
    expect(
      formatServerTiming([
        { name: "cdn-cache", desc: "HIT" },
        { name: "edge", dur: 1.23456 },
        { name: "x", desc: 'a "b"' },
        { name: "bad name", dur: 1 },
        { name: "neg", dur: -3 },
      ]),
    ).toBe('cdn-cache;desc=HIT, edge;dur=1.235, x;desc="a \\"b\\"", neg;dur=0');
  });
  it("round-trips through the parser", () => {
    const entries = [
      { name: "a", duration: 1.5, description: "x y" },
      { name: "b", duration: 0, description: "z" },
    ];
    expect(parseServerTiming(formatServerTiming(entries))).toEqual(entries);
  });
});
