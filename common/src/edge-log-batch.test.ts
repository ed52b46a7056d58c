import { describe, expect, it } from "vitest";
import { EdgeLogBatch, expandEdgeLogBatch, LOG_BATCH_MAX_RECORDS } from "./edge-log-batch.ts";
import type { CacheStatus, EdgeLogMessage } from "./rum-types.ts";
import { seededRandom } from "./seeded-random.ts";

type Input = Omit<EdgeLogMessage, "kind" | "site" | "pageGroup">;

const group = (path: string) => (path.startsWith("/p/") ? "product" : "other");

function add(b: EdgeLogBatch, r: Input): boolean {
  return b.add(
    r.ts,
    r.rid,
    r.path,
    group,
    r.status,
    r.cacheStatus,
    r.edgeMs,
    r.originMs,
    r.appMs,
    r.country,
    r.colo,
    r.device,
    r.browser,
  );
}

const base: Input = {
  ts: 1_764_000_000_000,
  rid: "0a1b2c3d4e5f-0",
  path: "/p/1",
  status: 200,
  cacheStatus: "HIT",
  edgeMs: 0.5,
  originMs: null,
  appMs: null,
  country: "NL",
  colo: "AMS",
  device: "desktop",
  browser: "chrome",
};

const expand = (b: EdgeLogBatch) => expandEdgeLogBatch(JSON.parse(b.json()) as Record<string, unknown>);

describe("EdgeLogBatch", () => {
  it("round-trips records through its JSON line (dictionaries, nulls, µs rounding, escapes)", () => {
    const b = new EdgeLogBatch('shop "€"', 120_000);
    const inputs: Input[] = [
      base,
      {
        ...base,
        rid: "0a1b2c3d4e5f-1",
        path: '/c/"x"\n\u2028',
        cacheStatus: "MISS",
        originMs: 12.3456,
        appMs: 7,
      },
      { ...base, rid: 'odd "id" é', path: "/p/é😀", edgeMs: Number.NaN, appMs: Number.POSITIVE_INFINITY },
      {
        ...base,
        country: "XX",
        colo: "XX",
        device: "mobile",
        browser: "safari",
        status: 404,
        cacheStatus: "STALE",
      },
    ];
    for (const r of inputs) expect(add(b, r)).toBe(true);
    const us = (x: number | null) => (x === null || !Number.isFinite(x) ? null : Math.round(x * 1000) / 1000);
    expect(expand(b)).toEqual(
      inputs.map((r) => ({
        kind: "edge",
        ...r,
        site: 'shop "€"',
        pageGroup: group(r.path),
        edgeMs: us(r.edgeMs) ?? 0,
        originMs: us(r.originMs),
        appMs: us(r.appMs),
      })),
    );
    // Repeated values are stored once.
    expect(b.strings.filter((s) => s === "XX")).toHaveLength(1);
    expect(b.paths).toHaveLength(3);
  });

  it("never writes a line longer than its byte limit, and fills most of it (random records)", () => {
    const next = seededRandom(42);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)] as T;
    const chars = ["a", "/", '"', "\\", "\n", "é", "€", "😀", "\u0001", "\ud800"];
    const text = (n: number) => Array.from({ length: n }, () => pick(chars)).join("");
    for (const limit of [600, 2_000, 20_000]) {
      for (let round = 0; round < 20; round++) {
        const b = new EdgeLogBatch(text(5), limit);
        let refused = 0;
        for (let i = 0; i < 2_000 && refused < 3; i++) {
          const r: Input = {
            ts: next() < 0.1 ? next() * 1e20 : Math.floor(next() * 1e13),
            rid: next() < 0.5 ? `${i.toString(36)}-x` : text(1 + Math.floor(next() * 20)),
            path: next() < 0.5 ? `/p/${Math.floor(next() * 5)}` : text(1 + Math.floor(next() * 60)),
            status: pick([200, 301, 404, 503]),
            cacheStatus: pick<CacheStatus>(["HIT", "MISS", "STALE", "BYPASS"]),
            edgeMs: next() < 0.1 ? next() * 1e9 : next() * 100,
            originMs: next() < 0.3 ? null : -next() * 1e7,
            appMs: next() < 0.3 ? null : next() * 1e-9,
            country: next() < 0.8 ? "DE" : text(2),
            colo: text(3),
            device: pick(["mobile", "desktop"]),
            browser: text(4),
          };
          if (!add(b, r)) refused++;
        }
        const bytes = new TextEncoder().encode(b.json()).byteLength;
        expect(bytes, `limit ${limit}`).toBeLessThanOrEqual(limit);
        expect(expand(b)).toHaveLength(b.n);
      }
    }
  });

  it("counts records of the longest kind without running over (bounds are tight enough to bind)", () => {
    for (const limit of [1_000, 20_000, 120_000]) {
      const b = new EdgeLogBatch("s", limit);
      const longest: Input = {
        ...base,
        ts: 9_999_999_999_999,
        rid: "r".repeat(40),
        status: 65_535,
        edgeMs: -999_999.999,
        originMs: 123_456.789,
        appMs: -1.2345678901234567e300,
      };
      while (add(b, longest));
      const bytes = new TextEncoder().encode(b.json()).byteLength;
      expect(bytes).toBeLessThanOrEqual(limit);
      // Filled, not cut early (a record's bound is within a few bytes of its longest JSON).
      expect(bytes).toBeGreaterThan(Math.min(limit * 0.85, limit - 400));
    }
  });

  it("takes a first record even when it alone exceeds the limit; refuses the next", () => {
    const b = new EdgeLogBatch("s", 100);
    expect(add(b, { ...base, path: `/${"x".repeat(500)}` })).toBe(true);
    expect(add(b, base)).toBe(false);
    expect(b.n).toBe(1);
  });

  it(`holds at most ${LOG_BATCH_MAX_RECORDS} records`, () => {
    const b = new EdgeLogBatch("s", 10_000_000);
    for (let i = 0; i < LOG_BATCH_MAX_RECORDS; i++) expect(add(b, base)).toBe(true);
    expect(b.full).toBe(true);
    expect(add(b, base)).toBe(false);
    expect(expand(b)).toHaveLength(LOG_BATCH_MAX_RECORDS);
  });
});

