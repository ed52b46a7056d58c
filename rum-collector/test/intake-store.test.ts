import { env } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { boomerangToBeacon } from "../src/intake/boomerang.ts";
import { boomerangParams } from "./intake-boomerang-fixtures.ts";

// Through the real root Worker, queue and consumer into D1 (wrangler.toml vars: site "demo").
const ORIGIN = "http://localhost:8000";

interface Row {
  seq: number;
  lcp: number | null;
  ttfb: number | null;
  nav_type: string | null;
  invalid_fields: number;
  session_id: string | null;
  prev_pvid: string | null;
  arm: string | null;
  converted: number;
  conversion_value: number | null;
}

async function boomerang(params: URLSearchParams): Promise<void> {
  const res = await exports.default.fetch("http://localhost:8787/_rum/v1/boomerang", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN },
    body: String(params),
  });
  expect(res.status).toBe(204);
}

/** Polls D1 until the page view's row satisfies `ready` (the queue delivers after ~1 s). */
async function row(pvid: string, ready: (r: Row) => boolean = () => true): Promise<Row> {
  for (let i = 0; i < 150; i++) {
    const r = await env.DB.prepare(
      "SELECT seq, lcp, ttfb, nav_type, invalid_fields, session_id, prev_pvid, arm, converted, conversion_value FROM rum_page_views WHERE site = 'demo' AND pvid = ?1",
    )
      .bind(pvid)
      .first<Row>();
    if (r && ready(r)) return r;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`page view ${pvid} not stored as expected`);
}

const id = () => `pv${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
const page = (pid: string, extra: Record<string, string> = {}) =>
  boomerangParams({ pid, u: `${ORIGIN}/c/shoes`, n: "2", ...extra });
function early(pid: string): URLSearchParams {
  const p = boomerangParams({ pid, u: `${ORIGIN}/c/shoes`, early: "1", n: "1" });
  for (const k of ["pt.lcp", "nt_load_end", "t_done"]) p.delete(k);
  return p;
}

describe("boomerang page views stored (intake → queue → consumer → D1)", () => {
  it("an early beacon then the page-load beacon: the stored row has the page-load values", async () => {
    const pid = id();
    await boomerang(early(pid));
    expect((await row(pid)).lcp).toBeNull();
    await boomerang(page(pid));
    const r = await row(pid, (x) => x.seq === 1);
    expect(r).toMatchObject({ seq: 1, lcp: 455, nav_type: "reload" });
  });

  it("the early beacon arriving after the page-load beacon changes nothing", async () => {
    const pid = id();
    await boomerang(page(pid));
    expect(await row(pid)).toMatchObject({ seq: 1, lcp: 455 });
    await boomerang(early(pid));
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(await row(pid)).toMatchObject({ seq: 1, lcp: 455 });
  });

  it("an invalid field is dropped and its count stored; a bfcache restore is a row of its own", async () => {
    const pid = id();
    await boomerang(page(pid, { t_resp: "-5", "mob.etype": "6g" }));
    expect(await row(pid)).toMatchObject({ invalid_fields: 2, ttfb: 296, lcp: 455 });
    const restore = new URLSearchParams({
      "http.initiator": "bfcache",
      "rt.tstart": "1707076900000",
      t_done: "30",
      t_resp: "0",
      "pt.lcp": "24",
      pid,
      u: `${ORIGIN}/c/shoes`,
    });
    await boomerang(restore);
    const mapped = boomerangToBeacon(restore, "demo");
    if (mapped.kind !== "beacon") throw new Error(mapped.kind);
    expect(mapped.beacon.pvid).not.toBe(pid);
    expect(await row(mapped.beacon.pvid)).toMatchObject({ nav_type: "back_forward_cache", lcp: 24, ttfb: 0 });
    expect(await row(pid)).toMatchObject({ nav_type: "reload", lcp: 455 });
  });

  it("a JSON beacon's session, previous page view, arm and conversion reach the row", async () => {
    const pvid = id();
    const res = await exports.default.fetch("http://localhost:8787/_rum/v1/beacon", {
      method: "POST",
      headers: { "content-type": "text/plain", origin: ORIGIN },
      body: JSON.stringify({
        v: 1,
        site: "demo",
        pvid,
        seq: 0,
        url: `${ORIGIN}/checkout/done`,
        vitals: { ttfb: 80, lcp: 600 },
        sid: "0123456789abcdef01234567",
        prev: "fedcba9876543210fedcba98",
        arm: "press",
        conv: { value: 99.5 },
      }),
    });
    expect(res.status).toBe(204);
    expect(await row(pvid)).toMatchObject({
      session_id: "0123456789abcdef01234567",
      prev_pvid: "fedcba9876543210fedcba98",
      arm: "press",
      converted: 1,
      conversion_value: 99.5,
    });
  });
});
