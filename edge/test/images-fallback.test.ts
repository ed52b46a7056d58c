import { describe, expect, it } from "vitest";
import {
  cache,
  IMG_ORIGIN,
  makeImages,
  serviceCount,
  serviceMode,
  st,
  TestClock,
  uniqueDir,
  WEBP_ACCEPT,
} from "./images/helpers.ts";

async function originalBytes(src: string): Promise<ArrayBuffer> {
  return (await fetch(`${IMG_ORIGIN}${src}`)).arrayBuffer();
}

function sameBytes(a: ArrayBuffer, b: ArrayBuffer): boolean {
  if (a.byteLength !== b.byteLength) return false;
  const x = new Uint8Array(a);
  const y = new Uint8Array(b);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

describe("image fallback: the service fails, the original bytes are served", () => {
  it("503 → original (200, no-store, img-fallback), not cached as the variant; after recovery → variant", async () => {
    const t = makeImages({ IMAGE_AVIF: "off" });
    const src = `${uniqueDir("down")}/photo.jpg`;
    const path = `/cdn-cgi/image/width=320,format=auto${src}`;
    const orig = await originalBytes(src);
    await serviceMode(src, "down");
    for (let i = 0; i < 2; i++) {
      const res = await t.get(path, { accept: WEBP_ACCEPT });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("image/jpeg");
      expect(res.headers.get("cache-control")).toBe("no-store");
      expect(st(res).get("img-fallback")?.description).toBe("unavailable");
      expect(sameBytes(await res.arrayBuffer(), orig)).toBe(true);
    }
    // The image log counts the streamed original (bytes saved = 0 for a fallback).
    const fallbacks = t.logged.filter((m) => m.fallback);
    expect(fallbacks).toHaveLength(2);
    expect(fallbacks[0]).toMatchObject({
      kind: "image",
      format: "original",
      width: 1200,
      originalBytes: orig.byteLength,
      deliveredBytes: orig.byteLength,
    });
    expect((await serviceCount(src)).count).toBe(2);
    await serviceMode(src, "up");
    const recovered = await t.get(path, { accept: WEBP_ACCEPT });
    expect(recovered.headers.get("content-type")).toBe("image/webp");
    expect(st(recovered).has("img-fallback")).toBe(false);
    const hit = await t.get(path, { accept: WEBP_ACCEPT });
    expect(cache(hit)).toBe("HIT");
    expect(hit.headers.get("content-type")).toBe("image/webp");
    expect((await serviceCount(src)).count).toBe(3);
  });

  it("a closed connection and a time-out (IMAGE_TIMEOUT_MS) also fall back", async () => {
    const t = makeImages({ IMAGE_AVIF: "off", IMAGE_TIMEOUT_MS: "200" });
    const dir = uniqueDir("broken");
    await serviceMode(`${dir}/a/photo.jpg`, "close");
    const closed = await t.get(`/cdn-cgi/image/width=320${dir}/a/photo.jpg`, { accept: WEBP_ACCEPT });
    expect(closed.status).toBe(200);
    expect(st(closed).get("img-fallback")?.description).toBe("unreachable");
    await serviceMode(`${dir}/b/photo.jpg`, "slow", 1500);
    const slow = await t.get(`/cdn-cgi/image/width=320${dir}/b/photo.jpg`, { accept: WEBP_ACCEPT });
    expect(slow.status).toBe(200);
    expect(slow.headers.get("content-type")).toBe("image/jpeg");
    expect(st(slow).get("img-fallback")?.description).toBe("timeout");
  });

  it("a signing-key mismatch (403 from the service) is an error, never the original bytes", async () => {
    const t = makeImages({ IMAGE_AVIF: "off", IMAGE_SIGNING_KEY: "not-the-service-key-at-all" });
    const src = `${uniqueDir("badsig")}/photo.jpg`;
    const res = await t.get(`/cdn-cgi/image/width=320${src}`, { accept: WEBP_ACCEPT });
    expect(res.status).toBe(403);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(st(res).has("img-fallback")).toBe(false);
  });

  it("signs option sets the service accepts (sig on every service request)", async () => {
    const t = makeImages({ IMAGE_AVIF: "off" });
    const src = `${uniqueDir("sig")}/photo.jpg`;
    const res = await t.get(`/cdn-cgi/image/width=320,fit=cover,height=200${src}`, { accept: WEBP_ACCEPT });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/webp");
    const q = new URLSearchParams((await serviceCount(src)).last ?? "");
    expect(q.get("sig")).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("without IMAGE_SERVICE_URL the originals are served", async () => {
    const t = makeImages({ IMAGE_SERVICE_URL: "" });
    const src = `${uniqueDir("nosvc")}/photo.jpg`;
    const res = await t.get(`/cdn-cgi/image/width=320${src}`, { accept: WEBP_ACCEPT });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/jpeg");
    expect(st(res).get("img-fallback")?.description).toBe("disabled");
    expect((await serviceCount(src)).count).toBe(0);
  });

  it("an expired variant is served stale (stale-if-error) rather than the original", async () => {
    const clock = new TestClock();
    const t = makeImages({ IMAGE_AVIF: "off" }, { now: clock.now });
    const src = `${uniqueDir("stale")}/photo.jpg`;
    const path = `/cdn-cgi/image/width=320,format=auto${src}`;
    expect((await t.get(path, { accept: WEBP_ACCEPT })).headers.get("content-type")).toBe("image/webp");
    clock.advance(3700); // max-age=3600 passed; EDGE_STALE_IF_ERROR default 300 s still covers it
    await serviceMode(src, "down");
    const res = await t.get(path, { accept: WEBP_ACCEPT });
    expect(cache(res)).toBe("STALE");
    expect(res.headers.get("content-type")).toBe("image/webp");
    expect(st(res).has("img-fallback")).toBe(false);
  });

  it("an SVG source comes back sanitised by the service, with CSP and nosniff", async () => {
    const t = makeImages();
    const res = await t.get(`/cdn-cgi/image/width=320${uniqueDir("svg")}/logo.svg`, { accept: WEBP_ACCEPT });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/svg+xml");
    expect(res.headers.get("content-security-policy")).toBe("default-src 'none'; style-src 'unsafe-inline'");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(st(res).has("img-fallback")).toBe(false);
    expect(await res.text()).toContain("<rect");
  });

  it("a missing original stays a 404 in the fallback", async () => {
    const t = makeImages({ IMAGE_SERVICE_URL: "" });
    const res = await t.get(`/cdn-cgi/image/width=320${uniqueDir("gone")}/nope.jpg`);
    expect(res.status).toBe(404);
    expect(res.headers.get("cache-control")).toBe("no-store");
  });

  it("pauses the service after 3 connection failures: misses fall back at once, cached variants still HIT", async () => {
    const clock = new TestClock();
    const t = makeImages({ IMAGE_AVIF: "off", IMAGE_SERVICE_PAUSE_MS: "5000" }, { now: clock.now });
    const dir = uniqueDir("pause");
    const good = `/cdn-cgi/image/width=160,format=auto${dir}/ok/photo.jpg`;
    expect(cache(await t.get(good, { accept: WEBP_ACCEPT }))).toBe("MISS");
    await serviceMode(`${dir}/bad/photo.jpg`, "close");
    for (const w of [160, 320, 480]) {
      const res = await t.get(`/cdn-cgi/image/width=${w}${dir}/bad/photo.jpg`, { accept: WEBP_ACCEPT });
      expect(st(res).get("img-fallback")?.description).toBe("unreachable");
    }
    const other = `/cdn-cgi/image/width=160,format=auto${dir}/other/photo.jpg`;
    const paused = await t.get(other, { accept: WEBP_ACCEPT });
    expect(paused.status).toBe(200);
    expect(st(paused).get("img-fallback")?.description).toBe("paused");
    expect((await serviceCount(`${dir}/other/photo.jpg`)).count).toBe(0);
    const hit = await t.get(good, { accept: WEBP_ACCEPT });
    expect(cache(hit)).toBe("HIT");
    expect(hit.headers.get("content-type")).toBe("image/webp");
    clock.advance(11); // past the pause and the variant Edge's hit-for-pass window
    const back = await t.get(other, { accept: WEBP_ACCEPT });
    expect(back.headers.get("content-type")).toBe("image/webp");
    expect((await serviceCount(`${dir}/other/photo.jpg`)).count).toBe(1);
  });
});
