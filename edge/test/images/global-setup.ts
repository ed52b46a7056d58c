/**
 * Servers for the edge's image tests, on free ports: a source origin with generated images, the
 * real image service (image-service/src, sharp) with a signing key, and a controllable front for
 * the service that counts requests per source and can be switched down per source (503, closed
 * socket, or a delay) to test the edge's fallback. Provided as `imgOrigin`, `imgService` (the
 * front) and `imgSigningKey`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import sharp from "sharp";
import type { TestProject } from "vitest/node";
import { parseImageConfig } from "../../../image-service/src/config.ts";
import { startImageService } from "../../../image-service/src/server.ts";
import { animatedGif, pngHeaderClaiming } from "../../../image-service/test/helpers.ts";

declare module "vitest" {
  interface ProvidedContext {
    imgOrigin: string;
    imgService: string;
    imgSigningKey: string;
  }
}

const SIGNING_KEY = "edge-image-test-signing-key-0123456789";

/** Photo-like RGB pixels (gradients + texture), deterministic. */
function photo(width: number, height: number): Buffer {
  const px = Buffer.alloc(width * height * 3);
  let seed = 42;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const n = (seed >> 16) % 24;
      const i = (y * width + x) * 3;
      px[i] = (x * 255) / width + n;
      px[i + 1] = (y * 255) / height + ((x >> 4) % 2) * 30;
      px[i + 2] = 128 + 100 * Math.sin((x + y) / 37) + n;
    }
  }
  return px;
}

async function images(): Promise<Map<string, { type: string; body: Buffer }>> {
  const big = await sharp(photo(1200, 900), { raw: { width: 1200, height: 900, channels: 3 } })
    .jpeg({ quality: 90 })
    .toBuffer();
  const small = await sharp(photo(160, 120), { raw: { width: 160, height: 120, channels: 3 } })
    .jpeg({ quality: 80 })
    .toBuffer();
  return new Map([
    ["photo.jpg", { type: "image/jpeg", body: big }],
    ["small.jpg", { type: "image/jpeg", body: small }],
    [
      "logo.svg",
      {
        type: "image/svg+xml",
        body: Buffer.from(
          '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>',
        ),
      },
    ],
    ["broken.jpg", { type: "image/jpeg", body: Buffer.from("this is not an image at all\n".repeat(20)) }],
    // Hostile sources: each must be a 4xx with a reason, never passed on.
    ["huge.png", { type: "image/png", body: pngHeaderClaiming(20_000, 20_000) }],
    ["max.png", { type: "image/png", body: pngHeaderClaiming(65_535, 65_535) }],
    ["max.jpg", { type: "image/jpeg", body: jpegHeaderClaiming(65_500, 65_500) }],
    ["frames.gif", { type: "image/gif", body: await animatedGif(101, 8) }],
    [
      "xss.svg",
      {
        type: "image/svg+xml",
        body: Buffer.from(
          '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>',
        ),
      },
    ],
    [
      "bomb.svgz",
      {
        type: "image/svg+xml",
        body: gzipSync(
          Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg">${" ".repeat(100 * 1024 * 1024)}</svg>`),
        ),
      },
    ],
    ["page.jpg", { type: "image/jpeg", body: Buffer.from("<!doctype html><script>alert(1)</script>") }],
    [
      "corrupt.jpg",
      {
        type: "image/jpeg",
        body: Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(64, 0x41)]),
      },
    ],
    // A real JPEG the origin mislabels: whatever is passed on carries the type read from the bytes.
    ["mislabelled.jpg", { type: "text/html", body: small }],
  ]);
}

/** A JPEG that is only a header claiming `width`×`height` (SOI, SOF0, EOI). */
function jpegHeaderClaiming(width: number, height: number): Buffer {
  const sof = Buffer.from([
    0xff,
    0xc0,
    0,
    11,
    8,
    height >> 8,
    height & 255,
    width >> 8,
    width & 255,
    1,
    1,
    0x11,
    0,
  ]);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), sof, Buffer.from([0xff, 0xd9])]);
}

