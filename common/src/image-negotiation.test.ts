import { describe, expect, it } from "vitest";
import {
  avifDecision,
  DEFAULT_IMAGE_WIDTHS,
  DEFAULT_NEGOTIATION,
  type ImageClientHints,
  imageHintsFrom,
  negotiateImage,
  snapWidth,
} from "./image-negotiation.ts";

const none: ImageClientHints = {
  accept: null,
  width: null,
  dpr: null,
  viewportWidth: null,
  saveData: null,
  ect: null,
  device: "desktop",
};
const chrome = "image/avif,image/webp,image/apng,image/*,*/*;q=0.8";

describe("snapWidth", () => {
  it("rounds up to the next allowed width and caps at the largest", () => {
    expect(snapWidth(300, DEFAULT_IMAGE_WIDTHS)).toBe(320);
    expect(snapWidth(320, DEFAULT_IMAGE_WIDTHS)).toBe(320);
    expect(snapWidth(1, DEFAULT_IMAGE_WIDTHS)).toBe(160);
    expect(snapWidth(9000, DEFAULT_IMAGE_WIDTHS)).toBe(2560);
  });
  it("keeps every width in the allow-list, so variants per image are bounded", () => {
    const seen = new Set<number>();
    for (let t = 1; t < 5000; t += 7) seen.add(snapWidth(t, DEFAULT_IMAGE_WIDTHS));
    expect([...seen].every((w) => DEFAULT_IMAGE_WIDTHS.includes(w as never))).toBe(true);
  });
});

describe("negotiateImage", () => {
  it("resolves format=auto from Accept: AVIF, then WebP, then JPEG", () => {
    expect(negotiateImage({ format: "auto" }, { ...none, accept: chrome }).options.format).toBe("avif");
    expect(
      negotiateImage({ format: "auto" }, { ...none, accept: chrome }, DEFAULT_NEGOTIATION, {
        allowAvif: false,
      }).options.format,
    ).toBe("webp");
    expect(negotiateImage({ format: "auto" }, { ...none, accept: "image/webp,*/*" }).options.format).toBe(
      "webp",
    );
    expect(negotiateImage({ format: "auto" }, { ...none, accept: "*/*" }).options.format).toBe("jpeg");
  });

  it("keeps an explicit format", () => {
    expect(negotiateImage({ format: "png" }, { ...none, accept: chrome }).options.format).toBe("png");
  });

  it("honours an explicit width exactly, times dpr, never snapped", () => {
    const v = negotiateImage({ width: 400, dpr: 2 }, none);
    expect(v.options.width).toBe(800);
    expect(v.options.dpr).toBeUndefined();
    expect(v.widthSource).toBe("option");
    expect(negotiateImage({ width: 400 }, none).options.width).toBe(400);
    expect(negotiateImage({ width: 333, dpr: 1.5 }, none).options.width).toBe(500);
  });

  it("keeps a height-only request height-only (no edge-chosen width added)", () => {
    const v = negotiateImage({ height: 250, dpr: 2 }, { ...none, device: "mobile" });
    expect(v.options).toMatchObject({ height: 500 });
    expect(v.options.width).toBeUndefined();
  });

  it("scales trim by dpr, as Cloudflare's trim takes dpr into account", () => {
    const v = negotiateImage({ width: 100, dpr: 2, trim: "1;2;3;4", "trim.width": 50 }, none);
    expect(v.options).toMatchObject({ width: 200, trim: "2;4;6;8", "trim.width": 100 });
  });

  it("applies dpr= to an edge-chosen width before snapping", () => {
    expect(negotiateImage({ dpr: 2 }, { ...none, width: "300" }).options.width).toBe(640);
  });

  it("uses Sec-CH-Width, then viewport × DPR, then the device class", () => {
    expect(negotiateImage({}, { ...none, width: "700" }).options.width).toBe(768);
    expect(negotiateImage({}, { ...none, viewportWidth: "390", dpr: "3" }).options.width).toBe(1280);
    const mobile = negotiateImage({}, { ...none, device: "mobile" });
    expect(mobile.widthSource).toBe("device-class");
    expect(mobile.options.width).toBe(1280); // 412 × 2.625 = 1081.5 → 1280
    expect(negotiateImage({}, { ...none, device: "desktop" }).options.width).toBe(1536);
  });

  it("ignores malformed hints instead of trusting them", () => {
    const v = negotiateImage({}, { ...none, width: "-5", viewportWidth: "abc", dpr: "NaN" });
    expect(v.widthSource).toBe("device-class");
  });

  it("lowers quality for Save-Data and slow connections, in steps", () => {
    const base = negotiateImage({ format: "webp" }, none).options.quality;
    const saver = negotiateImage({ format: "webp" }, { ...none, saveData: "on" }).options.quality;
    const slow = negotiateImage({ format: "webp" }, { ...none, ect: "2g" }).options.quality;
    expect(base).toBe(75);
    expect(saver).toBe(45); // 75 × 0.65 = 48.75 → 45
    expect(slow).toBe(45);
    // An explicit quality is kept as asked (Cloudflare's contract); slow-connection-quality is the opt-in.
    expect(negotiateImage({ format: "webp", quality: 90 }, { ...none, ect: "3g" }).options.quality).toBe(90);
    expect(negotiateImage({ format: "jpeg" }, { ...none, ect: "4g" }).options.quality).toBe(80);
  });

  it("keeps explicit width and height exactly", () => {
    const v = negotiateImage({ width: 300, height: 150 }, none);
    expect(v.options.width).toBe(300);
    expect(v.options.height).toBe(150);
  });

  it("uses slow-connection-quality only when a hint says the connection is slow", () => {
    const q = (h: Partial<ImageClientHints>) =>
      negotiateImage({ format: "webp", quality: 80, "slow-connection-quality": 40 }, { ...none, ...h })
        .options.quality;
    expect(q({})).toBe(80);
    expect(q({ saveData: "on" })).toBe(40);
    expect(q({ ect: "3g" })).toBe(40);
    expect(q({ ect: "4g" })).toBe(80);
    expect(q({ rtt: "200" })).toBe(40);
    expect(q({ rtt: "100" })).toBe(80);
    expect(q({ downlink: "1.5" })).toBe(40);
    expect(q({ downlink: "10" })).toBe(80);
  });

  it("drops edge-only options and honours compression=fast for format=auto", () => {
    const v = negotiateImage(
      { width: 10, onerror: "redirect", "slow-connection-quality": 40, compression: "fast", format: "auto" },
      { ...none, accept: chrome },
    );
    expect(v.options.onerror).toBeUndefined();
    expect(v.options["slow-connection-quality"]).toBeUndefined();
    expect(v.options.format).toBe("jpeg");
  });
});

