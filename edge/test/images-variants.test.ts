import { describe, expect, it } from "vitest";
import {
  CHROME_ACCEPT,
  cache,
  DESKTOP_UA,
  IMG_ORIGIN,
  MOBILE_UA,
  makeImages,
  OLD_ACCEPT,
  serviceCount,
  st,
  TestClock,
  uniqueDir,
  WEBP_ACCEPT,
} from "./images/helpers.ts";

/** Option string the edge asked the service for (from the service's last query). */
async function asked(src: string): Promise<URLSearchParams> {
  const { last } = await serviceCount(src);
  return new URLSearchParams(last ?? "");
}

describe("image variants: negotiation", () => {
  it("resolves format=auto from Accept: AVIF (IMAGE_AVIF=always), WebP, JPEG", async () => {
    const t = makeImages({ IMAGE_AVIF: "always" });
    const src = `${uniqueDir("fmt")}/photo.jpg`;
    const path = `/cdn-cgi/image/width=320,format=auto${src}`;
    expect((await t.get(path, { accept: CHROME_ACCEPT })).headers.get("content-type")).toBe("image/avif");
    expect((await t.get(path, { accept: WEBP_ACCEPT })).headers.get("content-type")).toBe("image/webp");
    expect((await t.get(path, { accept: OLD_ACCEPT })).headers.get("content-type")).toBe("image/jpeg");
    expect((await serviceCount(src)).count).toBe(3);
  });

  it("keeps an explicit format whatever Accept says", async () => {
    const t = makeImages();
    const src = `${uniqueDir("explicit")}/photo.jpg`;
    const res = await t.get(`/cdn-cgi/image/width=160,format=png${src}`, { accept: WEBP_ACCEPT });
    expect(res.headers.get("content-type")).toBe("image/png");
    expect(res.headers.get("vary")).toBeNull();
  });

  it("takes the width from Sec-CH-Width, then viewport × DPR, then the device class", async () => {
    const t = makeImages({ IMAGE_AVIF: "off" });
    const dir = uniqueDir("hints");
    await t.get(`/cdn-cgi/image/format=auto${dir}/a/photo.jpg`, {
      accept: WEBP_ACCEPT,
      "sec-ch-width": "700",
    });
    expect((await asked(`${dir}/a/photo.jpg`)).get("width")).toBe("768");
    await t.get(`/cdn-cgi/image/format=auto${dir}/b/photo.jpg`, {
      accept: WEBP_ACCEPT,
      "sec-ch-viewport-width": "390",
      "sec-ch-dpr": "3",
    });
    expect((await asked(`${dir}/b/photo.jpg`)).get("width")).toBe("1280");
    await t.get(`/cdn-cgi/image/format=auto${dir}/c/photo.jpg`, {
      accept: WEBP_ACCEPT,
      "user-agent": MOBILE_UA,
    });
    expect((await asked(`${dir}/c/photo.jpg`)).get("width")).toBe("1280");
    await t.get(`/cdn-cgi/image/format=auto${dir}/d/photo.jpg`, {
      accept: WEBP_ACCEPT,
      "user-agent": DESKTOP_UA,
    });
    expect((await asked(`${dir}/d/photo.jpg`)).get("width")).toBe("1536");
  });

  it("accepts Cloudflare's width=auto (width from hints/device)", async () => {
    const t = makeImages({ IMAGE_AVIF: "off" });
    const dir = uniqueDir("wauto");
    const a = await t.get(`/cdn-cgi/image/width=auto${dir}/a/photo.jpg`, {
      accept: WEBP_ACCEPT,
      "sec-ch-width": "300",
    });
    expect(a.headers.get("content-type")).toBe("image/webp");
    expect((await asked(`${dir}/a/photo.jpg`)).get("width")).toBe("320");
    await t.get(`/cdn-cgi/image/quality=60,w=auto,fit=cover${dir}/b/photo.jpg`, {
      accept: WEBP_ACCEPT,
      "user-agent": MOBILE_UA,
    });
    const b = await asked(`${dir}/b/photo.jpg`);
    expect([b.get("width"), b.get("quality"), b.get("fit")]).toEqual(["1280", "60", "cover"]);
  });

  it("lowers quality for Save-Data and slow ECT, in steps of 5", async () => {
    const t = makeImages({ IMAGE_AVIF: "off" });
    const dir = uniqueDir("quality");
    const q = async (name: string, h: Record<string, string>) => {
      await t.get(`/cdn-cgi/image/width=320,format=auto${dir}/${name}/photo.jpg`, {
        accept: WEBP_ACCEPT,
        ...h,
      });
      return (await asked(`${dir}/${name}/photo.jpg`)).get("quality");
    };
    expect(await q("base", {})).toBe("75");
    expect(await q("save", { "save-data": "on" })).toBe("45");
    expect(await q("2g", { ect: "2g" })).toBe("45");
    expect(await q("3g", { ect: "3g" })).toBe("60");
    expect(await q("4g", { ect: "4g" })).toBe("75");
  });
});

