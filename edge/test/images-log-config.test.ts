import { describe, expect, it } from "vitest";
import { parseEdgeConfig } from "../src/config.ts";
import { parseImageEdgeConfig } from "../src/images/config.ts";
import { variantEdgeConfig } from "../src/images/index.ts";
import { CHROME_ACCEPT, MOBILE_UA, makeImages, uniqueDir, WEBP_ACCEPT } from "./images/helpers.ts";

describe("image log (RUM queue)", () => {
  it("sends one ImageLogMessage per image served, with format, device, width, cache status and bytes", async () => {
    const t = makeImages({ IMAGE_AVIF: "off" });
    const src = `${uniqueDir("log")}/photo.jpg`;
    const path = `/cdn-cgi/image/width=320,format=auto${src}`;
    await t.get(path, { accept: WEBP_ACCEPT, "user-agent": MOBILE_UA });
    await t.get(path, { accept: WEBP_ACCEPT, "user-agent": MOBILE_UA });
    await t.get(path, { accept: WEBP_ACCEPT }, "HEAD");
    expect(t.logged).toHaveLength(2);
    const [miss, hit] = t.logged;
    expect(miss).toMatchObject({
      kind: "image",
      site: "demo",
      format: "webp",
      device: "mobile",
      width: 320,
      cacheStatus: "MISS",
      fallback: false,
    });
    expect(hit?.cacheStatus).toBe("HIT");
    expect(miss?.originalBytes).toBeGreaterThan(miss?.deliveredBytes ?? Number.POSITIVE_INFINITY);
    expect(hit?.deliveredBytes).toBe(miss?.deliveredBytes);
    expect(typeof miss?.ts).toBe("number");
  });

  it("IMAGE_LOG_SAMPLE keeps that share of records and marks them with sampleRate", async () => {
    const draws = [0.1, 0.9, 0.2, 0.6];
    const t = makeImages(
      { IMAGE_AVIF: "off", IMAGE_LOG_SAMPLE: "0.5" },
      { random: () => draws.shift() ?? 0 },
    );
    const src = `${uniqueDir("sample")}/small.jpg`;
    for (let i = 0; i < 4; i++) await t.get(`/cdn-cgi/image/width=160${src}`, { accept: WEBP_ACCEPT });
    expect(t.logged).toHaveLength(2);
    expect(t.logged.map((m) => m.sampleRate)).toEqual([0.5, 0.5]);
    expect(() => parseImageEdgeConfig({ IMAGE_LOG_SAMPLE: "0" })).toThrow(
      'Invalid config IMAGE_LOG_SAMPLE: must be a number in (0, 1] (got "0")',
    );
  });

  it("logs nothing for client errors and with IMAGE_LOG=false", async () => {
    const t = makeImages();
    await t.get("/cdn-cgi/image/width=-1/img/x/photo.jpg");
    expect(t.logged).toHaveLength(0);
    const quiet = makeImages({ IMAGE_LOG: "false", IMAGE_AVIF: "off" });
    await quiet.get(`/cdn-cgi/image/width=160${uniqueDir("quiet")}/small.jpg`, { accept: CHROME_ACCEPT });
    expect(quiet.logged).toHaveLength(0);
  });
});

describe("image config", () => {
  it("has documented defaults", () => {
    const c = parseImageEdgeConfig({});
    expect(c.serviceUrl).toBeNull();
    expect(c.avif).toBe("guard");
    expect(c.avifMinBytes).toBe(50_000);
    expect(c.timeoutMs).toBe(4000);
    expect(c.rewriteHtml).toBeNull();
    expect(c.acceptCh).toBe(true);
    expect(c.pauseMs).toBe(5000);
    expect(c.hotCacheBytes).toBe(16 * 1024 * 1024);
    const v = variantEdgeConfig(parseEdgeConfig({ ORIGIN_URL: "http://o.test" }), c);
    expect(v.originBase).toBe("http://image-variants.invalid");
    expect(v.originTimeoutMs).toBe(4000);
    expect(v.hotCacheBytes).toBe(16 * 1024 * 1024);
    expect(v.edgeLog).toBe(false);
    expect(c.negotiation.widths).toEqual([160, 320, 480, 640, 768, 1024, 1280, 1536, 1920, 2560]);
  });

  it("names the key and the value of a bad setting", () => {
    const bad: [Record<string, string>, string][] = [
      [
        { IMAGE_WIDTHS: "320,abc" },
        'Invalid config IMAGE_WIDTHS: must be a comma list of integers between 1 and 8192 (got "320,abc")',
      ],
      [
        { IMAGE_WIDTHS: "640,320" },
        'Invalid config IMAGE_WIDTHS: widths must be strictly ascending (got "640,320")',
      ],
      [{ IMAGE_AVIF: "maybe" }, 'Invalid config IMAGE_AVIF: must be one of off, always, guard (got "maybe")'],
      [{ IMAGE_AVIF_MIN_BYTES: "-1" }, "Invalid config IMAGE_AVIF_MIN_BYTES"],
      [
        { IMAGE_TIMEOUT_MS: "0" },
        'Invalid config IMAGE_TIMEOUT_MS: must be an integer between 1 and 120000 (got "0")',
      ],
      [
        { IMAGE_SERVICE_URL: "ftp://x" },
        'Invalid config IMAGE_SERVICE_URL: must be an http(s) URL without query or fragment (got "ftp://x")',
      ],
      [{ IMAGE_SERVICE_URL: "not a url" }, "Invalid config IMAGE_SERVICE_URL"],
      [{ IMAGE_SIGNING_KEY: "short" }, "Invalid config IMAGE_SIGNING_KEY: must be at least 16 characters"],
      [
        { IMAGE_REWRITE_HTML: "p/*" },
        'Invalid config IMAGE_REWRITE_HTML: must be on/off or a comma list of path globs starting with "/" (got "p/*")',
      ],
      [{ IMAGE_ACCEPT_CH: "sometimes" }, "Invalid config IMAGE_ACCEPT_CH"],
    ];
    for (const [env, msg] of bad) expect(() => parseImageEdgeConfig(env), JSON.stringify(env)).toThrow(msg);
    expect(parseImageEdgeConfig({ IMAGE_SERVICE_URL: "http://img.test:8788/" }).serviceUrl).toBe(
      "http://img.test:8788",
    );
  });
});
