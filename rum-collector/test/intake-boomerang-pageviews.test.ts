import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { validateBeacon } from "../../common/src/beacon-schema.ts";
import type { PageViewMessage } from "../../common/src/rum-types.ts";
import { BOOMERANG_SEQ, boomerangToBeacon } from "../src/intake/boomerang.ts";
import { boomerangParams, NAV_START } from "./intake-boomerang-fixtures.ts";
import { intakeRequest, SITE_ORIGIN, testApp } from "./intake-fixtures.ts";

function mapped(p: URLSearchParams) {
  const r = boomerangToBeacon(p, "shop");
  if (r.kind !== "beacon") throw new Error(`${r.kind}: ${"error" in r ? r.error : r.reason}`);
  return r;
}

async function post(app: ReturnType<typeof testApp>["app"], p: URLSearchParams): Promise<Response> {
  return app.fetch(
    intakeRequest("/_rum/v1/boomerang", String(p), { contentType: "application/x-www-form-urlencoded" }),
  );
}

describe("boomerang: one invalid field drops that field, not the beacon", () => {
  it("a negative timer is dropped and counted; TTFB falls back to Navigation Timing", () => {
    const r = mapped(boomerangParams({ t_resp: "-5" }));
    expect(r.invalidFields).toBe(1);
    expect(r.beacon.vitals.ttfb).toBe(296);
    expect(r.beacon.vitals.lcp).toBe(455);
  });

  it("counts each bad value: timers, a phase after 10 min, flags, codes, network hints, sizes", () => {
    const r = mapped(
      boomerangParams({
        "pt.lcp": "-1",
        "pt.fcp": "abc",
        nt_load_end: String(NAV_START + 3_600_000),
        nt_dns_st: String(NAV_START - 50),
        early: "maybe",
        "vis.pre": "2",
        nt_nav_type: "7",
        "mob.etype": "5g",
        "mob.rtt": "Infinity",
        nt_enc_size: "1.5",
        "scr.dpx": "99",
      }),
    );
    expect(r.invalidFields).toBe(11);
    expect(r.beacon.vitals).toEqual({ ttfb: 296, cls: 0.02 });
    expect(r.beacon.nav).toMatchObject({
      type: "navigate",
      loadEventEnd: 412, // from t_done
      domainLookupStart: 184, // collapsed onto the request start
      encodedBodySize: 0,
    });
    expect(r.beacon.net).toEqual({ downlink: 8.5 });
    expect(r.beacon.dpr).toBeUndefined();
    expect(r.beacon.seq).toBe(BOOMERANG_SEQ.load);
  });

  it("the HTTP intake accepts it and carries invalidFields on the queue message", async () => {
    const { app, queue } = testApp();
    let res = await post(app, boomerangParams({ t_resp: "-5", "c.cls": "-3" }));
    expect(res.status).toBe(204);
    res = await post(app, boomerangParams({ pid: "cleanpid1" }));
    expect(res.status).toBe(204);
    expect(queue.sent[0]).toMatchObject({ invalidFields: 2, attribution: { ttfb: 296 } });
    expect(queue.sent[0]?.beacon.vitals.cls).toBeUndefined();
    expect(queue.sent[1]).not.toHaveProperty("invalidFields");
  });
});

describe("boomerang: early beacon, page load, unload", () => {
  const early = () => {
    const p = boomerangParams({ early: "true", n: "1" });
    for (const k of ["pt.lcp", "nt_load_end", "t_done", "c.cls"]) p.delete(k);
    return p;
  };

  it("the page-load beacon outranks the early one; the unload beacon only adds INP/CLS", () => {
    const e = mapped(early());
    const load = mapped(boomerangParams({ n: "2" }));
    const quit = mapped(
      new URLSearchParams({ "rt.quit": "", pid: "8fftz949", u: `${SITE_ORIGIN}/c/shoes`, "et.inp": "90" }),
    );
    expect(e.beacon.pvid).toBe(load.beacon.pvid);
    expect(e.beacon.seq).toBeLessThan(load.beacon.seq);
    expect(load.beacon.seq).toBeLessThan(quit.beacon.seq);
    expect(e.beacon.vitals.lcp).toBeUndefined();
    expect(load.beacon.vitals.lcp).toBe(455);
    expect(load.beacon.nav?.loadEventEnd).toBe(412);
    expect(Object.keys(quit.beacon.vitals)).toEqual(["inp"]);
  });

  it("without pid, the early and page-load beacons still name the same page view", () => {
    const e = early();
    const load = boomerangParams({ n: "2" });
    e.delete("pid");
    load.delete("pid");
    expect(mapped(e).beacon.pvid).toBe(mapped(load).beacon.pvid);
  });

  it("through the intake: whichever arrives first, the page load has the higher seq", async () => {
    const { app, queue } = testApp();
    expect((await post(app, boomerangParams({ n: "2" }))).status).toBe(204);
    expect((await post(app, early())).status).toBe(204);
    const [load, earlyMsg] = queue.sent as [PageViewMessage, PageViewMessage];
    expect(load.pvid).toBe(earlyMsg.pvid);
    expect(load.seq).toBeGreaterThan(earlyMsg.seq);
    expect(load.beacon.vitals.lcp).toBe(455);
  });
});

