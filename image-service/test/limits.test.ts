import type http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isPublicAddress } from "../src/address-policy.ts";
import { createImageApp } from "../src/app.ts";
import { parseImageConfig } from "../src/config.ts";
import { Limiter } from "../src/limiter.ts";
import { startImageService } from "../src/server.ts";
import { sniffImageFormat } from "../src/sniff.ts";
import { bytes, photoJpeg, startOrigin, testConfig } from "./helpers.ts";

describe("Limiter", () => {
  it("runs at most `concurrency` tasks, queues the rest in order and refuses beyond the queue", async () => {
    const limiter = new Limiter(2, 3);
    let active = 0;
    let peak = 0;
    const order: number[] = [];
    const gates: (() => void)[] = [];
    const task = (i: number) => () =>
      new Promise<number>((resolve) => {
        active++;
        peak = Math.max(peak, active);
        order.push(i);
        gates.push(() => {
          active--;
          resolve(i);
        });
      });
    const runs = [0, 1, 2, 3, 4].map((i) => limiter.run(task(i)));
    expect([limiter.active, limiter.queued]).toEqual([2, 3]);
    await expect(limiter.run(task(5))).rejects.toMatchObject({ status: 503 });
    while (gates.length > 0 || order.length < 5) {
      await new Promise((r) => setImmediate(r));
      gates.shift()?.();
    }
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3, 4]);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(peak).toBe(2);
    expect([limiter.active, limiter.queued]).toEqual([0, 0]);
  });

  it("frees the slot when a task fails", async () => {
    const limiter = new Limiter(1, 0);
    await expect(limiter.run(() => Promise.reject(new Error("x")))).rejects.toThrow("x");
    expect(await limiter.run(async () => 7)).toBe(7);
  });
});

describe("admission under load", () => {
  let release: () => void = () => {};
  let origin: Awaited<ReturnType<typeof startOrigin>>;
  beforeAll(async () => {
    const photo = await photoJpeg(64, 48);
    const gate = new Promise<void>((r) => {
      release = r;
    });
    origin = await startOrigin({
      "/slow.jpg": (req: http.IncomingMessage, res: http.ServerResponse) => {
        void gate.then(() => bytes(photo)(req, res));
      },
    });
  });
  afterAll(() => origin.close());

  it("queues up to the limit and answers 503 + Retry-After beyond it, then serves the queued ones", async () => {
    const { config } = testConfig([origin.url], { concurrency: 1, queueLimit: 1 });
    const app = createImageApp(config);
    const first = app.request("/transform?url=/slow.jpg&w=10");
    const second = app.request("/transform?url=/slow.jpg&w=10");
    while (origin.hits.length < 2) await new Promise((r) => setTimeout(r, 5));
    const third = await app.request("/transform?url=/slow.jpg&w=10");
    expect(third.status).toBe(503);
    expect(third.headers.get("retry-after")).toBe("1");
    expect(await third.json()).toEqual({ error: "Image service busy, retry shortly" });
    release();
    expect((await first).status).toBe(200);
    expect((await second).status).toBe(200);
    expect((await app.request("/healthz")).status).toBe(200);
  });
});

