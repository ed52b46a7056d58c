/**
 * Reads an image's format, dimensions and frame count from its bytes without decoding any
 * pixels: PNG (IHDR, APNG acTL), JPEG (first SOF segment), GIF (screen and frame descriptors,
 * frames counted by walking the blocks), WebP (VP8/VP8L/VP8X, ANMF chunks) and AVIF (largest
 * `ispe`). The edge uses it before it ever passes original bytes on. Pure: no runtime imports.
 */

export type RasterFormat = "png" | "jpeg" | "gif" | "webp" | "avif";

export const RASTER_CONTENT_TYPES: Readonly<Record<RasterFormat, string>> = {
  png: "image/png",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  avif: "image/avif",
};

export interface ImageHeader {
  format: RasterFormat;
  width: number;
  height: number;
  /** Frames (1 for still images); for GIF and WebP counted over the bytes given. */
  frames: number;
}

export type HeaderResult =
  | { ok: true; header: ImageHeader }
  | { ok: false; reason: "unknown" | "corrupt"; message: string };

const ascii = (b: Uint8Array, start: number, end: number) =>
  String.fromCharCode(...b.subarray(start, Math.min(end, b.length)));
const u16be = (b: Uint8Array, i: number) => ((b[i] ?? 0) << 8) | (b[i + 1] ?? 0);
const u16le = (b: Uint8Array, i: number) => (b[i] ?? 0) | ((b[i + 1] ?? 0) << 8);
const u24le = (b: Uint8Array, i: number) => u16le(b, i) | ((b[i + 2] ?? 0) << 16);
const u32be = (b: Uint8Array, i: number) => u16be(b, i) * 65536 + u16be(b, i + 2);
const u32le = (b: Uint8Array, i: number) => u16le(b, i) + u16le(b, i + 2) * 65536;

const corrupt = (message: string): HeaderResult => ({ ok: false, reason: "corrupt", message });
const found = (format: RasterFormat, width: number, height: number, frames = 1): HeaderResult =>
  width > 0 && height > 0
    ? { ok: true, header: { format, width, height, frames } }
    : corrupt(`${format} header has a zero dimension (${width}x${height})`);

function png(b: Uint8Array): HeaderResult {
  if (b.length < 24 || ascii(b, 12, 16) !== "IHDR") return corrupt("PNG without IHDR");
  let frames = 1;
  // acTL (APNG) comes before the first IDAT.
  for (let i = 8; i + 8 <= b.length; ) {
    const len = u32be(b, i);
    const type = ascii(b, i + 4, i + 8);
    if (type === "IDAT" || type === "IEND") break;
    if (type === "acTL" && i + 12 <= b.length) frames = Math.max(1, u32be(b, i + 8));
    i += 12 + len;
  }
  return found("png", u32be(b, 16), u32be(b, 20), frames);
}

const SOF = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

function jpeg(b: Uint8Array): HeaderResult {
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return corrupt(`JPEG marker expected at byte ${i}`);
    const marker = b[i + 1] ?? 0;
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return corrupt("JPEG scan before any frame header");
    const len = u16be(b, i + 2);
    if (len < 2) return corrupt("JPEG segment with a bad length");
    if (SOF.has(marker)) {
      if (i + 9 > b.length) break;
      return found("jpeg", u16be(b, i + 7), u16be(b, i + 5));
    }
    i += 2 + len;
  }
  return corrupt("JPEG without a frame header");
}

function gif(b: Uint8Array): HeaderResult {
  let width = u16le(b, 6);
  let height = u16le(b, 8);
  let i = 13;
  const flags = b[10] ?? 0;
  if (flags & 0x80) i += 3 * 2 ** ((flags & 7) + 1);
  let frames = 0;
  const skipSubBlocks = (at: number): number => {
    let j = at;
    while (j < b.length) {
      const size = b[j] ?? 0;
      j += 1 + size;
      if (size === 0) return j;
    }
    return -1;
  };
  while (i < b.length) {
    const block = b[i];
    if (block === 0x3b) break;
    if (block === 0x21) {
      i = skipSubBlocks(i + 2);
    } else if (block === 0x2c) {
      if (i + 10 > b.length) break;
      frames++;
      // A frame may extend past the logical screen: the decoder's canvas is the larger of both.
      width = Math.max(width, u16le(b, i + 1) + u16le(b, i + 5));
      height = Math.max(height, u16le(b, i + 3) + u16le(b, i + 7));
      const f = b[i + 9] ?? 0;
      i += 10 + (f & 0x80 ? 3 * 2 ** ((f & 7) + 1) : 0) + 1;
      i = skipSubBlocks(i);
    } else {
      return corrupt(`GIF block 0x${(block ?? 0).toString(16)} at byte ${i}`);
    }
    if (i < 0) break;
  }
  return found("gif", width, height, Math.max(1, frames));
}

