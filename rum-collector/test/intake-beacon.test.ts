import { describe, expect, it } from "vitest";
import { isSampledIn } from "../src/intake/sampling.ts";
import {
  beaconRequest,
  CHROME_ANDROID_UA,
  CLIENT_IP,
  intakeRequest,
  OTHER_SITE_ORIGIN,
  SITE_ORIGIN,
  sampleBeacon,
  testApp,
} from "./intake-fixtures.ts";

async function errorOf(res: Response): Promise<string> {
  const body = (await res.json()) as { error?: unknown };
  expect(typeof body.error).toBe("string");
  return body.error as string;
}

describe("POST /_rum/v1/beacon: accepted", () => {
  it("enqueues one enriched page view and answers 204", async () => {
    const { app, queue } = testApp();
    const res = await app.fetch(
      beaconRequest(sampleBeacon(), { cf: { country: "DE", colo: "FRA", asn: 3320 } }),
    );
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(SITE_ORIGIN);
    expect(queue.sent).toHaveLength(1);
    const m = queue.sent[0];
    if (!m) throw new Error("no message");
    expect(m).toMatchObject({
      kind: "pageview",
      ts: Date.UTC(2026, 10, 25, 12, 0, 0),
      site: "shop",
      pvid: "pv_0123456789abcdef",
      seq: 0,
      pageGroup: "/p/:id",
      path: "/p/12345",
      dims: { country: "DE", colo: "FRA", asn: 3320, device: "mobile", browser: "chrome" },
      cacheStatus: "MISS",
      sampleRate: 1,
    });
    // TTFB 141 = queueing 4 (3 before DNS + 1 connect→request) + connect 37 + wire 20 + edge 10
    // + middle mile 30 + backend 40.
    expect(m.attribution).toMatchObject({
      ttfb: 141,
      queueing: 4,
      lastMileConnect: 37,
      lastMileWire: 20,
      edge: 10,
      middleMile: 30,
      backend: 40,
      originAsOnePart: false,
      download: 29,
    });
    expect(m.attribution.render).not.toBeNull();
    expect(m.beacon.vitals.lcp).toBe(900);
  });

  it("never enqueues the IP or the raw User-Agent", async () => {
    const { app, queue } = testApp();
    const res = await app.fetch(beaconRequest({ ...sampleBeacon(), ip: CLIENT_IP, ua: CHROME_ANDROID_UA }));
    expect(res.status).toBe(204);
    const stored = JSON.stringify(queue.sent);
    expect(stored).not.toContain(CLIENT_IP);
    expect(stored).not.toContain("Pixel 8");
    expect(stored).not.toContain("Mozilla");
  });

  it("accepts application/json as well as text/plain (with or without charset)", async () => {
    const { app, queue } = testApp();
    for (const contentType of [
      "application/json",
      "text/plain",
      "text/plain;charset=UTF-8",
      "Application/JSON; charset=utf-8",
    ]) {
      const res = await app.fetch(beaconRequest(sampleBeacon(), { contentType }));
      expect(res.status, contentType).toBe(204);
    }
    expect(queue.sent).toHaveLength(4);
  });

  it("accepts a beacon without an Origin header (server-side sender, site allowed) and defaults missing cf data", async () => {
    const { app, queue } = testApp({ RUM_NO_ORIGIN_SITES: "shop" });
    const res = await app.fetch(
      beaconRequest(sampleBeacon({ serverTiming: undefined }), { origin: null, ua: "" }),
    );
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    expect(queue.sent[0]?.dims).toEqual({
      country: "XX",
      colo: "local",
      asn: 0,
      device: "other",
      browser: "other",
    });
    expect(queue.sent[0]?.cacheStatus).toBe("NONE");
    expect(queue.sent[0]?.attribution.backend).toBeNull();
  });

  it("uses RUM_PAGE_GROUPS rules and drops the query from path and group", async () => {
    const { app, queue } = testApp({ RUM_PAGE_GROUPS: "/p/:id=product,/=home" });
    await app.fetch(beaconRequest(sampleBeacon()));
    await app.fetch(beaconRequest(sampleBeacon({ pvid: "pv_home_000001", url: `${SITE_ORIGIN}/?q=secret` })));
    expect(queue.sent.map((m) => [m.pageGroup, m.path])).toEqual([
      ["product", "/p/12345"],
      ["home", "/"],
    ]);
    expect(JSON.stringify(queue.sent.map((m) => [m.pageGroup, m.path]))).not.toContain("secret");
  });
});