describe("boomerang: bfcache restores and prerender activations are page views of their own", () => {
  const restore = (tstart: number) =>
    new URLSearchParams({
      "http.initiator": "bfcache",
      "rt.start": "manual",
      "rt.tstart": String(tstart),
      "rt.end": String(tstart + 30),
      t_done: "30",
      t_page: "30",
      t_resp: "0",
      nt_nav_type: "1",
      "pt.fcp": "24",
      "pt.lcp": "24",
      pid: "8fftz949",
      "rt.si": "dd0c542f-7adf-4310-830a-6c0a3d157c90-s8cjr1",
      u: `${SITE_ORIGIN}/c/shoes?color=red`,
    });

  it("a bfcache beacon gets its own page-view id, type back_forward_cache, TTFB 0 and its LCP", () => {
    const first = mapped(restore(NAV_START + 60_000));
    const second = mapped(restore(NAV_START + 120_000));
    expect(first.beacon.pvid).not.toBe("8fftz949");
    expect(second.beacon.pvid).not.toBe(first.beacon.pvid);
    expect(mapped(restore(NAV_START + 60_000)).beacon.pvid).toBe(first.beacon.pvid);
    expect(first.beacon).toMatchObject({
      seq: BOOMERANG_SEQ.load,
      nav: { type: "back_forward_cache", responseStart: 0, activationStart: 0 },
      vitals: { ttfb: 0, lcp: 24, fcp: 24 },
    });
    const noStart = restore(0);
    noStart.delete("rt.tstart");
    expect(boomerangToBeacon(noStart, "shop")).toMatchObject({
      kind: "invalid",
      error: expect.stringMatching(/^rt\.tstart: required on a bfcache beacon/),
    });
  });

  it("through the intake: the original page view and its restore are two messages", async () => {
    const { app, queue } = testApp();
    await post(app, boomerangParams());
    await post(app, restore(NAV_START + 60_000));
    expect(queue.sent.map((m) => m.beacon.nav?.type)).toEqual(["reload", "back_forward_cache"]);
    expect(new Set(queue.sent.map((m) => m.pvid)).size).toBe(2);
    expect(queue.sent[1]?.attribution.ttfb).toBe(0);
  });

  it("a prerendered page (vis.pre=1) keeps type prerender and its activation start", () => {
    const r = mapped(boomerangParams({ "vis.pre": "1", t_prerender: "1500" }));
    expect(r.beacon.nav).toMatchObject({ type: "prerender", activationStart: 1500 });
    expect(r.invalidFields).toBe(0);
  });
});

describe("boomerang: hostile values (property)", () => {
  const PARAMS = [
    "pid",
    "n",
    "early",
    "rt.quit",
    "rt.si",
    "rt.tstart",
    "nt_nav_st",
    "nt_nav_type",
    "nt_red_st",
    "nt_fet_st",
    "nt_dns_st",
    "nt_con_st",
    "nt_ssl_st",
    "nt_req_st",
    "nt_res_st",
    "nt_res_end",
    "nt_domint",
    "nt_load_end",
    "nt_trn_size",
    "nt_enc_size",
    "t_resp",
    "t_done",
    "t_prerender",
    "vis.pre",
    "pt.lcp",
    "pt.fcp",
    "c.cls",
    "et.inp",
    "mob.etype",
    "mob.rtt",
    "mob.dl",
    "scr.dpx",
    "http.initiator",
  ];
  const HOSTILE = fc.oneof(
    fc.constantFrom(
      "",
      "-5",
      "-0",
      "NaN",
      "Infinity",
      "-Infinity",
      "1e400",
      "1e15",
      " 12 ",
      "0x10",
      "12abc",
      "9007199254740993",
      "0.0000001",
      "true",
      "bfcache",
      "spa_hard",
      "xhr",
      "__proto__",
      "constructor",
      "~1ab",
      "\u0000",
      "💥",
    ),
    fc.string(),
    fc.double().map(String),
    fc.integer().map((i) => String(NAV_START + i)),
  );

  it("any bad value in any one parameter still gives a valid page view or a clean answer", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...PARAMS), HOSTILE), { maxLength: 4 }), (edits) => {
        const p = boomerangParams();
        for (const [k, v] of edits) p.set(k, v);
        const r = boomerangToBeacon(p, "shop");
        if (r.kind === "ignored") {
          expect(p.get("http.initiator")).not.toMatch(/^(|spa_hard|bfcache)$/);
          return;
        }
        if (r.kind === "invalid") {
          // Only an unidentifiable page view (bad pid and no usable start) is refused outright.
          expect(r.error).toMatch(/^(pid|rt\.tstart): required/);
          return;
        }
        expect(validateBeacon(r.beacon), JSON.stringify(edits)).toMatchObject({ ok: true });
        expect(r.invalidFields).toBeGreaterThanOrEqual(0);
        expect(r.invalidFields).toBeLessThanOrEqual(edits.length + 2);
      }),
      { numRuns: 2000 },
    );
  });
});
