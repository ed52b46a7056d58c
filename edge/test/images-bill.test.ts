import { describe, expect, it } from "vitest";
import {
  cache,
  makeImages,
  originCount,
  serviceCount,
  TestClock,
  uniqueDir,
  WEBP_ACCEPT,
} from "./images/helpers.ts";

/** The `url` the service was asked for (source path + any query kept). */
async function askedUrl(source: string): Promise<string | null> {
  return new URLSearchParams((await serviceCount(source)).last ?? "").get("url");
}

describe("a bounded bill: stepped values", () => {
  it("nearby quality, blur and background spellings share one variant", async () => {
    const t = makeImages({ IMAGE_AVIF: "off" });
    const src = `${uniqueDir("steps")}/photo.jpg`;
    const a = await t.get(`/cdn-cgi/image/width=100,quality=73,blur=2.04,background=%23FFF${src}`, {
      accept: WEBP_ACCEPT,
    });
    expect(a.status).toBe(200);
    for (const opts of [
      "width=100,quality=75,blur=2,background=white",
      "w=100,q=77,blur=1.96,background=ffffff",
    ]) {
      const b = await t.get(`/cdn-cgi/image/${opts}${src}`, { accept: WEBP_ACCEPT });
      expect(cache(b)).toBe("HIT");
    }
    expect((await serviceCount(src)).count).toBe(1);
    const q = new URLSearchParams((await serviceCount(src)).last ?? "");
    expect([q.get("quality"), q.get("blur"), q.get("background")]).toEqual(["75", "2", "ffffff"]);
  });
});

describe("a bounded bill: the source query string", () => {
  it("is dropped unless IMAGE_SOURCE_QUERY keeps it, so ?v=1..N is one variant", async () => {
    const t = makeImages({ IMAGE_AVIF: "off" });
    const src = `${uniqueDir("query")}/photo.jpg`;
    for (let v = 1; v <= 3; v++) {
      const res = await t.get(`/cdn-cgi/image/width=100${src}?v=${v}`, { accept: WEBP_ACCEPT });
      expect(res.status).toBe(200);
    }
    expect((await serviceCount(src)).count).toBe(1);
    expect(await askedUrl(src)).toBe(src);
  });

  it("is kept for paths a rule names", async () => {
    const dir = uniqueDir("query-rule");
    const t = makeImages({ IMAGE_AVIF: "off", IMAGE_SOURCE_QUERY: `${dir}/*` });
    const src = `${dir}/photo.jpg`;
    await t.get(`/cdn-cgi/image/width=100${src}?v=7`, { accept: WEBP_ACCEPT });
    expect(await askedUrl(`${src}?v=7`)).toBe(`${src}?v=7`);
  });
});

describe("a bounded bill: per-source variant budget and per-client miss limit", () => {
  it("refuses new variants of one source past IMAGE_VARIANT_BUDGET with 429 + Retry-After; cached ones still HIT", async () => {
    const clock = new TestClock();
    const t = makeImages({ IMAGE_AVIF: "off", IMAGE_VARIANT_BUDGET: "2" }, { now: clock.now });
    const src = `${uniqueDir("budget")}/photo.jpg`;
    const get = (w: number) =>
      t.get(`/cdn-cgi/image/width=${w}${src}`, {
        accept: WEBP_ACCEPT,
        "cf-connecting-ip": `198.51.100.${w % 200}`,
      });
    expect((await get(101)).status).toBe(200);
    expect((await get(102)).status).toBe(200);
    const third = await get(103);
    expect(third.status).toBe(429);
    expect(Number(third.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(((await third.json()) as { error: string }).error).toContain("budget");
    expect(cache(await get(101))).toBe("HIT");
    expect((await serviceCount(src)).count).toBe(2);
    const other = `${uniqueDir("budget-other")}/photo.jpg`;
    expect((await t.get(`/cdn-cgi/image/width=103${other}`, { accept: WEBP_ACCEPT })).status).toBe(200);
    clock.advance(3601); // IMAGE_BUDGET_WINDOW_S default
    expect((await get(104)).status).toBe(200);
  });

  it("limits misses per client (IPv6 keyed on its /64) with 429 + Retry-After; other clients and HITs go on", async () => {
    const t = makeImages({ IMAGE_AVIF: "off", IMAGE_CLIENT_MISSES: "2" });
    const dir = uniqueDir("client");
    const as = (ip: string, n: number) =>
      t.get(`/cdn-cgi/image/width=100${dir}/${n}/photo.jpg`, { accept: WEBP_ACCEPT, "cf-connecting-ip": ip });
    expect((await as("2001:db8:1:2::1", 1)).status).toBe(200);
    expect((await as("2001:db8:1:2::99", 2)).status).toBe(200);
    const third = await as("2001:db8:1:2:aaaa::5", 3);
    expect(third.status).toBe(429);
    expect(Number(third.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(third.headers.get("x-content-type-options")).toBe("nosniff");
    expect((await serviceCount(`${dir}/3/photo.jpg`)).count).toBe(0);
    expect(cache(await as("2001:db8:1:2::1", 1))).toBe("HIT");
    expect((await as("203.0.113.9", 3)).status).toBe(200);
  });
});

describe("a bounded bill: HEAD and the output-pixel budget", () => {
  it("HEAD on a miss neither downloads the source nor asks the service", async () => {
    const t = makeImages({ IMAGE_AVIF: "off" });
    const src = `${uniqueDir("head")}/photo.jpg`;
    const res = await t.get(`/cdn-cgi/image/width=100,format=webp${src}`, {}, "HEAD");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/webp");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect((await serviceCount(src)).count).toBe(0);
    expect(await originCount(src)).toBe(0);
    // The GET that follows still produces and stores the variant.
    expect((await t.get(`/cdn-cgi/image/width=100,format=webp${src}`)).status).toBe(200);
    expect((await serviceCount(src)).count).toBe(1);
  });

  it("refuses an 8192×8192 enlargement at the edge (400) without asking the service", async () => {
    const t = makeImages({ IMAGE_AVIF: "off" });
    const src = `${uniqueDir("pixels")}/photo.jpg`;
    const res = await t.get(`/cdn-cgi/image/width=8192,height=8192,fit=pad${src}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toContain("output pixel budget");
    const dpr = await t.get(`/cdn-cgi/image/width=3000,height=3000,dpr=2,fit=cover${src}`);
    expect(dpr.status).toBe(400);
    expect((await serviceCount(src)).count).toBe(0);
  });
});