describe("POST /_rum/v1/beacon: rejections", () => {
  it("405 for other methods, with Allow", async () => {
    const { app, queue } = testApp();
    for (const method of ["GET", "PUT", "DELETE"]) {
      const res = await app.fetch(intakeRequest("/_rum/v1/beacon", null, { method }));
      expect(res.status).toBe(405);
      expect(res.headers.get("allow")).toBe("POST, OPTIONS");
      expect(await errorOf(res)).toContain(method);
    }
    expect(queue.sent).toHaveLength(0);
  });

  it("415 for a missing or unsupported content type", async () => {
    const { app } = testApp();
    // Bytes, not a string: a string body would get text/plain from the Request constructor.
    const bytes = new TextEncoder().encode(JSON.stringify(sampleBeacon()));
    for (const contentType of [
      null,
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
    ]) {
      const res = await app.fetch(intakeRequest("/_rum/v1/beacon", bytes, { contentType }));
      expect(res.status, String(contentType)).toBe(415);
      expect(await errorOf(res)).toMatch(/content type .* not accepted/);
    }
  });

  it("413 for a body over 16 KiB, declared by Content-Length", async () => {
    const { app, queue } = testApp();
    const big = JSON.stringify({ ...sampleBeacon(), pad: "x".repeat(17_000) });
    const res = await app.fetch(beaconRequest(big));
    expect(res.status).toBe(413);
    expect(await errorOf(res)).toMatch(/larger than 16384 bytes/);
    expect(queue.sent).toHaveLength(0);
  });

  it("413 for a streamed body over 16 KiB without Content-Length", async () => {
    const { app } = testApp();
    const chunk = new TextEncoder().encode("x".repeat(4096));
    let n = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        // Endless unless the reader stops: the intake must cut it off, not buffer it.
        n++;
        controller.enqueue(chunk);
        if (n > 1000) controller.close();
      },
    });
    const req = intakeRequest("/_rum/v1/beacon", stream, {});
    expect(req.headers.get("content-length")).toBeNull();
    const res = await app.fetch(req);
    expect(res.status).toBe(413);
    expect(n).toBeLessThan(10);
  });

  it("413 when an in-process caller declares a short Content-Length for a longer body", async () => {
    const { app, queue } = testApp();
    const big = JSON.stringify({ ...sampleBeacon(), pad: "x".repeat(17_000) });
    const res = await app.fetch(beaconRequest(big, { headers: { "content-length": "100" } }));
    expect(res.status).toBe(413);
    expect(queue.sent).toHaveLength(0);
  });

  it("400 for a body that is not JSON or not UTF-8", async () => {
    const { app } = testApp();
    let res = await app.fetch(beaconRequest("{not json"));
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toBe("body is not valid JSON");
    res = await app.fetch(intakeRequest("/_rum/v1/beacon", new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])));
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toBe("body is not valid UTF-8");
    res = await app.fetch(beaconRequest(""));
    expect(res.status).toBe(400);
  });

  it("400 naming the field for negative, absurd or malformed values", async () => {
    const { app, queue } = testApp();
    const base = sampleBeacon();
    const cases: [unknown, RegExp][] = [
      [{ ...base, vitals: { lcp: -20 } }, /^vitals\.lcp: .*got -20/],
      [{ ...base, vitals: { inp: 600_001 } }, /^vitals\.inp: .*between 0 and 600000/],
      [{ ...base, nav: { ...base.nav, responseStart: 11 * 60_000 } }, /^nav\.responseStart: /],
      [{ ...base, pvid: "bad id!" }, /^pvid: /],
      [{ ...base, pvid: undefined }, /^pvid: required field is missing$/],
      [{ ...base, url: "ftp://x/y" }, /^url: /],
      [{ ...base, v: 7 }, /^v: unsupported schema version/],
      [[base], /^expected a JSON object$/],
    ];
    for (const [payload, re] of cases) {
      const res = await app.fetch(beaconRequest(payload));
      expect(res.status, String(re)).toBe(400);
      expect(await errorOf(res)).toMatch(re);
    }
    expect(queue.sent).toHaveLength(0);
  });

  it("400 for an unknown site", async () => {
    const { app, queue } = testApp();
    const res = await app.fetch(beaconRequest(sampleBeacon({ site: "nosuchsite" }), { origin: null }));
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toBe('unknown site "nosuchsite"');
    expect(queue.sent).toHaveLength(0);
  });

  it("503 with Retry-After when the queue refuses the message (never a silent 204)", async () => {
    const { app, queue } = testApp();
    queue.fail = true;
    const res = await app.fetch(beaconRequest(sampleBeacon()));
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(res.headers.get("access-control-allow-origin")).toBe(SITE_ORIGIN);
  });
});

