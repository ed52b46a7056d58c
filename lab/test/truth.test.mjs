/** The lab's pure parts: scenario grid, truth formulas, comparison, link witness, table round trip. */
import { describe, expect, it } from "vitest";
import { closingLine, formatTable, parseClosingLine, parseTable, tableRows } from "../lib/report.mjs";
import {
  compareScenario,
  explain,
  fullGrid,
  median,
  quickGrid,
  scenario,
  tolerance,
  truthFor,
} from "../lib/truth.mjs";
import { witnessRequest } from "../lib/witness.mjs";

describe("grid", () => {
  it("covers every MISS combination of L × M × B × cold/reused and every L × cold/reused for HIT", () => {
    const g = fullGrid();
    expect(g.filter((s) => s.cache === "MISS")).toHaveLength(24);
    expect(g.filter((s) => s.cache === "HIT")).toHaveLength(6);
    expect(new Set(g.map((s) => s.name)).size).toBe(30);
    for (const q of quickGrid()) expect(g.map((s) => s.name)).toContain(q.name);
  });
});

describe("truth", () => {
  const miss = scenario({ cache: "MISS", conn: "cold", lastMile: 80, middleMile: 60, backend: 300 });
  const hit = scenario({ cache: "HIT", conn: "reused", lastMile: 20, middleMile: 10, backend: 50 });

  it("a new connection costs one RTT on each mile; the backend is the configured time", () => {
    expect(truthFor(miss, { newClientConn: true, newOriginConn: true })).toEqual({
      lastMileConnect: 80,
      lastMileWire: 80,
      edge: 0,
      middleMile: 120,
      backend: 300,
    });
    expect(truthFor(miss, { newClientConn: false, newOriginConn: false })).toEqual({
      lastMileConnect: 0,
      lastMileWire: 80,
      edge: 0,
      middleMile: 60,
      backend: 300,
    });
  });

  it("the middle mile of a MISS includes the time the page took to cross the link", () => {
    const t = truthFor(miss, { newClientConn: false, newOriginConn: false, originTransferMs: 11.5 });
    expect(t.middleMile).toBe(71.5);
    expect(
      truthFor(miss, { newClientConn: false, newOriginConn: false, originTransferMs: Number.NaN }).middleMile,
    ).toBe(60);
  });

  it("a HIT has no middle mile and no backend", () => {
    expect(truthFor(hit, { newClientConn: false, newOriginConn: true, originTransferMs: 5 })).toEqual({
      lastMileConnect: 0,
      lastMileWire: 20,
      edge: 0,
      middleMile: 0,
      backend: 0,
    });
  });

  it("tolerance is max(2 ms, 2 %)", () => {
    expect(tolerance(0)).toBe(2);
    expect(tolerance(100)).toBe(2);
    expect(tolerance(300)).toBe(6);
  });

  it("compares per-view errors, flags a part off, explains one covered by unseen server time", () => {
    const view = (wire, middle, unseenMiddle) => ({
      truth: { lastMileConnect: 80, lastMileWire: 80, edge: 0, middleMile: 60, backend: 300 },
      measured: { lastMileConnect: 80.5, lastMileWire: wire, edge: 1, middleMile: middle, backend: 300.4 },
      unseen: { lastMileWire: 0.5, middleMile: unseenMiddle },
    });
    const rows = compareScenario([view(81, 63.5, 3), view(81.2, 63.6, 3.2), view(86, 63.4, 2.8)]);
    const by = Object.fromEntries(rows.map((r) => [r.part, r]));
    expect(by.lastMileConnect.ok).toBe(true);
    expect(by.lastMileWire.error).toBeCloseTo(1.2);
    expect(by.lastMileWire.ok).toBe(true);
    expect(by.middleMile.ok).toBe(false);
    expect(by.middleMile.unseen).toBeCloseTo(3);
    expect(explain(miss, by.middleMile)).toMatch(/origin time outside/);
    expect(explain(miss, { ...by.middleMile, unseen: 0 })).toBeNull();
    // The edge's own loopback calls explain a few ms of edge time, never a body download's worth.
    expect(explain(miss, { part: "edge", error: 3, tolerance: 2, unseen: Number.NaN })).toMatch(/loopback/);
    expect(explain(miss, { part: "edge", error: 12, tolerance: 2, unseen: Number.NaN })).toBeNull();
  });

  it("median", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});

describe("witness", () => {
  const ev = (kind, dir, tUs, src, dst, text = "") => ({ kind, dir, tUs, src, dst, text });
  const events = [
    ev("syn", "ab", 1_000, "192.0.2.1:5000", "192.0.2.2:80"),
    ev("req", "ab", 2_000, "192.0.2.1:5000", "192.0.2.2:80", "GET /p/1?lab=a HTTP/1.1"),
    ev("res", "ba", 13_500, "192.0.2.2:80", "192.0.2.1:5000", "HTTP/1.1 200 OK"),
    ev("dat", "ba", 14_000, "192.0.2.2:80", "192.0.2.1:5000", "1448"),
    ev("dat", "ab", 15_000, "192.0.2.1:5000", "192.0.2.2:80", "10"),
    ev("dat", "ba", 16_000, "192.0.2.2:80", "192.0.2.1:5000", "900"),
    ev("req", "ab", 50_000, "192.0.2.1:5000", "192.0.2.2:80", "GET /p/2?lab=b HTTP/1.1"),
    ev("res", "ba", 61_000, "192.0.2.2:80", "192.0.2.1:5000", "HTTP/1.1 200 OK"),
  ];

  it("a request on a connection opened during the view is new; the server time excludes the delay", () => {
    const w = witnessRequest(events, { target: "/p/1?lab=a", sinceUs: 500, oneWayUs: 10_000 });
    expect(w).toEqual({ newConn: true, serverMs: 1.5, transferMs: 2.5 });
  });

  it("a request on an older connection is reused; a request never seen is null", () => {
    expect(witnessRequest(events, { target: "/p/2?lab=b", sinceUs: 40_000, oneWayUs: 10_000 })?.newConn).toBe(
      false,
    );
    expect(witnessRequest(events, { target: "/p/3", sinceUs: 0, oneWayUs: 0 })).toBeNull();
  });
});

describe("report", () => {
  it("the printed table and closing line parse back", () => {
    const s = scenario({ cache: "MISS", conn: "cold", lastMile: 20, middleMile: 10, backend: 50 });
    const rows = compareScenario([
      {
        truth: { lastMileConnect: 20, lastMileWire: 20, edge: 0, middleMile: 20, backend: 50 },
        measured: { lastMileConnect: 20.4, lastMileWire: 21.1, edge: 2, middleMile: 22.4, backend: 50.4 },
        unseen: { lastMileWire: 0.7, middleMile: 1.2 },
      },
    ]).map((r) => ({ ...r, verdict: r.ok ? "ok" : "OFF" }));
    const text = `${formatTable(tableRows([{ scenario: s, rows }]))}\n\n${closingLine({ scenarios: 1, ok: 4, explained: 0, off: 1, seconds: 12.4 })}`;
    const parsed = parseTable(text);
    expect(parsed).toHaveLength(5);
    expect(parsed[2]).toMatchObject({ part: "edge", truth: 0, measured: 2, error: 2, verdict: "ok" });
    expect(parsed[3]).toMatchObject({
      part: "middle mile",
      truth: 20,
      measured: 22.4,
      error: 2.4,
      unseen: 1.2,
      verdict: "OFF",
    });
    expect(parseClosingLine(text)).toMatchObject({
      verdict: "FAIL",
      scenarios: 1,
      parts: 5,
      off: 1,
      seconds: 12,
    });
  });
});
