import { describe, expect, it } from "vitest";
import {
  BEACON_ARMS_PLACEHOLDER,
  BEACON_SITE_PLACEHOLDER,
  BEACON_TEMPLATE,
} from "../src/beacon-asset.generated.ts";
import { BEACON_MAX_AGE_S, beaconAssetResponse, beaconScript } from "../src/beacon-asset.ts";

const base = "http://shop.test";
const get = (path: string, headers: Record<string, string> = {}, method = "GET") =>
  beaconAssetResponse(new Request(base + path, { method, headers }));

describe("beaconAssetResponse", () => {
  it("serves /_rum/beacon.js as short-cached JavaScript with an ETag and no cookie", async () => {
    const res = get("/_rum/beacon.js");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("application/javascript; charset=utf-8");
    expect(res.headers.get("Cache-Control")).toBe(`public, max-age=${BEACON_MAX_AGE_S}`);
    expect(res.headers.get("ETag")).toBe(`"${beaconScript().version}"`);
    expect(res.headers.get("Set-Cookie")).toBeNull();
    const body = await res.text();
    expect(body).toBe(beaconScript().body);
    expect(body.length).toBeGreaterThan(1000);
    // The default site id is filled in; the placeholder never reaches a browser.
    expect(body).toContain('"demo"');
    expect(body).not.toContain(BEACON_SITE_PLACEHOLDER);
  });

  it("answers 304 to a matching If-None-Match (strong, weak, in a list, *) and 200 otherwise", async () => {
    const etag = `"${beaconScript().version}"`;
    for (const inm of [etag, `W/${etag}`, `"other", ${etag}`, "*"]) {
      const res = get("/_rum/beacon.js", { "If-None-Match": inm });
      expect(res.status, inm).toBe(304);
      expect(await res.text()).toBe("");
      expect(res.headers.get("ETag")).toBe(etag);
    }
    expect(get("/_rum/beacon.js", { "If-None-Match": '"stale"' }).status).toBe(200);
  });

  it("serves the versioned path immutable for a year with the same bytes", async () => {
    const { versionedPath, body } = beaconScript();
    expect(versionedPath).toMatch(/^\/_rum\/beacon\.[0-9a-z]+\.js$/);
    const res = get(versionedPath);
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("public, max-age=31536000, immutable");
    expect(await res.text()).toBe(body);
  });

  it("redirects an outdated version to the unversioned script", () => {
    const res = get("/_rum/beacon.0123456789ab.js");
    expect(res.status).toBe(302);
    expect(res.headers.get("Location")).toBe("/_rum/beacon.js");
  });

  it("embeds a configured default site, with its own version", async () => {
    const shop = beaconScript("shop-eu");
    expect(shop.version).not.toBe(beaconScript().version);
    const res = beaconAssetResponse(new Request(`${base}/_rum/beacon.js`), { defaultSite: "shop-eu" });
    const body = await res.text();
    expect(body).toContain('"shop-eu"');
    expect(body).not.toContain('"demo"');
    // Only the two placeholders change: the site id, and the arm shares (none: "").
    expect(body.length).toBe(
      BEACON_TEMPLATE.length -
        BEACON_SITE_PLACEHOLDER.length +
        "shop-eu".length -
        BEACON_ARMS_PLACEHOLDER.length,
    );
    expect(() => beaconScript('x"</script>')).toThrow(/Invalid beacon default site.*x\\"<\/script>/);
  });

  it("answers HEAD without a body, other methods with 405 and unknown paths with 404 (JSON)", async () => {
    const head = get("/_rum/beacon.js", {}, "HEAD");
    expect(head.status).toBe(200);
    expect(head.headers.get("ETag")).toBeTruthy();
    expect(await head.text()).toBe("");

    const post = get("/_rum/beacon.js", {}, "POST");
    expect(post.status).toBe(405);
    expect(post.headers.get("Allow")).toBe("GET, HEAD");
    expect(await post.json()).toEqual({ error: "method POST not allowed (use GET or HEAD)" });

    const missing = get("/_rum/beacons.js");
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: string }).error).toMatch(/no beacon script/);
  });

  it("embeds the default prefetch arm shares (RUM_PREFETCH_ARMS) under a version of their own", async () => {
    const plain = beaconScript("demo");
    const armed = beaconScript("demo", "holdout:0.1,ours:0.8,press:0.1");
    expect(plain.body).not.toContain(BEACON_ARMS_PLACEHOLDER);
    expect(plain.body).not.toContain("holdout:0.1");
    expect(armed.body).toContain('"holdout:0.1,ours:0.8,press:0.1"');
    expect(armed.version).not.toBe(plain.version);
    const res = beaconAssetResponse(new Request(`${base}/_rum/beacon.js`), {
      prefetchArms: "holdout:0.1,ours:0.8,press:0.1",
    });
    expect(await res.text()).toBe(armed.body);
  });
});
