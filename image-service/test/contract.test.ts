import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createImageApp } from "../src/app.ts";
import { parseImageConfig } from "../src/config.ts";
import { bytes, perceptualDiff, photoJpeg, startOrigin, testConfig } from "./helpers.ts";

let origin: Awaited<ReturnType<typeof startOrigin>>;
let app: ReturnType<typeof createImageApp>;
let photo: Buffer;
let rotated: Buffer;
let quads: Buffer;

/** 400×200: left half red, right half blue, top-left corner 20×20 green. */
async function quadPng(): Promise<Buffer> {
  return sharp({ create: { width: 400, height: 200, channels: 3, background: "#ff0000" } })
    .composite([
      {
        input: { create: { width: 200, height: 200, channels: 3, background: "#0000ff" } },
        left: 200,
        top: 0,
      },
      { input: { create: { width: 20, height: 20, channels: 3, background: "#00ff00" } }, left: 0, top: 0 },
    ])
    .png()
    .toBuffer();
}

async function pixel(img: Buffer, x: number, y: number): Promise<[number, number, number]> {
  const { data, info } = await sharp(img).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const i = (y * info.width + x) * info.channels;
  return [data[i] ?? 0, data[i + 1] ?? 0, data[i + 2] ?? 0];
}

beforeAll(async () => {
  photo = await photoJpeg(800, 600, 90, 1);
  quads = await quadPng();
  // Pixels stored 300 wide × 200 high with EXIF orientation 6 (display rotated 90° clockwise).
  rotated = await sharp(await photoJpeg(300, 200, 90, 3))
    .withMetadata({ orientation: 6 })
    .jpeg()
    .toBuffer();
  origin = await startOrigin({
    "/photo.jpg": bytes(photo),
    "/quads.png": bytes(quads, "image/png"),
    "/rotated.jpg": bytes(rotated),
  });
  app = createImageApp(testConfig([origin.url]).config);
});
afterAll(() => origin.close());

async function get(query: string, accept?: string) {
  const res = await app.request(`/transform?${query}`, accept ? { headers: { accept } } : {});
  return { res, body: Buffer.from(await res.arrayBuffer()) };
}
const size = async (b: Buffer) => {
  const m = await sharp(b).metadata();
  return [m.width, m.height];
};

