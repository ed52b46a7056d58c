import { describe, expect, it } from "vitest";
import { boomerangToBeacon } from "../src/intake/boomerang.ts";
import { boomerangParams, NAV_START } from "./intake-boomerang-fixtures.ts";
import { intakeRequest, SITE_ORIGIN, testApp } from "./intake-fixtures.ts";

describe("boomerangToBeacon (mapping)", () => {
  it("maps nt_* epoch timestamps to navigation-relative ms and the t_*/pt.* metrics", () => {
    const r = boomerangToBeacon(boomerangParams(), "shop");
    expect(r.kind).toBe("beacon");
    if (r.kind !== "beacon") return;
    expect(r.beacon).toEqual({
      v: 1,
      site: "shop",
      pvid: "8fftz949",
      seq: 1,
      url: `${SITE_ORIGIN}/c/shoes?color=red`,
      sid: "dd0c542f-7adf-4310-830a-6c0a3d157c90-s8cjr1",
      nav: {
        type: "reload",
        redirectStart: 0,
        redirectEnd: 0,
        fetchStart: 5,
        domainLookupStart: 17,
        domainLookupEnd: 18,
        connectStart: 18,
        secureConnectionStart: 122,
        connectEnd: 184,
        requestStart: 184,
        responseStart: 296,
        responseEnd: 300,
        domInteractive: 400,
        domContentLoadedEventEnd: 402,
        loadEventEnd: 412,
        transferSize: 3940,
        encodedBodySize: 3209,
        deliveryType: "",
        activationStart: 0,
      },
      vitals: { ttfb: 296, lcp: 455, fcp: 407, cls: 0.02 },
      net: { ect: "4g", rtt: 100, downlink: 8.5 },
    });
  });

  it("collapses unreported phases onto the next one (0 ms, never a guess)", () => {
    const p = boomerangParams();
    p.delete("nt_fet_st");
    p.delete("nt_ssl_st");
    const r = boomerangToBeacon(p, "shop");
    if (r.kind !== "beacon") throw new Error(r.kind);
    expect(r.beacon.nav?.fetchStart).toBe(17);
    expect(r.beacon.nav?.secureConnectionStart).toBe(0);
  });

  it("derives a stable page-view id from rt.si + start + URL when pid is absent", () => {
    const p = boomerangParams();
    p.delete("pid");
    const r = boomerangToBeacon(p, "shop");
    if (r.kind !== "beacon") throw new Error(r.kind);
    expect(r.beacon.pvid).toMatch(/^b[0-9a-f]{16}$/);
    // The same beacon again (a retry, the unload beacon) names the same page view.
    const again = boomerangToBeacon(new URLSearchParams(p), "shop");
    expect(again.kind === "beacon" && again.beacon.pvid).toBe(r.beacon.pvid);
    // Another start, session or page is another page view.
    for (const [k, v] of [
      ["rt.tstart", String(NAV_START + 1)],
      ["rt.si", "other-session-0001"],
      ["u", `${SITE_ORIGIN}/c/hats`],
    ]) {
      const q = new URLSearchParams(p);
      q.set(k as string, v as string);
      const other = boomerangToBeacon(q, "shop");
      expect(other.kind === "beacon" && other.beacon.pvid, k).not.toBe(r.beacon.pvid);
    }
    // An invalid pid is dropped (counted) and the id derived instead.
    const bad = boomerangToBeacon(boomerangParams({ pid: "bad pid!" }), "shop");
    expect(bad).toMatchObject({ kind: "beacon", beacon: { pvid: r.beacon.pvid }, invalidFields: 1 });
    // Nothing to derive it from: the beacon cannot name its page view.
    p.delete("rt.tstart");
    p.delete("nt_nav_st");
    expect(boomerangToBeacon(p, "shop")).toMatchObject({
      kind: "invalid",
      error: expect.stringMatching(/^pid: required/),
    });
  });

  it("without navigation timing keeps TTFB from t_resp", () => {
    const p = new URLSearchParams({ u: `${SITE_ORIGIN}/`, pid: "abcdefgh", t_resp: "120", t_done: "900" });
    const r = boomerangToBeacon(p, "shop");
    if (r.kind !== "beacon") throw new Error(r.kind);
    expect(r.beacon.nav).toBeUndefined();
    expect(r.beacon.vitals).toEqual({ ttfb: 120 });
  });

  it("ignores non-page-load beacons", () => {
    expect(boomerangToBeacon(boomerangParams({ "http.initiator": "xhr" }), "shop").kind).toBe("ignored");
    expect(boomerangToBeacon(boomerangParams({ "http.initiator": "spa_hard" }), "shop").kind).toBe("beacon");
  });

  it("maps an unload beacon (rt.quit) to an update of the page view with INP and CLS", () => {
    const p = new URLSearchParams({
      "rt.quit": "",
      n: "2",
      pid: "8fftz949",
      u: `${SITE_ORIGIN}/c/shoes`,
      "et.inp": "184",
      "c.cls": "0.131",
    });
    const r = boomerangToBeacon(p, "shop");
    if (r.kind !== "beacon") throw new Error(r.kind);
    expect(r.beacon).toMatchObject({ pvid: "8fftz949", seq: 2, vitals: { inp: 184, cls: 0.131 } });
    expect(r.beacon.nav).toBeUndefined();
    p.set("n", "3");
    const later = boomerangToBeacon(p, "shop");
    expect(later.kind === "beacon" && later.beacon.seq).toBe(3);
    p.delete("n");
    const again = boomerangToBeacon(p, "shop");
    expect(again.kind === "beacon" && again.beacon.seq).toBe(2);
  });

  it("takes c.cls only as a plain decimal score", () => {
    for (const [raw, cls] of [
      ["0", 0],
      ["0.25", 0.25],
      [".5", 0.5],
      ["~1ab", undefined],
      ["105", undefined],
      ["-0.1", undefined],
    ] as const) {
      const r = boomerangToBeacon(boomerangParams({ "c.cls": raw }), "shop");
      if (r.kind !== "beacon") throw new Error(r.kind);
      expect(r.beacon.vitals.cls, raw).toBe(cls);
      expect(r.invalidFields, raw).toBe(cls === undefined ? 1 : 0);
    }
  });
});

