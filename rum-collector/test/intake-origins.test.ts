import { describe, expect, it } from "vitest";
import { parseCollectorConfig } from "../src/config.ts";
import { pageOrigin } from "../src/intake/cors.ts";
import {
  beaconRequest,
  intakeRequest,
  OTHER_SITE_ORIGIN,
  SITE_ORIGIN,
  sampleBeacon,
  testApp,
} from "./intake-fixtures.ts";

async function errorOf(res: Response): Promise<string> {
  return ((await res.json()) as { error: string }).error;
}

function boomerangGet(query: Record<string, string>, origin: string | null = null): Request {
  const p = new URLSearchParams({
    pid: "pidpid01",
    t_resp: "120",
    t_done: "900",
    "rt.tstart": "1707076768666",
    ...query,
  });
  return intakeRequest(`/_rum/v1/boomerang?${p}`, null, { method: "GET", origin, contentType: null });
}

describe("registered origins: the page URL must be on one of its site's origins", () => {
  it("403 for a beacon whose page URL is on an unregistered origin, with the reason", async () => {
    const { app, queue } = testApp();
    const res = await app.fetch(beaconRequest(sampleBeacon({ url: "https://evil.example/p/1" })));
    expect(res.status).toBe(403);
    expect(await errorOf(res)).toBe(
      'page URL origin https://evil.example is not one of the registered origins of site "shop" (RUM_SITES)',
    );
    expect(queue.sent).toHaveLength(0);
  });

  it("403 for a page URL on another registered site's origin", async () => {
    const { app, queue } = testApp();
    const res = await app.fetch(beaconRequest(sampleBeacon({ url: `${OTHER_SITE_ORIGIN}/post/1` })));
    expect(res.status).toBe(403);
    expect(await errorOf(res)).toMatch(/^page URL origin https:\/\/blog\.example is not one of/);
    expect(queue.sent).toHaveLength(0);
  });

  it("compares normalised origins (case, default port) and any of the site's origins", async () => {
    const { app, queue } = testApp();
    for (const url of ["https://Shop.Example:443/p/1", "http://localhost:8000/c/x?q=1", `${SITE_ORIGIN}`]) {
      const res = await app.fetch(beaconRequest(sampleBeacon({ url })));
      expect(res.status, url).toBe(204);
    }
    expect(queue.sent.map((m) => m.path)).toEqual(["/p/1", "/c/x", "/"]);
  });

  it("userinfo and backslash tricks resolve to the real host", () => {
    const registered = new Map([["https://shop.example", "shop"]]);
    expect(pageOrigin("https://shop.example@evil.example/p", registered)).toBe("https://evil.example");
    expect(pageOrigin("https://shop.example\\@evil.example/", registered)).toBe("https://shop.example");
    expect(pageOrigin("https://shop.example.evil.example/", registered)).toBe(
      "https://shop.example.evil.example",
    );
    expect(pageOrigin("https://shop.example:8443/", registered)).toBe("https://shop.example:8443");
    expect(pageOrigin("not a url", registered)).toBeNull();
  });

  it("boomerang: 403 when u (or pgu) is on an unregistered origin", async () => {
    const { app, queue } = testApp();
    let res = await app.fetch(boomerangGet({ u: "https://evil.example/p/1" }, SITE_ORIGIN));
    expect(res.status).toBe(403);
    expect(await errorOf(res)).toMatch(/^page URL origin https:\/\/evil\.example is not one of/);
    res = await app.fetch(
      boomerangGet({ u: `${SITE_ORIGIN}/api/cart`, pgu: "https://evil.example/p/1" }, SITE_ORIGIN),
    );
    expect(res.status).toBe(403);
    expect(queue.sent).toHaveLength(0);
  });
});

describe("beacons without an Origin header", () => {
  it("are refused by default (403 naming RUM_NO_ORIGIN_SITES), JSON and boomerang alike", async () => {
    const { app, queue } = testApp();
    let res = await app.fetch(beaconRequest(sampleBeacon(), { origin: null }));
    expect(res.status).toBe(403);
    expect(await errorOf(res)).toBe(
      'beacons without an Origin header are not accepted for site "shop" (list it in RUM_NO_ORIGIN_SITES to allow server-side senders and image beacons)',
    );
    res = await app.fetch(boomerangGet({ site: "shop", u: `${SITE_ORIGIN}/p/1` }));
    expect(res.status).toBe(403);
    expect(queue.sent).toHaveLength(0);
  });

  it("are accepted for the sites listed in RUM_NO_ORIGIN_SITES only", async () => {
    const { app, queue } = testApp({ RUM_NO_ORIGIN_SITES: "shop" });
    let res = await app.fetch(beaconRequest(sampleBeacon(), { origin: null }));
    expect(res.status).toBe(204);
    res = await app.fetch(boomerangGet({ u: `${SITE_ORIGIN}/p/1` }));
    expect(res.status).toBe(200);
    res = await app.fetch(
      beaconRequest(sampleBeacon({ site: "blog", url: `${OTHER_SITE_ORIGIN}/a` }), { origin: null }),
    );
    expect(res.status).toBe(403);
    expect(queue.sent.map((m) => m.site)).toEqual(["shop", "shop"]);
  });

  it("still need their page URL on the site's origins", async () => {
    const { app, queue } = testApp({ RUM_NO_ORIGIN_SITES: "*" });
    const res = await app.fetch(
      beaconRequest(sampleBeacon({ url: "https://evil.example/p/1" }), { origin: null }),
    );
    expect(res.status).toBe(403);
    expect(queue.sent).toHaveLength(0);
  });

  it("RUM_NO_ORIGIN_SITES: '*' is every site; an unregistered id is a config error naming the key", () => {
    const base = { RUM_SITES: "a=https://a.example;b=https://b.example" };
    expect([...parseCollectorConfig({ ...base, RUM_NO_ORIGIN_SITES: "*" }).noOriginSites]).toEqual([
      "a",
      "b",
    ]);
    expect([...parseCollectorConfig({ ...base, RUM_NO_ORIGIN_SITES: " b , " }).noOriginSites]).toEqual(["b"]);
    expect(parseCollectorConfig(base).noOriginSites.size).toBe(0);
    expect(() => parseCollectorConfig({ ...base, RUM_NO_ORIGIN_SITES: "a,c" })).toThrow(
      /^Invalid config RUM_NO_ORIGIN_SITES: site "c" is not registered in RUM_SITES \(got "a,c"\)$/,
    );
  });
});
