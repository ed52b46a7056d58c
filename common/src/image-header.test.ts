import { describe, expect, it } from "vitest";
import { readImageHeader, refuseRaster } from "./image-header.ts";

const bytes = (...parts: (number[] | string | Uint8Array)[]) => {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === "string") for (const c of p) out.push(c.charCodeAt(0));
    else out.push(...p);
  }
  return Uint8Array.from(out);
};
const be32 = (n: number) => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
const be16 = (n: number) => [(n >>> 8) & 255, n & 255];
const le16 = (n: number) => [n & 255, (n >>> 8) & 255];
const le24 = (n: number) => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255];
const le32 = (n: number) => [...le16(n & 0xffff), ...le16(n >>> 16)];

function pngHeader(w: number, h: number, frames?: number): Uint8Array {
  const actl =
    frames === undefined
      ? []
      : [
          ...be32(8),
          ..."acTL".split("").map((c) => c.charCodeAt(0)),
          ...be32(frames),
          ...be32(0),
          0,
          0,
          0,
          0,
        ];
  return bytes(
    "\x89PNG\r\n\x1a\n",
    be32(13),
    "IHDR",
    be32(w),
    be32(h),
    [8, 2, 0, 0, 0],
    [0, 0, 0, 0],
    actl,
    be32(0),
    "IDAT",
    [0, 0, 0, 0],
  );
}

function jpegHeader(w: number, h: number): Uint8Array {
  // SOI, an APP0 segment, then SOF0 (precision, height, width, components).
  return bytes(
    [0xff, 0xd8],
    [0xff, 0xe0],
    be16(16),
    "JFIF\0",
    Array(9).fill(0),
    [0xff, 0xc0],
    be16(11),
    [8],
    be16(h),
    be16(w),
    [1, 1, 0x11, 0],
    [0xff, 0xd9],
  );
}

function gifFrames(w: number, h: number, frames: number): Uint8Array {
  const frame = [0x2c, ...le16(0), ...le16(0), ...le16(w), ...le16(h), 0, 2, 2, 0x4c, 0x01, 0];
  return bytes("GIF89a", le16(w), le16(h), [0, 0, 0], ...Array(frames).fill(frame), [0x3b]);
}

describe("readImageHeader", () => {
  it("reads PNG dimensions from IHDR and APNG frames from acTL", () => {
    expect(readImageHeader(pngHeader(640, 480))).toEqual({
      ok: true,
      header: { format: "png", width: 640, height: 480, frames: 1 },
    });
    expect(readImageHeader(pngHeader(20, 10, 300))).toMatchObject({ header: { frames: 300 } });
    expect(readImageHeader(pngHeader(65535, 65535))).toMatchObject({
      header: { width: 65535, height: 65535 },
    });
  });

  it("reads JPEG dimensions from the first SOF after other segments", () => {
    expect(readImageHeader(jpegHeader(65500, 65500))).toEqual({
      ok: true,
      header: { format: "jpeg", width: 65500, height: 65500, frames: 1 },
    });
    expect(readImageHeader(jpegHeader(400, 300))).toMatchObject({ header: { width: 400, height: 300 } });
  });

  it("counts GIF frames by walking its blocks", () => {
    expect(readImageHeader(gifFrames(32, 16, 3))).toEqual({
      ok: true,
      header: { format: "gif", width: 32, height: 16, frames: 3 },
    });
  });

  it("reads WebP VP8X canvas size and counts ANMF chunks, VP8 and VP8L sizes", () => {
    const anmf = [..."ANMF".split("").map((c) => c.charCodeAt(0)), ...le32(2), 0, 0];
    const vp8x = bytes(
      "RIFF",
      le32(0),
      "WEBP",
      "VP8X",
      le32(10),
      [0x02, 0, 0, 0],
      le24(999),
      le24(499),
      anmf,
      anmf,
    );
    expect(readImageHeader(vp8x)).toEqual({
      ok: true,
      header: { format: "webp", width: 1000, height: 500, frames: 2 },
    });
    const vp8 = bytes(
      "RIFF",
      le32(0),
      "WEBP",
      "VP8 ",
      le32(10),
      [0, 0, 0],
      [0x9d, 0x01, 0x2a],
      le16(300),
      le16(200),
    );
    expect(readImageHeader(vp8)).toMatchObject({ header: { width: 300, height: 200 } });
    const bits = (300 - 1) | ((200 - 1) << 14);
    const vp8l = bytes("RIFF", le32(0), "WEBP", "VP8L", le32(5), [0x2f], le32(bits));
    expect(readImageHeader(vp8l)).toMatchObject({ header: { width: 300, height: 200 } });
  });

  it("reads AVIF size from its largest ispe", () => {
    const avif = bytes(
      be32(20),
      "ftypavif",
      be32(0),
      "mif1",
      be32(20),
      "ispe",
      be32(0),
      be32(64),
      be32(48),
      be32(20),
      "ispe",
      be32(0),
      be32(4096),
      be32(4096),
    );
    expect(readImageHeader(avif)).toMatchObject({
      ok: true,
      header: { format: "avif", width: 4096, height: 4096 },
    });
  });

  it("tells unknown from corrupt", () => {
    expect(readImageHeader(bytes("<svg xmlns='http://www.w3.org/2000/svg'></svg>"))).toMatchObject({
      ok: false,
      reason: "unknown",
    });
    expect(readImageHeader(bytes([0x1f, 0x8b, 8, 0], Array(20).fill(0)))).toMatchObject({
      ok: false,
      reason: "unknown",
    });
    expect(readImageHeader(bytes([0xff, 0xd8, 0xff, 0xda], Array(20).fill(0)))).toMatchObject({
      ok: false,
      reason: "corrupt",
    });
    expect(readImageHeader(pngHeader(0, 10))).toMatchObject({ ok: false, reason: "corrupt" });
    expect(
      readImageHeader(bytes("GIF89a", le16(1), le16(1), [0, 0, 0], [0x99], Array(8).fill(0))),
    ).toMatchObject({ ok: false, reason: "corrupt" });
  });
});

describe("refuseRaster", () => {
  const limits = { maxBytes: 1_000_000, maxPixels: 50_000_000, maxFrames: 100 };
  it("passes a small raster within the limits", () => {
    expect(refuseRaster(pngHeader(640, 480), limits)).toMatchObject({ status: 200 });
  });
  it("refuses hostile headers: 20000², 65535² PNG, 65500² JPEG, too many frames, over bytes, SVG, corrupt", () => {
    expect(refuseRaster(pngHeader(20000, 20000), limits)).toMatchObject({
      status: 413,
      error: expect.stringContaining("too many pixels"),
    });
    expect(refuseRaster(pngHeader(65535, 65535), limits)).toMatchObject({ status: 413 });
    expect(refuseRaster(jpegHeader(65500, 65500), limits)).toMatchObject({ status: 413 });
    expect(refuseRaster(gifFrames(8, 8, 101), limits)).toMatchObject({
      status: 413,
      error: expect.stringContaining("frames"),
    });
    expect(refuseRaster(pngHeader(10, 10, 5000), limits)).toMatchObject({ status: 413 });
    expect(refuseRaster(pngHeader(10, 10), { ...limits, maxBytes: 10 })).toMatchObject({
      status: 413,
      error: expect.stringContaining("byte limit"),
    });
    expect(
      refuseRaster(bytes("<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"), limits),
    ).toMatchObject({ status: 415 });
    expect(refuseRaster(bytes([0xff, 0xd8, 0xff, 0xe0], Array(40).fill(0x41)), limits)).toMatchObject({
      status: 422,
    });
  });
});