describe("/_rum/v1/boomerang", () => {
  it("GET image beacon: 200 GIF and the mapped page view enqueued", async () => {
    const { app, queue } = testApp({ RUM_NO_ORIGIN_SITES: "shop" });
    const p = boomerangParams({ site: "shop" });
    const res = await app.fetch(
      intakeRequest(`/_rum/v1/boomerang?${p}`, null, { method: "GET", origin: null, contentType: null }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/gif");
    expect(new Uint8Array(await res.arrayBuffer()).slice(0, 6)).toEqual(new TextEncoder().encode("GIF89a"));
    expect(queue.sent).toHaveLength(1);
    expect(queue.sent[0]).toMatchObject({
      site: "shop",
      pvid: "8fftz949",
      pageGroup: "/c/shoes",
      path: "/c/shoes",
      cacheStatus: "NONE",
      dims: { device: "mobile", browser: "chrome" },
      attribution: { ttfb: 296, lastMileConnect: 167, download: 4, backend: null },
    });
  });

  it("POST form beacon: 204, site from the registered Origin", async () => {
    const { app, queue } = testApp();
    const res = await app.fetch(
      intakeRequest("/_rum/v1/boomerang", `${boomerangParams()}&sb=1`, {
        contentType: "application/x-www-form-urlencoded",
      }),
    );
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(SITE_ORIGIN);
    expect(queue.sent[0]?.site).toBe("shop");
    expect(queue.sent[0]?.beacon.nav?.responseStart).toBe(296);
  });

  it("site from the origin of u when neither site= nor Origin is present", async () => {
    const { app, queue } = testApp({ RUM_NO_ORIGIN_SITES: "shop" });
    const res = await app.fetch(
      intakeRequest(`/_rum/v1/boomerang?${boomerangParams()}`, null, {
        method: "GET",
        origin: null,
        contentType: null,
      }),
    );
    expect(res.status).toBe(200);
    expect(queue.sent[0]?.site).toBe("shop");
  });

  it("rejects unknown sites, missing u, implausible values, wrong types and methods", async () => {
    const { app, queue } = testApp({ RUM_NO_ORIGIN_SITES: "*" });
    const get = (p: URLSearchParams) =>
      app.fetch(
        intakeRequest(`/_rum/v1/boomerang?${p}`, null, { method: "GET", origin: null, contentType: null }),
      );

    let res = await get(boomerangParams({ site: "nosuchsite" }));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'unknown site "nosuchsite"' });

    res = await get(boomerangParams({ u: "https://unregistered.example/" }));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/^unknown site: add site=/);

    const noU = boomerangParams({ site: "shop" });
    noU.delete("u");
    res = await get(noU);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: "boomerang: u: required field is missing" });

    res = await get(boomerangParams({ site: "shop", u: `${SITE_ORIGIN}/${"x".repeat(2100)}` }));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/^boomerang: url: /);

    res = await app.fetch(intakeRequest("/_rum/v1/boomerang", "{}", { contentType: "application/json" }));
    expect(res.status).toBe(415);

    res = await app.fetch(intakeRequest("/_rum/v1/boomerang", null, { method: "PUT", contentType: null }));
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, POST, OPTIONS");

    res = await app.fetch(
      intakeRequest("/_rum/v1/boomerang", String(boomerangParams()), {
        contentType: "application/x-www-form-urlencoded",
        origin: "https://evil.example",
      }),
    );
    expect(res.status).toBe(403);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();

    res = await app.fetch(
      intakeRequest("/_rum/v1/boomerang", `${boomerangParams()}&pad=${"x".repeat(17_000)}`, {
        contentType: "application/x-www-form-urlencoded",
      }),
    );
    expect(res.status).toBe(413);
    expect(queue.sent).toHaveLength(0);
  });

  it("answers ignored beacons without enqueueing", async () => {
    const { app, queue } = testApp();
    const res = await app.fetch(
      intakeRequest(`/_rum/v1/boomerang?${boomerangParams({ "http.initiator": "xhr" })}`, null, {
        method: "GET",
        contentType: null,
      }),
    );
    expect(res.status).toBe(200);
    expect(queue.sent).toHaveLength(0);
  });
});
