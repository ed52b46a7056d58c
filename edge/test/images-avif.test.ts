import { describe, expect, it } from "vitest";
import { CHROME_ACCEPT, cache, makeImages, serviceCount, uniqueDir, WEBP_ACCEPT } from "./images/helpers.ts";

/** `url` + `format` of the service requests are counted per source; `last` is the latest query. */
async function lastFormat(src: string): Promise<string | null> {
  return new URLSearchParams((await serviceCount(src)).last ?? "").get("format");
}

describe("AVIF cost guard (IMAGE_AVIF=guard, the default)", () => {
  it("large source: WebP first, AVIF warmed in the background, then AVIF from the cache", async () => {
    const t = makeImages({ IMAGE_AVIF_MIN_BYTES: "50000" });
    const src = `${uniqueDir("avif-big")}/photo.jpg`;
    const path = `/cdn-cgi/image/width=320,format=auto${src}`;
    const first = await t.get(path, { accept: CHROME_ACCEPT });
    expect(first.headers.get("content-type")).toBe("image/webp");
    expect(Number(first.headers.get("x-original-bytes"))).toBeGreaterThan(50_000);
    // The warm-up ran in waitUntil: the service produced the AVIF variant once.
    expect((await serviceCount(src)).count).toBe(2);
    expect(await lastFormat(src)).toBe("avif");
    const second = await t.get(path, { accept: CHROME_ACCEPT });
    expect(second.headers.get("content-type")).toBe("image/avif");
    expect(cache(second)).toBe("HIT");
    const third = await t.get(path, { accept: CHROME_ACCEPT });
    expect(third.headers.get("content-type")).toBe("image/avif");
    expect((await serviceCount(src)).count).toBe(2);
    // Browsers without AVIF keep getting WebP.
    expect((await t.get(path, { accept: WEBP_ACCEPT })).headers.get("content-type")).toBe("image/webp");
  });

  it("small source (below IMAGE_AVIF_MIN_BYTES): WebP only, no AVIF is produced", async () => {
    const t = makeImages({ IMAGE_AVIF_MIN_BYTES: "50000" });
    const src = `${uniqueDir("avif-small")}/small.jpg`;
    const path = `/cdn-cgi/image/width=160,format=auto${src}`;
    const first = await t.get(path, { accept: CHROME_ACCEPT });
    expect(first.headers.get("content-type")).toBe("image/webp");
    expect(Number(first.headers.get("x-original-bytes"))).toBeLessThan(50_000);
    const second = await t.get(path, { accept: CHROME_ACCEPT });
    expect(second.headers.get("content-type")).toBe("image/webp");
    expect(cache(second)).toBe("HIT");
    expect((await serviceCount(src)).count).toBe(1);
  });

  it("a threshold above the source size keeps it WebP (no warm-up)", async () => {
    const t = makeImages({ IMAGE_AVIF_MIN_BYTES: "100000000" });
    const src = `${uniqueDir("avif-threshold")}/photo.jpg`;
    const path = `/cdn-cgi/image/width=320,format=auto${src}`;
    await t.get(path, { accept: CHROME_ACCEPT });
    expect((await t.get(path, { accept: CHROME_ACCEPT })).headers.get("content-type")).toBe("image/webp");
    expect((await serviceCount(src)).count).toBe(1);
  });

  it("IMAGE_AVIF=off never serves AVIF; an explicit format=avif is always honoured", async () => {
    const t = makeImages({ IMAGE_AVIF: "off", IMAGE_AVIF_MIN_BYTES: "0" });
    const src = `${uniqueDir("avif-off")}/photo.jpg`;
    const path = `/cdn-cgi/image/width=320,format=auto${src}`;
    await t.get(path, { accept: CHROME_ACCEPT });
    expect((await t.get(path, { accept: CHROME_ACCEPT })).headers.get("content-type")).toBe("image/webp");
    expect((await serviceCount(src)).count).toBe(1);
    const explicit = await t.get(`/cdn-cgi/image/width=320,format=avif${src}`, { accept: WEBP_ACCEPT });
    expect(explicit.headers.get("content-type")).toBe("image/avif");
  });
});