describe("expandEdgeLogBatch", () => {
  const valid = () => {
    const b = new EdgeLogBatch("s", 120_000);
    add(b, base);
    add(b, { ...base, path: "/c/2", country: "FR" });
    return JSON.parse(b.json()) as Record<string, unknown>;
  };

  it("names what is wrong with a malformed batch", () => {
    expect(expandEdgeLogBatch({ ...valid(), v: 2 })).toMatch(/version 2/);
    expect(expandEdgeLogBatch({ ...valid(), site: 1 })).toMatch(/site/);
    expect(expandEdgeLogBatch({ ...valid(), rid: ["a"] })).toMatch(/rid must be 2 strings/);
    expect(expandEdgeLogBatch({ ...valid(), path: [0, 2] })).toMatch(/path must be 2 indexes/);
    expect(expandEdgeLogBatch({ ...valid(), country: [0, 99] })).toMatch(/country must be 2 indexes/);
    expect(expandEdgeLogBatch({ ...valid(), originMs: [null, "1"] })).toMatch(/originMs/);
    expect(expandEdgeLogBatch({ ...valid(), edgeMs: [null, 1] })).toMatch(/edgeMs/);
    expect(expandEdgeLogBatch({ ...valid(), pageGroups: [] })).toMatch(/pageGroups/);
    expect(expandEdgeLogBatch({ ...valid(), ts: "now" })).toMatch(/ts/);
  });

  it("expands a valid batch", () => {
    const out = expandEdgeLogBatch(valid());
    expect(Array.isArray(out) && out.map((r) => [r.path, r.pageGroup, r.country])).toEqual([
      ["/p/1", "product", "NL"],
      ["/c/2", "other", "FR"],
    ]);
  });
});