function webp(b: Uint8Array): HeaderResult {
  const chunk = ascii(b, 12, 16);
  let frames = 0;
  for (let i = 12; i + 8 <= b.length; ) {
    if (ascii(b, i, i + 4) === "ANMF") frames++;
    i += 8 + u32le(b, i + 4) + (u32le(b, i + 4) % 2);
  }
  if (chunk === "VP8 ") {
    if (b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) return corrupt("VP8 frame without a start code");
    return found("webp", u16le(b, 26) & 0x3fff, u16le(b, 28) & 0x3fff);
  }
  if (chunk === "VP8L") {
    if (b[20] !== 0x2f) return corrupt("VP8L without its signature");
    const bits = u32le(b, 21);
    return found("webp", (bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1);
  }
  if (chunk === "VP8X") return found("webp", u24le(b, 24) + 1, u24le(b, 27) + 1, Math.max(1, frames));
  return corrupt(`WebP with first chunk ${JSON.stringify(chunk)}`);
}

function avif(b: Uint8Array): HeaderResult {
  // Every `ispe` (image spatial extent) property; a grid's tiles and the whole image each have one.
  let width = 0;
  let height = 0;
  const limit = Math.min(b.length, 1 << 20);
  for (let i = 4; i + 16 <= limit; i++) {
    if (b[i] === 0x69 && ascii(b, i, i + 4) === "ispe") {
      width = Math.max(width, u32be(b, i + 8));
      height = Math.max(height, u32be(b, i + 12));
    }
  }
  return width === 0 ? corrupt("AVIF without an ispe property") : found("avif", width, height);
}

/** Format, dimensions and frames from the bytes (header only; nothing is decoded). */
export function readImageHeader(bytes: Uint8Array): HeaderResult {
  if (bytes.length < 16) return { ok: false, reason: "unknown", message: "too short to be an image" };
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return jpeg(bytes);
  if (ascii(bytes, 0, 8) === "\x89PNG\r\n\x1a\n") return png(bytes);
  const six = ascii(bytes, 0, 6);
  if (six === "GIF87a" || six === "GIF89a") return gif(bytes);
  if (ascii(bytes, 0, 4) === "RIFF" && ascii(bytes, 8, 12) === "WEBP") return webp(bytes);
  if (ascii(bytes, 4, 8) === "ftyp" && ["avif", "avis"].includes(ascii(bytes, 8, 12))) return avif(bytes);
  return { ok: false, reason: "unknown", message: "not a PNG, JPEG, GIF, WebP or AVIF image" };
}

export interface RasterLimits {
  maxBytes: number;
  /** Width × height of one frame. */
  maxPixels: number;
  maxFrames: number;
}

/** Why these bytes may not be passed on as an image (status + public reason), or null when they may. */
export function refuseRaster(
  bytes: Uint8Array,
  limits: RasterLimits,
): { status: 413 | 415 | 422; error: string } | { status: 200; header: ImageHeader } {
  if (bytes.length > limits.maxBytes)
    return { status: 413, error: `Source image over the ${limits.maxBytes} byte limit` };
  const r = readImageHeader(bytes);
  if (!r.ok) {
    return r.reason === "unknown"
      ? { status: 415, error: "Source is not a raster image the edge can check (PNG, JPEG, GIF, WebP, AVIF)" }
      : { status: 422, error: `Source image is corrupt: ${r.message}` };
  }
  const { width, height, frames } = r.header;
  if (width * height > limits.maxPixels)
    return { status: 413, error: `Source image has too many pixels (${width}x${height})` };
  if (frames > limits.maxFrames)
    return { status: 413, error: `Source animation has too many frames (${frames})` };
  return { status: 200, header: r.header };
}
