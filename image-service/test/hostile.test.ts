import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signImageRequest } from "../../common/src/image-signing.ts";
import { createImageApp } from "../src/app.ts";
import type { ImageServiceConfig } from "../src/config.ts";
import { animatedGif, bytes, photoJpeg, pngHeaderClaiming, startOrigin, testConfig } from "./helpers.ts";

let origin: Awaited<ReturnType<typeof startOrigin>>;
let privateOrigin: Awaited<ReturnType<typeof startOrigin>>;
let photo: Buffer;

beforeAll(async () => {
  photo = await photoJpeg(320, 240);
  // Stands for an internal service: listens on another loopback address that is never configured.
  privateOrigin = await startOrigin({ "/secret.jpg": bytes(photo) }, "127.0.0.2");
  const gif = await animatedGif(5);
  origin = await startOrigin({
    "/photo.jpg": bytes(photo),
    "/truncated.jpg": bytes(photo.subarray(0, Math.floor(photo.length / 2))),
    "/garbage.jpg": bytes(Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(2000, 0x41)])),
    "/page.jpg": bytes(Buffer.from("<!doctype html><html><body>not an image</body></html>"), "image/jpeg"),
    "/bomb.png": bytes(pngHeaderClaiming(100_000, 100_000), "image/png"),
    // A valid image whose shape makes a small variant taller than the output limit.
    "/strip.png": bytes(
      await sharp({ create: { width: 64, height: 26_416, channels: 3, background: "#888" } })
        .png()
        .toBuffer(),
      "image/png",
    ),
    "/56mp.png": bytes(pngHeaderClaiming(8000, 7000), "image/png"),
    "/logo.svg": bytes(
      Buffer.from(
        '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20" fill="red"/></svg>',
      ),
      "image/svg+xml",
    ),
    "/anim.gif": bytes(gif, "image/gif"),
    "/redirect-private": (_req, res) => {
      res.writeHead(302, { location: `${privateOrigin.url}/secret.jpg` });
      res.end();
    },
    "/redirect-named-private": (_req, res) => {
      res.writeHead(302, { location: `http://internal.test:${privateOrigin.port}/secret.jpg` });
      res.end();
    },
    "/redirect-ok": (_req, res) => {
      res.writeHead(301, { location: "/photo.jpg" });
      res.end();
    },
    "/redirect-loop": (_req, res) => {
      res.writeHead(302, { location: "/redirect-loop" });
      res.end();
    },
    "/redirect-bad": (_req, res) => {
      res.writeHead(302, { location: "http://[zz" });
      res.end();
    },
    "/redirect-file": (_req, res) => {
      res.writeHead(302, { location: "file:///etc/passwd" });
      res.end();
    },
    "/missing.jpg": (_req, res) => {
      res.statusCode = 404;
      res.end();
    },
    "/broken.jpg": (_req, res) => {
      res.statusCode = 500;
      res.end("boom");
    },
    "/hang.jpg": () => {
      // Never answers: the fetch time limit must end it.
    },
    "/big.jpg": bytes(Buffer.alloc(5000, 1)),
    "/big-chunked.jpg": (_req, res) => {
      res.writeHead(200, { "content-type": "image/jpeg" });
      for (let i = 0; i < 10; i++) res.write(Buffer.alloc(1000, 1));
      res.end();
    },
  });
});
afterAll(async () => {
  await origin.close();
  await privateOrigin.close();
});

function appWith(extra: Partial<ImageServiceConfig> = {}, origins = [origin.url]) {
  const t = testConfig(origins, extra);
  return { app: createImageApp(t.config), logs: t.logs };
}

async function status(app: ReturnType<typeof createImageApp>, query: string) {
  const res = await app.request(`/transform?${query}`);
  const text = await res.text();
  return {
    status: res.status,
    body: res.headers.get("content-type")?.startsWith("application/json") ? JSON.parse(text) : text,
    res,
  };
}

