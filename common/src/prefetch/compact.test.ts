import { describe, expect, it } from "vitest";
import { parseCompactModel, toCompactModel } from "./compact.ts";
import { NextPageModel } from "./model.ts";

describe("compact model", () => {
  it("round-trips through JSON with the same predictions", () => {
    const m = new NextPageModel({ halfLifeMs: 3600_000 });
    m.observeSession(["/", "/c/a", "/p/1", "/p/2"], 0);
    m.observeSession(["/", "/c/a", "/p/3"], 1000);
    m.observeSession(["/c/a", "/p/1"], 2000);
    const json = JSON.parse(JSON.stringify(toCompactModel(m, 2000)));
    const back = parseCompactModel(json);
    const a = m.predict(["/", "/c/a"], { now: 2000, k: 3 });
    const b = back.predict(["/", "/c/a"], { now: 2000, k: 3 });
    expect(b.map((c) => c.page)).toEqual(a.map((c) => c.page));
    b.forEach((c, i) => {
      expect(c.p).toBeCloseTo(a[i]?.p ?? 0, 3);
    });
  });

  it("caps successors per row and rows in total, keeping popularity", () => {
    const m = new NextPageModel({ halfLifeMs: Number.POSITIVE_INFINITY });
    for (let i = 0; i < 50; i++) m.observeSession(["/", `/p/${i}`]);
    const c = toCompactModel(m, 0, { maxSuccessors: 5, maxRows: 2 });
    expect(c.rows.length).toBe(2);
    expect(c.rows[0]?.[0]).toBe("");
    for (const r of c.rows) expect(r.length).toBeLessThanOrEqual(11);
    expect(c.options.halfLifeMs).toBeNull();
  });

  it("rejects malformed input with a reason", () => {
    expect(() => parseCompactModel(null)).toThrow(/object/);
    expect(() => parseCompactModel({ v: 2 })).toThrow(/v 1/);
    const base = {
      v: 1,
      at: 0,
      options: {
        maxOrder: 2,
        discount: 0.8,
        bagContext: true,
        recencyWeight: 0,
        recencyDecay: 0.5,
        halfLifeMs: null,
      },
    };
    expect(() => parseCompactModel({ ...base, rows: [["k", "x"]] })).toThrow(/row 0/);
    expect(() => parseCompactModel({ ...base, rows: [["k", "x", -1]] })).toThrow(/bad successor/);
    expect(() => parseCompactModel({ ...base, options: { ...base.options, discount: 7 }, rows: [] })).toThrow(
      /discount/,
    );
    expect(parseCompactModel({ ...base, rows: [["", "x", 2]] }).predict(["y"])[0]?.page).toBe("x");
  });
});