describe("Cloudflare option contract", () => {
  it("honours an explicit width exactly and never enlarges past the source unless the fit does", async () => {
    expect(await size((await get("url=/photo.jpg&width=400")).body)).toEqual([400, 300]);
    expect(await size((await get("url=/photo.jpg&width=333")).body)).toEqual([333, 250]);
    expect(await size((await get("url=/photo.jpg&width=2000")).body)).toEqual([800, 600]);
    expect(await size((await get("url=/photo.jpg&width=2000&fit=crop")).body)).toEqual([800, 600]);
    expect(await size((await get("url=/photo.jpg&width=1000&height=1000&fit=pad")).body)).toEqual([
      1000, 1000,
    ]);
    expect(await size((await get("url=/photo.jpg&width=1000&fit=contain")).body)).toEqual([1000, 750]);
  });

  it("applies EXIF orientation before resizing: a rotated source gives an upright image of the asked width", async () => {
    const { body } = await get("url=/rotated.jpg&width=100&f=png");
    expect(await size(body)).toEqual([100, 150]);
    const upright = await sharp(rotated).rotate().resize(100).png().toBuffer();
    expect(await perceptualDiff(body, upright)).toBeLessThan(0.03);
    const sideways = await sharp(rotated).resize(100, 150, { fit: "fill" }).png().toBuffer();
    expect(await perceptualDiff(body, sideways)).toBeGreaterThan(0.05);
  });

  it("squeeze fills the box exactly; aspect-crop cuts a small source to the box's aspect", async () => {
    expect(await size((await get("url=/photo.jpg&w=300&h=300&fit=squeeze")).body)).toEqual([300, 300]);
    expect(await size((await get("url=/photo.jpg&w=1600&h=400&fit=aspect-crop")).body)).toEqual([800, 200]);
    expect(await size((await get("url=/photo.jpg&w=200&h=200&fit=aspect-crop")).body)).toEqual([200, 200]);
  });

  it("crops around an XxY focal point (gravity=0x0 keeps the top-left corner)", async () => {
    const { body } = await get("url=/quads.png&w=200&h=200&fit=cover&gravity=0x0&f=png");
    expect(await pixel(body, 10, 10)).toEqual([0, 255, 0]);
    const right = await get("url=/quads.png&w=100&h=200&fit=crop&gravity=1x0.5&f=png");
    expect(await pixel(right.body, 50, 100)).toEqual([0, 0, 255]);
  });

  it("rotates (width refers to the rotated axes), flips before rotating, trims before resizing", async () => {
    const r = await get("url=/quads.png&rotate=90&width=100&f=png");
    expect(await size(r.body)).toEqual([100, 200]);
    expect(await pixel(r.body, 50, 20)).toEqual([255, 0, 0]); // left (red) half is on top after 90° cw
    const f = await get("url=/quads.png&flip=h&f=png");
    expect(await pixel(f.body, 390, 5)).toEqual([0, 255, 0]);
    const t = await get("url=/quads.png&trim=0;0;0;200&f=png");
    expect(await size(t.body)).toEqual([200, 200]);
    expect(await pixel(t.body, 100, 100)).toEqual([0, 0, 255]);
    const t2 = await get("url=/quads.png&trim.left=0&trim.top=0&trim.width=20&trim.height=20&f=png");
    expect(await size(t2.body)).toEqual([20, 20]);
    expect(await pixel(t2.body, 10, 10)).toEqual([0, 255, 0]);
  });

  it("writes progressive JPEG for jpeg, sequential for baseline-jpeg, lossless WebP at quality 100", async () => {
    expect((await sharp((await get("url=/photo.jpg&w=100&f=jpeg")).body).metadata()).isProgressive).toBe(
      true,
    );
    const base = await get("url=/photo.jpg&w=100&f=baseline-jpeg");
    expect(base.res.headers.get("content-type")).toBe("image/jpeg");
    expect((await sharp(base.body).metadata()).isProgressive).toBe(false);
    const lossy = (await get("url=/photo.jpg&w=100&f=webp&q=95")).body.length;
    expect((await get("url=/photo.jpg&w=100&f=webp&q=100")).body.length).toBeGreaterThan(lossy);
  });

  it("format=json describes the output and the original without encoding an image", async () => {
    const { res, body } = await get("url=/photo.jpg&w=400&format=json");
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(JSON.parse(body.toString())).toEqual({
      width: 400,
      height: 300,
      original: { file_size: photo.length, width: 800, height: 600, format: "image/jpeg" },
    });
  });

  it("brightness, contrast and saturation change the pixels; compression=fast picks JPEG for auto", async () => {
    const plain = await pixel((await get("url=/quads.png&f=png")).body, 300, 100);
    const dark = await pixel((await get("url=/quads.png&f=png&brightness=0.5")).body, 300, 100);
    expect(dark[2]).toBeLessThan(plain[2]);
    const grey = await pixel((await get("url=/quads.png&f=png&saturation=0.1")).body, 300, 100);
    expect(grey[0]).toBeGreaterThan(plain[0]);
    const fast = await get("url=/photo.jpg&w=50&f=auto&compression=fast", "image/avif,image/webp,*/*");
    expect(fast.res.headers.get("content-type")).toBe("image/jpeg");
  });
});

describe("output pixel budget and response headers", () => {
  it("refuses an 8192×8192 enlargement before decoding (400 naming the budget)", async () => {
    const before = origin.hits.length;
    const { res, body } = await get("url=/photo.jpg&w=8192&h=8192&fit=pad");
    expect(res.status).toBe(400);
    expect(JSON.parse(body.toString()).error).toContain("output pixel budget");
    expect(origin.hits.length).toBe(before + 1); // the source is fetched, never decoded
    expect((await get("url=/photo.jpg&w=8000&fit=contain")).res.status).toBe(422);
  });

  it("sends nosniff and the produced content type on images and on errors", async () => {
    const ok = await get("url=/photo.jpg&w=50&f=webp");
    expect(ok.res.headers.get("content-type")).toBe("image/webp");
    expect(ok.res.headers.get("x-content-type-options")).toBe("nosniff");
    const bad = await get("url=/photo.jpg&zoom=2");
    expect(bad.res.status).toBe(400);
    expect(JSON.parse(bad.body.toString()).error).toContain("zoom");
    expect(bad.res.headers.get("x-content-type-options")).toBe("nosniff");
    const unknown = await get("url=/photo.jpg&wdith=2");
    expect(JSON.parse(unknown.body.toString()).error).toContain('Unknown option "wdith"');
  });
});

describe("start-up", () => {
  it("refuses a non-loopback bind without IMAGE_SIGNING_KEY", () => {
    expect(() => parseImageConfig({ IMAGE_HOST: "0.0.0.0" })).toThrow(/IMAGE_SIGNING_KEY.*not a loopback/);
    expect(() => parseImageConfig({ IMAGE_HOST: "10.0.0.5", IMAGE_SIGNING_KEY: "" })).toThrow(
      /IMAGE_SIGNING_KEY/,
    );
    expect(parseImageConfig({ IMAGE_HOST: "0.0.0.0", IMAGE_SIGNING_KEY: "k".repeat(32) }).host).toBe(
      "0.0.0.0",
    );
    for (const host of ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"]) {
      expect(parseImageConfig({ IMAGE_HOST: host }).signingKey).toBeUndefined();
    }
  });
});
