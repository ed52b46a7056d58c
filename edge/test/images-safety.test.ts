import { describe, expect, it } from "vitest";
import {
  IMG_ORIGIN,
  makeImages,
  serviceCount,
  serviceMode,
  st,
  uniqueDir,
  WEBP_ACCEPT,
} from "./images/helpers.ts";

const HOSTILE = [
  ["huge.png", 413, "too many pixels"],
  ["max.png", 413, "too many pixels"],
  ["max.jpg", 413, "too many pixels"],
  ["frames.gif", 413, "frames"],
  ["xss.svg", 415, "not a raster image"],
  ["bomb.svgz", 415, "not a raster image"],
  ["page.jpg", 415, "not a raster image"],
  ["corrupt.jpg", 422, "corrupt"],
] as const;

async function expectRefused(res: Response, status: number, reason: string): Promise<void> {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toContain("application/json");
  expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  expect(res.headers.get("cache-control")).toBe("no-store");
  expect(res.headers.get("location")).toBeNull();
  expect(((await res.json()) as { error: string }).error).toContain(reason);
}

describe("service unavailable: the original only when it is a raster within the limits", () => {
  it.each(HOSTILE)("%s → %i, never the original bytes", async (name, status, reason) => {
    const t = makeImages({ IMAGE_AVIF: "off" });
    const src = `${uniqueDir("down-hostile")}/${name}`;
    await serviceMode(src, "down");
    const res = await t.get(`/cdn-cgi/image/width=320${src}`, { accept: WEBP_ACCEPT });
    await expectRefused(res, status, reason);
    expect(st(res).get("img-fallback")?.description).toBe("unavailable");
    expect((await serviceCount(src)).count).toBe(1);
  });

  it("refuses an original over IMAGE_FALLBACK_MAX_BYTES (413)", async () => {
    const t = makeImages({ IMAGE_AVIF: "off", IMAGE_FALLBACK_MAX_BYTES: "1000" });
    const src = `${uniqueDir("down-bytes")}/photo.jpg`;
    await serviceMode(src, "down");
    await expectRefused(await t.get(`/cdn-cgi/image/width=320${src}`), 413, "byte limit");
  });

  it("sends the content type read from the bytes, not the origin's claim", async () => {
    const t = makeImages({ IMAGE_AVIF: "off" });
    const src = `${uniqueDir("down-label")}/mislabelled.jpg`;
    await serviceMode(src, "down");
    const res = await t.get(`/cdn-cgi/image/width=320${src}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/jpeg");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("cache-control")).toBe("no-store");
  });

  it.each(["redir-meta.jpg", "redir-file.jpg", "redir-gopher.jpg"])(
    "a source redirect (%s) is refused (502), its Location never reaches the client",
    async (name) => {
      const t = makeImages({ IMAGE_AVIF: "off" });
      const src = `${uniqueDir("down-redir")}/${name}`;
      await serviceMode(src, "down");
      await expectRefused(await t.get(`/cdn-cgi/image/width=320${src}`), 502, "redirect");
      // Without any service too.
      const none = makeImages({ IMAGE_SERVICE_URL: "" });
      await expectRefused(await none.get(`/cdn-cgi/image/width=320${src}`), 502, "redirect");
    },
  );
});

describe("service up: its refusals are answers, never the original", () => {
  it.each([
    ["huge.png", 413],
    ["max.png", 413],
    ["frames.gif", 413],
    ["xss.svg", 422],
    ["bomb.svgz", 415],
    ["page.jpg", 415],
  ] as const)("%s → %i with the service's reason", async (name, status) => {
    const t = makeImages({ IMAGE_AVIF: "off" });
    const res = await t.get(`/cdn-cgi/image/width=320${uniqueDir("up-hostile")}/${name}`, {
      accept: WEBP_ACCEPT,
    });
    expect(res.status).toBe(status);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(st(res).has("img-fallback")).toBe(false);
  });

  it("a header-only 65500×65500 JPEG is a 4xx, not a 200", async () => {
    const t = makeImages({ IMAGE_AVIF: "off" });
    const res = await t.get(`/cdn-cgi/image/width=320${uniqueDir("up-jpeg")}/max.jpg`);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
  });

  it.each(["redir-meta.jpg", "redir-file.jpg", "redir-gopher.jpg"])(
    "the service follows %s itself with the SSRF check and refuses it; no Location is passed on",
    async (name) => {
      const t = makeImages({ IMAGE_AVIF: "off" });
      const res = await t.get(`/cdn-cgi/image/width=320${uniqueDir("up-redir")}/${name}`);
      expect(res.status).toBe(403);
      expect(res.headers.get("location")).toBeNull();
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    },
  );
});

describe("onerror=redirect", () => {
  it("redirects to the source on this site when the service refuses it or is down", async () => {
    const t = makeImages({ IMAGE_AVIF: "off" });
    const dir = uniqueDir("onerror");
    const refused = await t.get(`/cdn-cgi/image/width=320,onerror=redirect${dir}/huge.png`);
    expect(refused.status).toBe(302);
    expect(refused.headers.get("location")).toBe(`https://shop.test${dir}/huge.png`);
    expect(refused.headers.get("cache-control")).toBe("no-store");
    await serviceMode(`${dir}/photo.jpg`, "down");
    const down = await t.get(`/cdn-cgi/image/width=320,onerror=redirect${dir}/photo.jpg`);
    expect(down.status).toBe(302);
    expect(down.headers.get("location")).toBe(`https://shop.test${dir}/photo.jpg`);
  });

  it("is never a redirect off the site, and is not in the variant the service sees", async () => {
    const t = makeImages({ IMAGE_AVIF: "off" });
    const other = await t.get("/cdn-cgi/image/width=320,onerror=redirect/https://evil.test/a.jpg");
    expect(other.status).toBe(403);
    expect(other.headers.get("location")).toBeNull();
    const src = `${uniqueDir("onerror-ok")}/photo.jpg`;
    const ok = await t.get(`/cdn-cgi/image/width=320,onerror=redirect${src}`, { accept: WEBP_ACCEPT });
    expect(ok.status).toBe(200);
    const asked = new URLSearchParams((await serviceCount(src)).last ?? "");
    expect(asked.has("onerror")).toBe(false);
  });
});

describe("every image response is nosniff with the produced type", () => {
  it("variants, errors and 405s", async () => {
    const t = makeImages({ IMAGE_AVIF: "off" });
    const src = `${uniqueDir("nosniff")}/photo.jpg`;
    for (const res of [
      await t.get(`/cdn-cgi/image/width=100,format=webp${src}`),
      await t.get(`/cdn-cgi/image/width=100,format=webp${src}`),
      await t.get("/cdn-cgi/image/width=-1/img/a.jpg"),
      await t.get("/cdn-cgi/image/width=10/img/a.jpg", {}, "POST"),
    ]) {
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    }
    const v = await t.get(`/cdn-cgi/image/width=100,format=webp${src}`);
    expect(v.headers.get("content-type")).toBe("image/webp");
    expect(IMG_ORIGIN).toMatch(/^http:/);
  });
});
