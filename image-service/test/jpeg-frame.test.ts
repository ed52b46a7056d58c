import sharp from "sharp";
import { beforeAll, describe, expect, it } from "vitest";
import { parseImageConfig } from "../src/config.ts";
import { ImageServiceError } from "../src/errors.ts";
import { plainJpegFrame } from "../src/jpeg-frame.ts";
import { transformImage } from "../src/transform.ts";
import { photoJpeg } from "./helpers.ts";

const limits = parseImageConfig({});
let plain: Buffer;

/** Offset of the first SOF0 segment's marker in a JPEG. */
function sof0(jpeg: Buffer): number {
  for (let i = 2; i + 4 <= jpeg.length; i += 2 + jpeg.readUInt16BE(i + 2)) {
    if (jpeg[i + 1] === 0xc0) return i;
  }
  throw new Error("no SOF0");
}

/** The JPEG with its frame header claiming width × height. */
function claiming(jpeg: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(jpeg);
  const at = sof0(out);
  out.writeUInt16BE(height, at + 5);
  out.writeUInt16BE(width, at + 7);
  return out;
}

beforeAll(async () => {
  plain = await photoJpeg(120, 80);
});

describe("plainJpegFrame (JPEG size without a libvips header read)", () => {
  it("reads a plain JPEG's frame size", () => {
    expect(plainJpegFrame(plain)).toEqual({ width: 120, height: 80 });
  });

  it("leaves JPEGs with an APP1 segment (EXIF orientation, copyright) to libvips", async () => {
    const rotated = await sharp(plain).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    const copyright = await sharp(plain)
      .withExif({ IFD0: { Copyright: "Shop" } })
      .jpeg()
      .toBuffer();
    expect(plainJpegFrame(rotated)).toBeUndefined();
    expect(plainJpegFrame(copyright)).toBeUndefined();
  });

  it("leaves truncated headers, stray bytes and other formats to libvips", async () => {
    expect(plainJpegFrame(plain.subarray(0, sof0(plain) + 4))).toBeUndefined();
    const stray = Buffer.concat([plain.subarray(0, 20), Buffer.from([0x00]), plain.subarray(20)]);
    expect(plainJpegFrame(stray)).toBeUndefined();
    expect(plainJpegFrame(await sharp(plain).png().toBuffer())).toBeUndefined();
  });
});

describe("transforms of plain JPEGs", () => {
  it("refuses a frame header over the pixel limit before decoding (413)", async () => {
    const bomb = claiming(plain, 65500, 65500);
    expect(plainJpegFrame(bomb)).toEqual({ width: 65500, height: 65500 });
    const err = await transformImage(bomb, { width: 100, format: "webp" }, undefined, limits).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ImageServiceError);
    expect((err as ImageServiceError).status).toBe(413);
  });

  it("keeps EXIF orientation (header from libvips) and plain sizes (header from the frame) alike", async () => {
    const rotated = await sharp(plain).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    const a = await transformImage(rotated, { width: 40, format: "png" }, undefined, limits);
    const b = await transformImage(plain, { width: 40, format: "png" }, undefined, limits);
    expect([a.width, a.height]).toEqual([40, 60]);
    expect([b.width, b.height]).toEqual([40, 27]);
  });

  it("a frame header that does not match the scan data is a 422 or a correctly sized image, never a crash", async () => {
    for (const [w, h] of [
      [60, 40],
      [240, 160],
      [1, 1],
    ] as const) {
      const liar = claiming(plain, w, h);
      const r = await transformImage(liar, { width: 30, format: "jpeg" }, undefined, limits).then(
        (out) => ({ status: 200, width: out.width }),
        (e: unknown) => ({ status: e instanceof ImageServiceError ? e.status : 500, width: 0 }),
      );
      expect([200, 422]).toContain(r.status);
      if (r.status === 200) expect(r.width).toBe(Math.min(w, 30));
    }
  });
});