describe("image variants: width snapping and the cache key", () => {
  it("honours an explicit width exactly (no snapping): width=400 gives 400 px", async () => {
    const t = makeImages({ IMAGE_AVIF: "off" });
    const src = `${uniqueDir("exact")}/photo.jpg`;
    const a = await t.get(`/cdn-cgi/image/width=400,format=auto${src}`, { accept: WEBP_ACCEPT });
    expect(a.headers.get("x-image-width")).toBe("400");
    const b = await t.get(`/cdn-cgi/image/width=200,dpr=2,format=auto${src}`, { accept: WEBP_ACCEPT });
    expect(b.headers.get("x-image-width")).toBe("400");
    expect(cache(b)).toBe("HIT");
    const big = await t.get(`/cdn-cgi/image/width=5000,format=auto${src}`, { accept: WEBP_ACCEPT });
    expect(big.headers.get("x-image-width")).toBe("1200"); // never wider than the source
  });

  it("snaps only widths the edge chooses, so nearby hinted widths share one variant", async () => {
    const t = makeImages({ IMAGE_AVIF: "off" });
    const src = `${uniqueDir("snap")}/photo.jpg`;
    const a = await t.get(`/cdn-cgi/image/format=auto${src}`, { accept: WEBP_ACCEPT, "sec-ch-width": "400" });
    expect(a.headers.get("x-image-width")).toBe("480");
    expect(cache(a)).toBe("MISS");
    const b = await t.get(`/cdn-cgi/image/format=auto${src}`, { accept: WEBP_ACCEPT, "sec-ch-width": "470" });
    expect(cache(b)).toBe("HIT");
    expect((await serviceCount(src)).count).toBe(1);
  });

  it("honours IMAGE_WIDTHS for edge-chosen widths", async () => {
    const t = makeImages({ IMAGE_AVIF: "off", IMAGE_WIDTHS: "100,250" });
    const src = `${uniqueDir("widths")}/photo.jpg`;
    const res = await t.get(`/cdn-cgi/image/format=auto${src}`, {
      accept: WEBP_ACCEPT,
      "sec-ch-width": "900",
    });
    expect(res.headers.get("x-image-width")).toBe("250");
  });

  it("puts the variant in the key: two Accepts → two variants, same Accept → HIT, marketing params ignored", async () => {
    const t = makeImages({ IMAGE_AVIF: "off" });
    const src = `${uniqueDir("key")}/photo.jpg`;
    const path = `/cdn-cgi/image/width=400,format=auto${src}`;
    const webp = await t.get(path, { accept: WEBP_ACCEPT });
    expect(webp.status).toBe(200);
    expect(webp.headers.get("content-type")).toBe("image/webp");
    expect(cache(webp)).toBe("MISS");
    const jpeg = await t.get(path, { accept: OLD_ACCEPT });
    expect(jpeg.headers.get("content-type")).toBe("image/jpeg");
    expect(cache(jpeg)).toBe("MISS");
    const again = await t.get(`${path}?utm_source=news&gclid=x`, { accept: WEBP_ACCEPT });
    expect(cache(again)).toBe("HIT");
    expect(again.headers.get("content-type")).toBe("image/webp");
    const jpegAgain = await t.get(path, { accept: OLD_ACCEPT, cookie: "session=abc" });
    expect(cache(jpegAgain)).toBe("HIT");
    expect((await serviceCount(src)).count).toBe(2);
    // Towards browsers and shared downstream caches the URL's body depends on Accept.
    expect(webp.headers.get("vary")).toBe("Accept");
    expect(again.headers.get("vary")).toBe("Accept");
    expect(webp.headers.get("accept-ch")).toContain("Sec-CH-Width");
  });

  it("HEAD and conditional requests are answered from the variant cache", async () => {
    const t = makeImages({ IMAGE_AVIF: "off" });
    const src = `${uniqueDir("cond")}/photo.jpg`;
    const path = `/cdn-cgi/image/width=320,format=auto${src}`;
    const first = await t.get(path, { accept: WEBP_ACCEPT });
    const lm = first.headers.get("last-modified");
    expect(lm).toBe("Tue, 24 Nov 2026 10:00:00 GMT");
    const head = await t.get(path, { accept: WEBP_ACCEPT }, "HEAD");
    expect(head.status).toBe(200);
    expect(cache(head)).toBe("HIT");
    const cond = await t.get(path, { accept: WEBP_ACCEPT, "if-modified-since": lm ?? "" });
    expect(cond.status).toBe(304);
    expect((await serviceCount(src)).count).toBe(1);
  });
});