describe("hostile inputs get a clear 4xx, never a 500", () => {
  it.each([
    ["url=/truncated.jpg&w=100", 422, "Source image could not be decoded"],
    ["url=/garbage.jpg&w=100", 422, "Source image could not be decoded"],
    ["url=/page.jpg&w=100", 415, "Unsupported source image format"],
    ["url=/bomb.png&w=100", 413, "Source image has too many pixels"],
    ["url=/56mp.png&w=100", 413, "Source image has too many pixels"],
    ["url=/photo.jpg&w=8192&dpr=2&fit=contain", 400, "Requested size exceeds the 8192 pixel dimension limit"],
    ["url=/photo.jpg&w=8192&h=8192&fit=pad&dpr=1.5", 400, "exceeds the 8192 pixel dimension limit"],
    ["url=/strip.png&w=20", 422, "Output 20x8255 exceeds the 8192 pixel dimension limit"],
    ["url=/strip.png&f=webp", 422, "Output 64x26416 exceeds the 8192 pixel dimension limit"],
    ["url=/photo.jpg&width=-3", 400, 'Expected integer between 1 and 8192 for width but received "-3"'],
    ["url=/photo.jpg&size=3", 400, "for option name"],
    ["w=100", 400, "Expected a source path or URL for url"],
    ["url=ftp://example.com/a.jpg", 400, "Expected a source path or http(s) URL for url"],
    ["url=//127.0.0.2/secret.jpg", 400, "Expected a source path or http(s) URL for url"],
    ["url=/missing.jpg", 404, "Source image not found"],
    ["url=/broken.jpg", 502, "Source fetch failed"],
    ["url=/redirect-loop", 502, "Source redirected too often"],
    ["url=/redirect-file", 403, "Source not allowed"],
    ["url=/redirect-bad", 502, "Source fetch failed"],
  ])("%s → %i", async (query, code, message) => {
    const { app, logs } = appWith();
    const r = await status(app, query);
    expect(r.status).toBe(code);
    expect(r.body.error).toContain(message);
    expect(r.res.headers.get("cache-control")).toBe("no-store");
    expect(logs.at(-1)).toMatchObject({ level: "warn", status: code });
  });

  it("follows an allowed redirect", async () => {
    const { app } = appWith();
    const r = await app.request("/transform?url=/redirect-ok&w=50");
    expect(r.status).toBe(200);
    expect((await sharp(Buffer.from(await r.arrayBuffer())).metadata()).width).toBe(50);
  });

  it("enforces the source byte limit, declared or streamed", async () => {
    const { app } = appWith({ maxSourceBytes: 4000 });
    expect((await status(app, "url=/big.jpg")).status).toBe(413);
    expect((await status(app, "url=/big-chunked.jpg")).status).toBe(413);
  });

  it("times out a source that never answers with 504", async () => {
    const { app } = appWith({ fetchTimeoutMs: 150 });
    const r = await status(app, "url=/hang.jpg");
    expect(r.status).toBe(504);
    expect(r.body.error).toBe("Source timed out");
  });

  it("limits animation frames unless only the first frame is kept", async () => {
    const { app } = appWith({ maxFrames: 3 });
    const r = await status(app, "url=/anim.gif&f=webp");
    expect([r.status, r.body.error]).toEqual([413, "Animation has too many frames"]);
    expect((await status(app, "url=/anim.gif&f=webp&anim=false")).status).toBe(200);
  });

  it("rasterises SVG only when enabled", async () => {
    const { app } = appWith({ allowSvg: true });
    const r = await app.request("/transform?url=/logo.svg&f=png&w=20");
    expect(r.status).toBe(200);
    const m = await sharp(Buffer.from(await r.arrayBuffer())).metadata();
    expect([m.format, m.width, m.height]).toEqual(["png", 20, 10]);
  });
});