describe("config", () => {
  it("has documented defaults", () => {
    const c = parseImageConfig({});
    expect(c).toMatchObject({
      port: 8788,
      host: "127.0.0.1",
      origins: ["http://127.0.0.1:8000"],
      allowPrivateNetworks: false,
      maxSourceBytes: 25 * 1024 * 1024,
      fetchTimeoutMs: 10_000,
      maxRedirects: 3,
      maxInputPixels: 50_000_000,
      maxOutputDimension: 8192,
      maxFrames: 100,
      allowSvg: false,
      queueLimit: c.concurrency * 8,
      avifEffort: 0,
      webpEffort: 4,
      defaultCacheControl: "public, max-age=86400",
      signingKey: undefined,
    });
    expect(c.concurrency).toBeGreaterThanOrEqual(1);
  });

  it.each([
    [{ IMAGE_PORT: "abc" }, 'Invalid config IMAGE_PORT: expected integer between 0 and 65535 (got "abc")'],
    [{ IMAGE_CONCURRENCY: "0" }, "Invalid config IMAGE_CONCURRENCY"],
    [{ IMAGE_ORIGINS: "ftp://x" }, "Invalid config IMAGE_ORIGINS: expected http(s) origins without path"],
    [{ IMAGE_ORIGINS: "http://x/path" }, "Invalid config IMAGE_ORIGINS"],
    [{ IMAGE_ORIGINS: " , " }, "Invalid config IMAGE_ORIGINS: expected at least one origin"],
    [{ IMAGE_ALLOW_SVG: "yes" }, 'Invalid config IMAGE_ALLOW_SVG: expected true or false (got "yes")'],
    [{ IMAGE_SIGNING_KEY: "short" }, "Invalid config IMAGE_SIGNING_KEY"],
    [{ IMAGE_AVIF_EFFORT: "10" }, "Invalid config IMAGE_AVIF_EFFORT"],
  ])("rejects %j", (env, message) => {
    expect(() => parseImageConfig(env)).toThrow(message);
  });

  it("normalises origins", () => {
    expect(parseImageConfig({ IMAGE_ORIGINS: "https://Shop.Example/, *" }).origins).toEqual([
      "https://shop.example",
      "*",
    ]);
  });
});

describe("isPublicAddress", () => {
  it.each([
    ["8.8.8.8", true],
    ["93.184.216.34", true],
    ["2606:4700::1111", true],
    ["127.0.0.1", false],
    ["127.0.0.2", false],
    ["10.1.2.3", false],
    ["172.16.0.1", false],
    ["172.31.255.255", false],
    ["172.32.0.1", true],
    ["192.168.0.1", false],
    ["169.254.169.254", false],
    ["100.64.0.1", false],
    ["0.0.0.0", false],
    ["224.0.0.1", false],
    ["255.255.255.255", false],
    ["::", false],
    ["::1", false],
    ["fe80::1", false],
    ["fd00::1", false],
    ["ff02::1", false],
    ["::ffff:127.0.0.1", false],
    ["::ffff:7f00:1", false],
    ["::ffff:8.8.8.8", true],
    ["64:ff9b::a00:1", false],
    ["2002:a00:1::", false],
    ["not-an-ip", false],
  ])("%s → %s", (ip, expected) => {
    expect(isPublicAddress(ip)).toBe(expected);
  });
});

describe("sniffImageFormat", () => {
  it.each([
    [[0xff, 0xd8, 0xff, 0xe0, 0, 0, 0, 0, 0, 0, 0, 0], "jpeg"],
    [[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0], "png"],
    [[..."GIF89a\0\0\0\0\0\0"].map((c) => c.charCodeAt(0)), "gif"],
    [[..."RIFF\0\0\0\0WEBP"].map((c) => c.charCodeAt(0)), "webp"],
    [[..."\0\0\0\x1cftypavif"].map((c) => c.charCodeAt(0)), "avif"],
    [[..."<?xml ?><svg xmlns='x'>"].map((c) => c.charCodeAt(0)), "svg"],
    [[..."<html><body>hello"].map((c) => c.charCodeAt(0)), undefined],
    [[..."%PDF-1.7 xxxxxx"].map((c) => c.charCodeAt(0)), undefined],
    [[0xff, 0xd8], undefined],
  ])("%j → %s", (b, expected) => {
    expect(sniffImageFormat(Uint8Array.from(b))).toBe(expected);
  });
});

describe("startImageService", () => {
  it("serves over real HTTP on a free port and closes", async () => {
    const photo = await photoJpeg(64, 48);
    const origin = await startOrigin({ "/p.jpg": bytes(photo) });
    const service = await startImageService({ ...testConfig([origin.url]).config, port: 0 });
    try {
      const res = await fetch(`${service.url}/transform?url=/p.jpg&w=32&f=webp`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("image/webp");
      expect(res.headers.get("x-original-bytes")).toBe(String(photo.length));
      expect((await res.arrayBuffer()).byteLength).toBe(Number(res.headers.get("content-length")));
    } finally {
      await service.close();
      await origin.close();
    }
  });
});
