import http from "node:http";
import type { AddressInfo } from "node:net";
import { crc32 } from "node:zlib";
import sharp from "sharp";
import { type ImageServiceConfig, parseImageConfig } from "../src/config.ts";

export type OriginHandler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** A local origin on a free port; `routes` maps a path to a handler; `hits` counts requests per path. */
export async function startOrigin(routes: Record<string, OriginHandler>, host = "127.0.0.1") {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    hits.push(path);
    const route = routes[path];
    if (route) route(req, res);
    else {
      res.statusCode = 404;
      res.end("not found");
    }
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `http://${host}:${port}`,
    hits,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Serves fixed bytes with a content type and optional extra headers. */
export function bytes(
  body: Uint8Array,
  type = "image/jpeg",
  headers: Record<string, string> = {},
): OriginHandler {
  return (_req, res) => {
    res.writeHead(200, { "content-type": type, "content-length": body.length, ...headers });
    res.end(body);
  };
}

/** A config for tests: only the given origins, small queue, no log noise (events collected in `logs`). */
export function testConfig(origins: string[], extra: Partial<ImageServiceConfig> = {}) {
  const logs: Record<string, unknown>[] = [];
  const config: ImageServiceConfig = {
    ...parseImageConfig({ IMAGE_ORIGINS: origins.join(","), IMAGE_CONCURRENCY: "2" }),
    log: (e) => logs.push(e),
    ...extra,
  };
  return { config, logs };
}

/**
 * Deterministic photo-like RGB image: smooth gradients, soft shapes and fine texture (an LCG,
 * not Math.random, so every run encodes the same bytes).
 */
export function photoPixels(width: number, height: number, seed = 1): Buffer {
  const px = Buffer.alloc(width * height * 3);
  let s = seed >>> 0;
  const rand = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const blobs = Array.from({ length: 6 }, () => ({
    x: rand() * width,
    y: rand() * height,
    r: (0.1 + rand() * 0.25) * Math.min(width, height),
    c: [rand() * 255, rand() * 255, rand() * 255] as [number, number, number],
  }));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let r = 40 + (180 * x) / width;
      let g = 60 + (140 * y) / height;
      let b = 120 + 60 * Math.sin((x + y) / 90);
      for (const blob of blobs) {
        const d = Math.hypot(x - blob.x, y - blob.y) / blob.r;
        if (d < 1) {
          const k = (1 - d) ** 0.5;
          r += (blob.c[0] - r) * k;
          g += (blob.c[1] - g) * k;
          b += (blob.c[2] - b) * k;
        }
      }
      const n = (rand() - 0.5) * 24 + 10 * Math.sin(x / 3) * Math.sin(y / 5);
      const i = (y * width + x) * 3;
      px[i] = Math.max(0, Math.min(255, r + n));
      px[i + 1] = Math.max(0, Math.min(255, g + n));
      px[i + 2] = Math.max(0, Math.min(255, b + n));
    }
  }
  return px;
}

/** A photo-like JPEG of the given size. */
export function photoJpeg(width: number, height: number, quality = 90, seed = 1): Promise<Buffer> {
  return sharp(photoPixels(width, height, seed), { raw: { width, height, channels: 3 } })
    .jpeg({ quality })
    .toBuffer();
}

/** Mean absolute difference (0–1) of two images after both are scaled to 32×32 greyscale. */
export async function perceptualDiff(a: Buffer, b: Buffer): Promise<number> {
  const small = (img: Buffer) =>
    sharp(img)
      .flatten({ background: "#ffffff" })
      .greyscale()
      .resize(32, 32, { fit: "fill" })
      .raw()
      .toBuffer();
  const [x, y] = await Promise.all([small(a), small(b)]);
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += Math.abs((x[i] ?? 0) - (y[i] ?? 0));
  return sum / x.length / 255;
}

/** A PNG whose IHDR claims `width`×`height` but carries one tiny IDAT: a decompression-bomb header. */
export function pngHeaderClaiming(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.writeUInt8(8, 8); // bit depth
  ihdr.writeUInt8(2, 9); // truecolour
  return Buffer.concat([
    Buffer.from("89504e470d0a1a0a", "hex"),
    chunk("IHDR", ihdr),
    chunk("IDAT", Buffer.from("789c030000000001", "hex")),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** An animated GIF with `frames` frames of `size`×`size`, each a different flat colour. */
export async function animatedGif(frames: number, size = 32): Promise<Buffer> {
  const px = Buffer.alloc(size * size * frames * 4);
  for (let f = 0; f < frames; f++) {
    for (let i = 0; i < size * size; i++) {
      const o = (f * size * size + i) * 4;
      px[o] = (f * 37) % 256;
      px[o + 1] = 255 - ((f * 53) % 256);
      px[o + 2] = (f * 91) % 256;
      px[o + 3] = 255;
    }
  }
  return sharp(px, { raw: { width: size, height: size * frames, channels: 4, pageHeight: size } })
    .gif({ delay: Array(frames).fill(50) })
    .toBuffer();
}