describe("explicit width and DPR", () => {
  it("does not let the DPR hint enlarge an explicit width (srcset w descriptors stay true)", () => {
    expect(negotiateImage({ width: 320 }, { ...none, dpr: "3" }).options.width).toBe(320);
    expect(negotiateImage({ width: 300 }, { ...none, dpr: "2" }).options.width).toBe(300);
  });
  it("caps only edge-chosen widths at the largest allowed width", () => {
    expect(negotiateImage({}, { ...none, width: "8000" }).options.width).toBe(2560);
    expect(negotiateImage({ width: 8000 }, none).options.width).toBe(8000);
  });
});

describe("imageHintsFrom", () => {
  it("reads every negotiation header by its lower-case name", () => {
    const h = new Map([
      ["accept", "image/webp"],
      ["sec-ch-width", "500"],
      ["sec-ch-dpr", "2"],
      ["sec-ch-viewport-width", "400"],
      ["save-data", "on"],
      ["ect", "3g"],
    ]);
    expect(imageHintsFrom((n) => h.get(n) ?? null, "mobile")).toEqual({
      accept: "image/webp",
      width: "500",
      dpr: "2",
      viewportWidth: "400",
      saveData: "on",
      ect: "3g",
      rtt: null,
      downlink: null,
      device: "mobile",
    });
  });
});

describe("avifDecision", () => {
  const base = {
    mode: "guard" as const,
    acceptsAvif: true,
    sourceBytes: null,
    minBytes: 50_000,
    variantReady: false,
  };
  it("off never, always whenever Accept allows", () => {
    expect(avifDecision({ ...base, mode: "off", variantReady: true })).toEqual({
      allowAvif: false,
      warm: false,
    });
    expect(avifDecision({ ...base, mode: "always" })).toEqual({ allowAvif: true, warm: false });
    expect(avifDecision({ ...base, mode: "always", acceptsAvif: false }).allowAvif).toBe(false);
  });
  it("guard: WebP until the AVIF variant is ready; warms only large sources", () => {
    expect(avifDecision(base)).toEqual({ allowAvif: false, warm: false });
    expect(avifDecision({ ...base, sourceBytes: 49_999 })).toEqual({ allowAvif: false, warm: false });
    expect(avifDecision({ ...base, sourceBytes: 50_000 })).toEqual({ allowAvif: false, warm: true });
    expect(avifDecision({ ...base, sourceBytes: 80_000, variantReady: true })).toEqual({
      allowAvif: true,
      warm: false,
    });
    expect(avifDecision({ ...base, sourceBytes: 80_000, acceptsAvif: false })).toEqual({
      allowAvif: false,
      warm: false,
    });
  });
});
