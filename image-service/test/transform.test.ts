import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createImageApp } from "../src/app.ts";
import { planResize } from "../src/transform.ts";
import { animatedGif, bytes, perceptualDiff, photoJpeg, startOrigin, testConfig } from "./helpers.ts";

let origin: Awaited<ReturnType<typeof startOrigin>>;
let app: ReturnType<typeof createImageApp>;
let photo: Buffer;
let other: Buffer;
let halves: Buffer;
let alphaPng: Buffer;
let exifJpeg: Buffer;
let gif: Buffer;

beforeAll(async () => {
  photo = await photoJpeg(800, 600, 90, 1);
  other = await photoJpeg(800, 600, 90, 99);
  // Left half red, right half blue: tells crop gravity apart.
  halves = await sharp({ create: { width: 400, height: 200, channels: 3, background: "#ff0000" } })
    .composite([
      {
        input: { create: { width: 200, height: 200, channels: 3, background: "#0000ff" } },
        left: 200,
        top: 0,
      },
    ])
    .png()
    .toBuffer();
  alphaPng = await sharp({
    create: { width: 100, height: 100, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
  })
    .png()
    .toBuffer();
  exifJpeg = await sharp(photo)
    .withExif({ IFD0: { Copyright: "Shop Inc", Artist: "Jane Photographer" } })
    .jpeg()
    .toBuffer();
  gif = await animatedGif(5);
  origin = await startOrigin({
    "/photo.jpg": bytes(photo, "image/jpeg", { "cache-control": "public, max-age=600" }),
    "/halves.png": bytes(halves, "image/png"),
    "/alpha.png": bytes(alphaPng, "image/png"),
    "/exif.jpg": bytes(exifJpeg),
    "/anim.gif": bytes(gif, "image/gif"),
    "/mislabelled.gif": bytes(photo, "image/gif"),
  });
  app = createImageApp(testConfig([origin.url]).config);
});
afterAll(() => origin.close());

async function get(query: string, accept?: string) {
  const res = await app.request(`/transform?${query}`, accept ? { headers: { accept } } : {});
  const body = Buffer.from(await res.arrayBuffer());
  return { res, body };
}

describe("transforms (decoded and compared perceptually)", () => {
  it.each([
    ["webp", "image/webp"],
    ["jpeg", "image/jpeg"],
    ["avif", "image/avif"],
    ["png", "image/png"],
  ] as const)("resizes to 400 w %s and stays similar to the source", async (format, type) => {
    const { res, body } = await get(`url=/photo.jpg&w=400&f=${format}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe(type);
    expect(Number(res.headers.get("content-length"))).toBe(body.length);
    const meta = await sharp(body).metadata();
    expect(meta.format).toBe(format === "avif" ? "heif" : format);
    expect([meta.width, meta.height]).toEqual([400, 300]);
    expect(await perceptualDiff(body, photo)).toBeLessThan(0.03);
    // Negative control: the metric does tell different pictures apart.
    expect(await perceptualDiff(body, other)).toBeGreaterThan(0.06);
  });

  it("reports original and delivered bytes and time; forwards the source's Cache-Control", async () => {
    const { res, body } = await get("url=/photo.jpg&w=200&q=60&f=webp");
    expect(res.headers.get("x-original-bytes")).toBe(String(photo.length));
    const st = res.headers.get("server-timing") ?? "";
    expect(st).toMatch(/^img;dur=\d+(\.\d)?, img-fetch;dur=[\d.]+, img-queue;dur=[\d.]+, /);
    expect(st).toContain(`img-orig;desc=${photo.length}`);
    expect(st).toContain(`img-out;desc=${body.length}`);
    expect(body.length).toBeLessThan(photo.length / 5);
    expect(res.headers.get("cache-control")).toBe("public, max-age=600");
    expect(res.headers.get("vary")).toBeNull();
  });

  it("uses the default Cache-Control when the source sends none", async () => {
    const { res } = await get("url=/halves.png&w=10");
    expect(res.headers.get("cache-control")).toBe("public, max-age=86400");
  });

  it.each([
    ["w=400&h=400&fit=scale-down", [400, 300]],
    ["w=1600&fit=scale-down", [800, 600]],
    ["w=1600&fit=contain", [1600, 1200]],
    ["w=400&h=400&fit=contain", [400, 300]],
    ["w=400&h=400&fit=cover", [400, 400]],
    ["w=400&h=400&fit=crop", [400, 400]],
    // Wider than the source: the height is filled, the width stays as wide as the source (no enlargement).
    ["w=1000&h=400&fit=crop", [800, 400]],
    ["w=400&h=400&fit=pad", [400, 400]],
    ["h=150", [200, 150]],
    ["w=200&dpr=2", [400, 300]],
    ["w=100&h=100&fit=cover&dpr=1.5", [150, 150]],
    ["q=50", [800, 600]],
  ])("%s → %j", async (q, [w, h]) => {
    const { res, body } = await get(`url=/photo.jpg&${q}`);
    expect(res.status).toBe(200);
    const meta = await sharp(body).metadata();
    expect([meta.width, meta.height]).toEqual([w, h]);
    expect(res.headers.get("x-image-width")).toBe(String(w));
  });

  it("keeps the source format when none is asked for", async () => {
    expect((await get("url=/halves.png&w=40")).res.headers.get("content-type")).toBe("image/png");
    expect((await get("url=/photo.jpg&w=40")).res.headers.get("content-type")).toBe("image/jpeg");
  });

  it("detects the format from bytes, not the source Content-Type", async () => {
    const { res } = await get("url=/mislabelled.gif&w=40");
    expect(res.headers.get("content-type")).toBe("image/jpeg");
  });

  it.each([
    ["left", [255, 0, 0]],
    ["right", [0, 0, 255]],
  ] as const)("crops with gravity=%s", async (gravity, rgb) => {
    const { body } = await get(`url=/halves.png&w=100&h=100&fit=cover&gravity=${gravity}`);
    const { data, info } = await sharp(body).raw().toBuffer({ resolveWithObject: true });
    const at = (50 * 100 + 50) * info.channels;
    expect([...data.subarray(at, at + 3)]).toEqual(rgb);
  });

  it.each(["attention", "entropy", "auto", "top-left", "bottom-right"])("accepts gravity=%s", async (g) => {
    const { res, body } = await get(`url=/photo.jpg&w=100&h=100&fit=cover&gravity=${g}`);
    expect(res.status).toBe(200);
    expect((await sharp(body).metadata()).width).toBe(100);
  });

  it("pads with the background colour", async () => {
    const { body } = await get("url=/halves.png&w=100&h=100&fit=pad&background=%2300ff00&f=png");
    const { data, info } = await sharp(body).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([100, 100]);
    expect([...data.subarray(0, 3)]).toEqual([0, 255, 0]); // top-left corner is padding
    expect([...data.subarray((50 * 100 + 10) * info.channels, (50 * 100 + 10) * info.channels + 3)]).toEqual([
      255, 0, 0,
    ]);
  });

  it("flattens alpha onto the background for JPEG", async () => {
    const { body } = await get("url=/alpha.png&f=jpeg&background=000080");
    const { data } = await sharp(body).raw().toBuffer({ resolveWithObject: true });
    expect(Math.abs((data[2] ?? 0) - 128)).toBeLessThan(4);
  });

  it("blur smooths and sharpen adds detail (both measured as pixel variance of a Laplacian)", async () => {
    const edges = async (q: string) => {
      const { body } = await get(`url=/photo.jpg&w=200&f=png&${q}`);
      const laplacian = await sharp(body)
        .greyscale()
        .convolve({ width: 3, height: 3, kernel: [0, -1, 0, -1, 4, -1, 0, -1, 0], offset: 128 })
        .png()
        .toBuffer();
      // stats() reads its input, so measure the convolved image, not the pipeline.
      const stats = await sharp(laplacian).stats();
      return stats.channels[0]?.stdev ?? 0;
    };
    const plain = await edges("q=100");
    expect(await edges("blur=10")).toBeLessThan(plain * 0.5);
    expect(await edges("sharpen=5")).toBeGreaterThan(plain * 1.1);
  });

  it("keeps only the copyright by default for JPEG (Cloudflare's default), none strips, keep keeps", async () => {
    const copyright = (await sharp((await get("url=/exif.jpg&w=100")).body).metadata()).exif?.toString(
      "latin1",
    );
    expect(copyright).toContain("Shop Inc");
    expect(copyright).not.toContain("Jane Photographer");
    const stripped = await sharp((await get("url=/exif.jpg&w=100&metadata=none")).body).metadata();
    expect(stripped.exif).toBeUndefined();
    const webp = await sharp((await get("url=/exif.jpg&w=100&f=webp")).body).metadata();
    expect(webp.exif).toBeUndefined();
    const kept = await sharp((await get("url=/exif.jpg&w=100&metadata=keep")).body).metadata();
    expect(kept.exif?.toString("latin1")).toContain("Jane Photographer");
  });

  it("negotiates format=auto from Accept and says Vary: Accept", async () => {
    const avif = await get("url=/photo.jpg&w=100&f=auto", "image/avif,image/webp,*/*");
    expect(avif.res.headers.get("content-type")).toBe("image/avif");
    expect(avif.res.headers.get("vary")).toBe("Accept");
    expect((await get("url=/photo.jpg&w=100&f=auto", "image/webp,*/*")).res.headers.get("content-type")).toBe(
      "image/webp",
    );
    expect((await get("url=/photo.jpg&w=100&f=auto")).res.headers.get("content-type")).toBe("image/jpeg");
    expect((await get("url=/alpha.png&f=auto", "*/*")).res.headers.get("content-type")).toBe("image/png");
  });

  it("keeps animation for WebP/GIF output and takes the first frame otherwise", async () => {
    const webp = await get("url=/anim.gif&w=16&f=webp");
    const wm = await sharp(webp.body, { animated: true }).metadata();
    expect(wm.format).toBe("webp");
    expect(wm.pages).toBe(5);
    expect([wm.width, wm.pageHeight]).toEqual([16, 16]);
    const g = await sharp((await get("url=/anim.gif&w=16")).body, { animated: true }).metadata();
    expect([g.format, g.pages]).toEqual(["gif", 5]);
    const still = await sharp((await get("url=/anim.gif&w=16&anim=false&f=webp")).body, {
      animated: true,
    }).metadata();
    expect(still.pages ?? 1).toBe(1);
    const png = await get("url=/anim.gif&f=png");
    const pm = await sharp(png.body, { animated: true }).metadata();
    expect([pm.format, pm.width, pm.height, pm.pages ?? 1]).toEqual(["png", 32, 32, 1]);
  });

  it("serves Cloudflare's path form too", async () => {
    const res = await app.request("/cdn-cgi/image/width=100,format=webp/photo.jpg");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/webp");
    expect((await sharp(Buffer.from(await res.arrayBuffer())).metadata()).width).toBe(100);
    expect((await app.request("/cdn-cgi/image/width=100/photo.jpg?w=3")).status).toBe(400);
  });
});

describe("planResize", () => {
  it("never enlarges for scale-down and crop, and keeps the aspect ratio", () => {
    expect(planResize(100, 50, { width: 400, fit: "scale-down" })).toMatchObject({ width: 100, height: 50 });
    expect(planResize(100, 50, { width: 400, height: 400, fit: "crop" })).toMatchObject({
      width: 100,
      height: 50,
    });
    expect(planResize(1000, 500, { width: 400, height: 400, fit: "crop" })).toMatchObject({
      width: 400,
      height: 400,
    });
    expect(planResize(100, 50, { width: 400, fit: "contain" })).toMatchObject({ width: 400, height: 200 });
    expect(planResize(100, 50, {})).toMatchObject({ width: 100, height: 50, resize: undefined });
  });
});

describe("HEAD", () => {
  it("refuses HEAD (405, Allow: GET) without downloading the source", async () => {
    const before = origin.hits.length;
    const res = await app.request("/transform?url=/photo.jpg&w=100&f=webp", { method: "HEAD" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(origin.hits.length).toBe(before);
  });
});
