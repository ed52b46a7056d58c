import { describe, expect, it } from "vitest";
import { concatBytes } from "./bytes.ts";

describe("concatBytes", () => {
  it("joins the parts in order into a new array, with or without the total given", () => {
    const a = new Uint8Array([1, 2]);
    const b = new Uint8Array([3]);
    const joined = concatBytes([a, new Uint8Array(0), b]);
    expect([...joined]).toEqual([1, 2, 3]);
    expect([...concatBytes([a, b], 3)]).toEqual([1, 2, 3]);
    expect(concatBytes([]).byteLength).toBe(0);
    const one = concatBytes([a]);
    expect(one).not.toBe(a); // always a copy
    expect(one.buffer.byteLength).toBe(2);
  });
});