describe("CORS", () => {
  it("answers a preflight from a registered origin", async () => {
    const { app } = testApp();
    const res = await app.fetch(
      intakeRequest("/_rum/v1/beacon", null, {
        method: "OPTIONS",
        contentType: null,
        headers: {
          "access-control-request-method": "POST",
          "access-control-request-headers": "content-type",
        },
      }),
    );
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(SITE_ORIGIN);
    expect(res.headers.get("access-control-allow-methods")).toContain("POST");
    expect(res.headers.get("access-control-allow-headers")?.toLowerCase()).toBe("content-type");
    expect(res.headers.get("vary")).toBe("Origin");
  });

  it("403 without CORS headers for an unregistered origin (preflight and POST)", async () => {
    const { app, queue } = testApp();
    for (const method of ["OPTIONS", "POST"]) {
      const res = await app.fetch(
        beaconRequest(method === "POST" ? sampleBeacon() : "", { method, origin: "https://evil.example" }),
      );
      expect(res.status).toBe(403);
      expect(res.headers.get("access-control-allow-origin")).toBeNull();
      expect(await errorOf(res)).toContain("https://evil.example");
    }
    const nullOrigin = await app.fetch(beaconRequest(sampleBeacon(), { origin: "null" }));
    expect(nullOrigin.status).toBe(403);
    expect(queue.sent).toHaveLength(0);
  });

  it("403 when a registered origin posts for another site", async () => {
    const { app, queue } = testApp();
    const res = await app.fetch(beaconRequest(sampleBeacon(), { origin: OTHER_SITE_ORIGIN }));
    expect(res.status).toBe(403);
    expect(await errorOf(res)).toBe(`origin ${OTHER_SITE_ORIGIN} is not registered for site "shop"`);
    expect(queue.sent).toHaveLength(0);
  });
});

describe("rate limiting", () => {
  it("429 with Retry-After once a client exceeds RUM_RATE_LIMIT, per client, refilling over time", async () => {
    let now = Date.UTC(2026, 10, 25, 12, 0, 0);
    const { app, queue } = testApp({ RUM_RATE_LIMIT: "2/min" }, { now: () => now });
    expect((await app.fetch(beaconRequest(sampleBeacon()))).status).toBe(204);
    expect((await app.fetch(beaconRequest(sampleBeacon()))).status).toBe(204);
    const limited = await app.fetch(beaconRequest(sampleBeacon()));
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBe(30);
    expect(limited.headers.get("access-control-allow-origin")).toBe(SITE_ORIGIN);
    expect(await errorOf(limited)).toMatch(/rate limit/);
    // Another client is not affected.
    expect((await app.fetch(beaconRequest(sampleBeacon(), { ip: "198.51.100.9" }))).status).toBe(204);
    // Half a minute later one token is back.
    now += 30_000;
    expect((await app.fetch(beaconRequest(sampleBeacon()))).status).toBe(204);
    expect((await app.fetch(beaconRequest(sampleBeacon()))).status).toBe(429);
    expect(queue.sent).toHaveLength(4);
  });
});

describe("sampling", () => {
  it("keeps or drops all sends of one page view together and records the rate", async () => {
    const { app, queue } = testApp({ RUM_SAMPLE_RATE: "0.5" });
    const kept: boolean[] = [];
    for (let i = 0; i < 200; i++) {
      const pvid = `pv_sample_${i.toString().padStart(4, "0")}`;
      const before = queue.sent.length;
      for (let seq = 0; seq < 2; seq++) {
        const res = await app.fetch(beaconRequest(sampleBeacon({ pvid, seq })));
        expect(res.status).toBe(204);
      }
      const added = queue.sent.length - before;
      expect([0, 2]).toContain(added);
      expect(added === 2).toBe(isSampledIn(pvid, 0.5));
      kept.push(added === 2);
    }
    const share = kept.filter(Boolean).length / kept.length;
    expect(share).toBeGreaterThan(0.35);
    expect(share).toBeLessThan(0.65);
    expect(queue.sent.every((m) => m.sampleRate === 0.5)).toBe(true);
  });

  it("RUM_SAMPLE_RATE=0 answers 204 and enqueues nothing", async () => {
    const { app, queue } = testApp({ RUM_SAMPLE_RATE: "0" });
    expect((await app.fetch(beaconRequest(sampleBeacon()))).status).toBe(204);
    expect(queue.sent).toHaveLength(0);
  });
});

describe("routing", () => {
  it("404 JSON for unknown collector paths; 503 for the query API without a token", async () => {
    const { app } = testApp();
    const res = await app.fetch(new Request(`${SITE_ORIGIN}/_rum/v1/nothing`));
    expect(res.status).toBe(404);
    expect(await errorOf(res)).toContain("/_rum/v1/nothing");
    const q = await app.fetch(new Request(`${SITE_ORIGIN}/_rum/v1/query`));
    expect(q.status).toBe(503);
  });
});