/** Source redirects a shop origin might send (or be tricked into sending). */
const REDIRECTS: Readonly<Record<string, string>> = {
  "redir-meta.jpg": "http://169.254.169.254/latest/meta-data/",
  "redir-file.jpg": "file:///etc/passwd",
  "redir-gopher.jpg": "gopher://127.0.0.1:6379/_INFO",
};

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function json(res: ServerResponse, status: number, v: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(v));
}

interface Mode {
  mode: "up" | "down" | "close" | "slow";
  delayMs?: number;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const files = await images();
  const originCounts = new Map<string, number>();

  // Source origin: /img/<anything>/<name> serves <name> (so each test can use its own paths).
  const origin = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://o.test");
    if (url.pathname === "/__ctl/count")
      return json(res, 200, { count: originCounts.get(url.searchParams.get("path") ?? "") ?? 0 });
    originCounts.set(url.pathname, (originCounts.get(url.pathname) ?? 0) + 1);
    const name = url.pathname.split("/").pop() ?? "";
    const redirect = REDIRECTS[name];
    if (redirect !== undefined && url.pathname.startsWith("/img/")) {
      res.writeHead(302, { location: redirect, "cache-control": "no-store" });
      res.end();
      return;
    }
    const f = url.pathname.startsWith("/img/") ? files.get(name) : undefined;
    if (f === undefined) {
      res.writeHead(404, { "content-type": "text/plain", "cache-control": "no-store" });
      res.end("not found");
      return;
    }
    res.writeHead(200, {
      "content-type": f.type,
      "content-length": String(f.body.length),
      "cache-control": "public, max-age=3600",
      "last-modified": "Tue, 24 Nov 2026 10:00:00 GMT",
    });
    res.end(req.method === "HEAD" ? undefined : f.body);
  });
  const originUrl = await listen(origin);

  const service = await startImageService({
    ...parseImageConfig({
      IMAGE_PORT: "0",
      IMAGE_ORIGINS: originUrl,
      IMAGE_SIGNING_KEY: SIGNING_KEY,
      IMAGE_CONCURRENCY: "2",
    }),
    log: () => {},
  });

  // Front of the service: per-source mode and counters.
  const modes = new Map<string, Mode>();
  const counts = new Map<string, number>();
  const last = new Map<string, string>();
  const front = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://f.test");
    if (url.pathname === "/__ctl/mode") {
      const b = JSON.parse((await readBody(req)).toString("utf8")) as Mode & { source: string };
      modes.set(b.source, b);
      return json(res, 200, { ok: true });
    }
    if (url.pathname === "/__ctl/count") {
      const s = url.searchParams.get("source") ?? "";
      return json(res, 200, { count: counts.get(s) ?? 0, last: last.get(s) ?? null });
    }
    const source = url.searchParams.get("url") ?? "";
    counts.set(source, (counts.get(source) ?? 0) + 1);
    last.set(source, url.search);
    const m = modes.get(source);
    if (m?.mode === "down") {
      res.writeHead(503, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(JSON.stringify({ error: "service down (test)" }));
      return;
    }
    if (m?.mode === "close") {
      req.socket.destroy();
      return;
    }
    if (m?.mode === "slow") await new Promise((r) => setTimeout(r, m.delayMs ?? 1000));
    try {
      const r = await fetch(service.url + (req.url ?? "/"), {
        headers: { accept: req.headers.accept ?? "*/*" },
      });
      const body = Buffer.from(await r.arrayBuffer());
      const headers: Record<string, string> = {};
      r.headers.forEach((v, k) => {
        if (k !== "content-encoding" && k !== "transfer-encoding" && k !== "connection") headers[k] = v;
      });
      headers["content-length"] = String(body.length);
      res.writeHead(r.status, headers);
      res.end(body);
    } catch (e) {
      if (!res.headersSent) json(res, 599, { error: String(e) });
      else res.destroy();
    }
  });
  const frontUrl = await listen(front);

  project.provide("imgOrigin", originUrl);
  project.provide("imgService", frontUrl);
  project.provide("imgSigningKey", SIGNING_KEY);
  return async () => {
    for (const s of [origin, front]) s.closeAllConnections();
    await Promise.all([
      ...[origin, front].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
      service.close(),
    ]);
  };
}