describe("image variants: purge", () => {
  it("purge by tag img:<source path> (the admin API's purge) drops every variant of that image", async () => {
    const clock = new TestClock();
    const t = makeImages({ IMAGE_AVIF: "off" }, { now: clock.now });
    const src = `${uniqueDir("purge")}/photo.jpg`;
    const a = `/cdn-cgi/image/width=160,format=auto${src}`;
    const b = `/cdn-cgi/image/width=320,format=auto${src}`;
    await t.get(a, { accept: WEBP_ACCEPT });
    await t.get(b, { accept: WEBP_ACCEPT });
    expect(cache(await t.get(a, { accept: WEBP_ACCEPT }))).toBe("HIT");
    expect(await t.page.purgeTags([`img:${src}`])).toBe(2);
    clock.advance(6); // EDGE_PURGE_CHECK_SECONDS (5): the variant hot tier learns of the purge
    await t.get(a, { accept: WEBP_ACCEPT });
    expect(cache(await t.get(b, { accept: WEBP_ACCEPT }))).toBe("MISS");
  });
});

describe("image variants: Server-Timing bytes", () => {
  it("reports original and delivered bytes on MISS and on HIT, with Timing-Allow-Origin", async () => {
    const t = makeImages({ IMAGE_AVIF: "off" });
    const src = `${uniqueDir("bytes")}/photo.jpg`;
    const path = `/cdn-cgi/image/width=320,format=auto${src}`;
    const origBytes = (await (await fetch(`${IMG_ORIGIN}${src}`)).arrayBuffer()).byteLength;
    for (const expected of ["MISS", "HIT"]) {
      const res = await t.get(path, { accept: WEBP_ACCEPT });
      const body = await res.arrayBuffer();
      const timing = st(res);
      expect(cache(res)).toBe(expected);
      expect(Number(timing.get("img-orig")?.description)).toBe(origBytes);
      expect(Number(timing.get("img-out")?.description)).toBe(body.byteLength);
      expect(body.byteLength).toBeLessThan(origBytes);
      expect(timing.get("img-fmt")?.description).toBe("webp");
      expect(res.headers.get("timing-allow-origin")).toBe("*");
      expect(res.headers.get("cache-tag")).toBeNull();
    }
  });
});

describe("image variants: bad requests", () => {
  it("answers bad options with 400 and the uniform message", async () => {
    const t = makeImages();
    const bad = await t.get("/cdn-cgi/image/width=-3/img/x/photo.jpg");
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({
      error: 'Expected integer between 1 and 8192 for width but received "-3"',
    });
    const unknown = await t.get("/cdn-cgi/image/wdith=2/img/x/photo.jpg");
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: string }).error).toContain('Unknown option "wdith"');
    const unsupported = await t.get("/cdn-cgi/image/zoom=2/img/x/photo.jpg");
    expect(unsupported.status).toBe(400);
    expect(((await unsupported.json()) as { error: string }).error).toContain("Unsupported option zoom");
    const fmt = await t.get("/cdn-cgi/image/format=bmp/img/x/photo.jpg");
    expect(fmt.status).toBe(400);
    expect(((await fmt.json()) as { error: string }).error).toContain("for format");
  });

  it("refuses protocol-relative and other-host sources; same-host absolute URLs work", async () => {
    const t = makeImages({ IMAGE_AVIF: "off" });
    const rel = await t.get("/cdn-cgi/image/width=320//evil.test/a.jpg");
    expect(rel.status).toBe(400);
    const other = await t.get("/cdn-cgi/image/width=320/https://evil.test/a.jpg");
    expect(other.status).toBe(403);
    expect(((await other.json()) as { error: string }).error).toContain("evil.test");
    const badUrl = await t.get("/cdn-cgi/image/width=320/https://[zz/a.jpg");
    expect(badUrl.status).toBe(400);
    const nested = await t.get("/cdn-cgi/image/width=320/cdn-cgi/image/width=100/img/a/photo.jpg");
    expect(nested.status).toBe(400);
    const src = `${uniqueDir("abs")}/photo.jpg`;
    const same = await t.get(`/cdn-cgi/image/width=320,format=auto/https://shop.test${src}`, {
      accept: WEBP_ACCEPT,
    });
    expect(same.status).toBe(200);
    expect(same.headers.get("content-type")).toBe("image/webp");
  });

  it("passes the service's client errors through: 415 for a non-image, 404 for a missing source", async () => {
    const t = makeImages();
    const dir = uniqueDir("4xx");
    const broken = await t.get(`/cdn-cgi/image/width=320${dir}/broken.jpg`, { accept: WEBP_ACCEPT });
    expect(broken.status).toBe(415);
    expect(((await broken.json()) as { error: string }).error).toBeTruthy();
    const missing = await t.get(`/cdn-cgi/image/width=320${dir}/nope.jpg`, { accept: WEBP_ACCEPT });
    expect(missing.status).toBe(404);
  });

  it("refuses methods other than GET/HEAD with 405", async () => {
    const t = makeImages();
    const res = await t.get("/cdn-cgi/image/width=320/img/x/photo.jpg", {}, "POST");
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, HEAD");
  });
});