describe("SSRF guard", () => {
  const hits = () => privateOrigin.hits.length;

  it.each([
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/a.jpg",
    "http://127.0.0.2:1/secret.jpg",
    "https://shop.example/a.jpg",
    "http://user:pw@127.0.0.1/a.jpg",
  ])("refuses %s when not configured (403, public message only)", async (url) => {
    const { app, logs } = appWith();
    const r = await status(app, `url=${encodeURIComponent(url)}`);
    expect(r.status).toBe(403);
    expect(r.body).toEqual({ error: "Source not allowed" });
    expect(String(logs.at(-1)?.detail)).toMatch(/not in IMAGE_ORIGINS|non-public|credentials/);
  });

  it("refuses private and loopback addresses for any-host (*) mode without connecting", async () => {
    const before = hits();
    const { app, logs } = appWith({}, ["*"]);
    for (const url of [
      `${privateOrigin.url}/secret.jpg`,
      `http://[::ffff:127.0.0.2]:${privateOrigin.port}/secret.jpg`,
      `http://[::1]:${privateOrigin.port}/secret.jpg`,
      "http://169.254.169.254/latest/meta-data/",
      "http://192.168.1.1/",
    ]) {
      const r = await status(app, `url=${encodeURIComponent(url)}`);
      expect(r.status, url).toBe(403);
      expect(JSON.stringify(r.body)).not.toContain("127.0.0.2");
    }
    expect(hits()).toBe(before);
    expect(String(logs.at(0)?.detail)).toContain("non-public address 127.0.0.2");
  });

  it("checks the resolved address of a configured hostname (DNS pointing inside) without connecting", async () => {
    const before = hits();
    const { app, logs } = appWith({ resolve: async () => ["127.0.0.2"] }, [
      `http://images.shop.test:${privateOrigin.port}`,
    ]);
    const r = await status(app, "url=/secret.jpg");
    expect(r.status).toBe(403);
    expect(logs.at(-1)?.detail).toBe("images.shop.test resolves to non-public address 127.0.0.2");
    expect(hits()).toBe(before);
  });

  it("refuses a host when any resolved address is private", async () => {
    const { app } = appWith({ resolve: async () => ["203.0.113.1", "10.1.2.3"], fetchTimeoutMs: 200 }, [
      "http://cdn.shop.test",
    ]);
    const r = await status(app, "url=/a.jpg");
    expect(r.status).toBe(403); // one of the answers is private: refused as a whole
  });

  it("re-checks redirects: to an unlisted origin and to a listed name that resolves privately", async () => {
    const before = hits();
    const { app } = appWith({ resolve: async () => ["127.0.0.2"] }, [
      origin.url,
      `http://internal.test:${privateOrigin.port}`,
    ]);
    expect((await status(app, "url=/redirect-private")).status).toBe(403);
    expect((await status(app, "url=/redirect-named-private")).status).toBe(403);
    expect(hits()).toBe(before);
  });

  it("allows a private address only when that origin is configured explicitly", async () => {
    const { app } = appWith({}, [privateOrigin.url]);
    expect((await status(app, "url=/secret.jpg&w=10")).status).toBe(200);
    const { app: local } = appWith({ resolve: async () => ["127.0.0.1"] }, [
      `http://localhost:${origin.port}`,
    ]);
    expect((await status(local, "url=/photo.jpg&w=10")).status).toBe(200);
    const { app: open } = appWith({ allowPrivateNetworks: true, resolve: async () => ["127.0.0.2"] }, [
      `http://internal.test:${privateOrigin.port}`,
    ]);
    expect((await status(open, "url=/secret.jpg&w=10")).status).toBe(200);
  });
});

describe("signed option sets", () => {
  const key = "test-signing-key-0123456789";

  it("refuses missing, malformed and wrong signatures with 403 and accepts a valid one", async () => {
    const { app } = appWith({ signingKey: key });
    const sig = await signImageRequest(key, { width: 100, format: "webp" }, "/photo.jpg");
    expect(sig).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await status(app, "url=/photo.jpg&w=100&f=webp")).status).toBe(403);
    expect((await status(app, "url=/photo.jpg&w=100&f=webp&sig=abc")).status).toBe(403);
    expect((await status(app, `url=/photo.jpg&w=100&f=webp&sig=${sig.slice(0, -1)}A`)).status).toBe(403);
    expect((await status(app, `url=/photo.jpg&w=200&f=webp&sig=${sig}`)).status).toBe(403);
    expect((await status(app, `url=/other.jpg&w=100&f=webp&sig=${sig}`)).status).toBe(403);
    const wrongKey = await signImageRequest(
      "another-key-0123456789",
      { width: 100, format: "webp" },
      "/photo.jpg",
    );
    expect((await status(app, `url=/photo.jpg&w=100&f=webp&sig=${wrongKey}`)).status).toBe(403);
    const ok = await app.request(`/transform?url=/photo.jpg&format=webp&width=100&sig=${sig}`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get("content-type")).toBe("image/webp");
    const cf = await app.request(`/cdn-cgi/image/w=100,f=webp/photo.jpg?sig=${sig}`);
    expect(cf.status).toBe(200);
  });
});
