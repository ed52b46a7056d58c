import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { NAMED_GRAVITIES as IMAGE_GRAVITIES } from "./image-option-values.ts";
import {
  chooseImageFormat,
  formatOptions,
  formatOptionsQuery,
  IMAGE_FITS,
  IMAGE_OUTPUT_FORMATS,
  type ImageOptions,
  ImageOptionsError,
  imageSignaturePayload,
  parseImageOptions,
  parseImagePath,
  parseImageQuery,
} from "./image-options.ts";

describe("parseImageOptions (Cloudflare form)", () => {
  const good: [string, ImageOptions][] = [
    ["width=400", { width: 400 }],
    ["w=1", { width: 1 }],
    ["width=8192", { width: 8192 }],
    ["height=300", { height: 300 }],
    ["h=8192", { height: 8192 }],
    ["dpr=1", { dpr: 1 }],
    ["dpr=2.5", { dpr: 2.5 }],
    ["dpr=4", { dpr: 4 }],
    ["dpr=2.625", { dpr: 2.6 }],
    ...IMAGE_FITS.map((f): [string, ImageOptions] => [`fit=${f}`, { fit: f }]),
    ...IMAGE_GRAVITIES.map((g): [string, ImageOptions] => [`gravity=${g}`, { gravity: g }]),
    ["quality=1", { quality: 5 }],
    ["quality=73", { quality: 75 }],
    ["quality=77", { quality: 75 }],
    ["quality=78", { quality: 80 }],
    ["q=100", { quality: 100 }],
    ["q=high", { quality: 90 }],
    ["quality=low", { quality: 50 }],
    ["gravity=0x1", { gravity: "0x1" }],
    ["g=0.5x0.333", { gravity: "0.5x0.33" }],
    ["gravity=1.0x0.50", { gravity: "1x0.5" }],
    ["format=baseline-jpeg", { format: "baseline-jpeg" }],
    ["format=json", { format: "json" }],
    ["rotate=90", { rotate: 90 }],
    ["flip=hv", { flip: "hv" }],
    ["trim=20;30;20;0", { trim: "20;30;20;0" }],
    ["trim.width=678,trim.left=30", { "trim.width": 678, "trim.left": 30 }],
    ["brightness=0.55", { brightness: 0.6 }],
    ["contrast=2,saturation=0", { contrast: 2, saturation: 0 }],
    ["compression=fast", { compression: "fast" }],
    ["onerror=redirect", { onerror: "redirect" }],
    ["scq=42", { "slow-connection-quality": 40 }],
    ["upscale=interpolate,width=10", { width: 10 }],
    ["metadata=copyright", { metadata: "copyright" }],
    ["background=red", { background: "ff0000" }],
    ["background=rgb%28240%2C40%2C145%29", { background: "f02891" }],
    ["background=rgba(255%20255%200%20%2F%2050%25)", { background: "ffff0080" }],
    ["background=rgba(0%2C0%2C0%2C0)", { background: "00000000" }],
    ...IMAGE_OUTPUT_FORMATS.map((f): [string, ImageOptions] => [`format=${f}`, { format: f }]),
    ["f=auto", { format: "auto" }],
    ["format=jpg", { format: "jpeg" }],
    ["sharpen=0", { sharpen: 0 }],
    ["sharpen=10", { sharpen: 10 }],
    ["sharpen=1.5", { sharpen: 1.5 }],
    ["sharpen=1.54", { sharpen: 1.5 }],
    ["blur=3.04", { blur: 3 }],
    ["blur=0", { blur: 0 }],
    ["blur=250", { blur: 250 }],
    ["background=%23FFF", { background: "ffffff" }],
    ["background=#00ff0080", { background: "00ff0080" }],
    ["background=#abcd", { background: "aabbccdd" }],
    ["background=123456", { background: "123456" }],
    ["background=#123456ff", { background: "123456" }],
    ["background=white", { background: "ffffff" }],
    ["background=transparent", { background: "00000000" }],
    ["metadata=none", { metadata: "none" }],
    ["metadata=keep", { metadata: "keep" }],
    ["anim=false", { anim: false }],
    ["anim=true", { anim: true }],
    ["anim=0", { anim: false }],
    ["", {}],
    [
      "width=400,quality=75,format=auto,fit=cover,gravity=attention",
      { width: 400, quality: 75, format: "auto", fit: "cover", gravity: "attention" },
    ],
  ];
  it.each(good)("parses %j", (text, expected) => {
    expect(parseImageOptions(text)).toEqual(expected);
  });

  const bad: [string, string][] = [
    ["width=-3", 'Expected integer between 1 and 8192 for width but received "-3"'],
    ["width=0", 'Expected integer between 1 and 8192 for width but received "0"'],
    ["width=8193", 'Expected integer between 1 and 8192 for width but received "8193"'],
    ["width=4.5", 'Expected integer between 1 and 8192 for width but received "4.5"'],
    ["width=abc", 'Expected integer between 1 and 8192 for width but received "abc"'],
    ["width=", 'Expected integer between 1 and 8192 for width but received ""'],
    ["w=1e3", 'Expected integer between 1 and 8192 for width but received "1e3"'],
    ["height=0", 'Expected integer between 1 and 8192 for height but received "0"'],
    ["h=99999", 'Expected integer between 1 and 8192 for height but received "99999"'],
    ["dpr=0.5", 'Expected number between 1 and 4 for dpr but received "0.5"'],
    ["dpr=5", 'Expected number between 1 and 4 for dpr but received "5"'],
    ["dpr=NaN", 'Expected number between 1 and 4 for dpr but received "NaN"'],
    ["dpr=Infinity", 'Expected number between 1 and 4 for dpr but received "Infinity"'],
    [
      "fit=zoom",
      'Expected one of scale-down, contain, cover, crop, pad, squeeze, aspect-crop for fit but received "zoom"',
    ],
    ["gravity=face", "gravity=face is not supported"],
    ["gravity=1.5x0", "for gravity but received"],
    ["rotate=45", 'Expected one of 0, 90, 180, 270 for rotate but received "45"'],
    ["flip=x", "for flip but received"],
    ["trim=1;2;3", "four pixel values"],
    ["trim=1;2;3;-4", "for trim but received"],
    ["onerror=ignore", 'Expected one of redirect for onerror but received "ignore"'],
    ["zoom=0.5", "Unsupported option zoom"],
    ["segment=foreground", "Unsupported option segment"],
    ["gamma=2", "Unsupported option gamma"],
    ["upscale=generate", "upscale=generate is not supported"],
    ["background=rgb(300%2C0%2C0)", "for background but received"],
    ["gravity=middle", "for gravity but received"],
    ["quality=0", 'Expected integer between 1 and 100 for quality but received "0"'],
    ["q=101", 'Expected integer between 1 and 100 for quality but received "101"'],
    ["q=best", 'Expected integer between 1 and 100 for quality but received "best"'],
    [
      "format=bmp",
      'Expected one of jpeg, png, webp, avif, gif, auto, baseline-jpeg, json for format but received "bmp"',
    ],
    ["f=JPEG", "for format but received"],
    ["sharpen=-1", 'Expected number between 0 and 10 for sharpen but received "-1"'],
    ["sharpen=11", 'Expected number between 0 and 10 for sharpen but received "11"'],
    ["blur=251", 'Expected number between 0 and 250 for blur but received "251"'],
    ["blur=x", 'Expected number between 0 and 250 for blur but received "x"'],
    ["background=hsl(0 0 0)", "for background but received"],
    ["background=#12", "for background but received"],
    ["background=#1234567", "for background but received"],
    ["metadata=all", 'Expected one of none, copyright, keep for metadata but received "all"'],
    ["anim=yes", 'Expected true or false for anim but received "yes"'],
    ["foo=1", 'Unknown option "foo"'],
    ["Width=1", 'for option name but received "Width"'],
    ["width=1,w=2", "Expected width at most once but received it twice"],
    ["width", 'Expected key=value for option but received "width"'],
    ["width=1,,q=2", 'Expected key=value for option but received ""'],
    ["=1", 'Expected key=value for option but received "=1"'],
    ["background=%zz", 'Expected valid percent-encoding for background but received "%zz"'],
  ];
  it.each(bad)("rejects %j", (text, message) => {
    let err: unknown;
    try {
      parseImageOptions(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ImageOptionsError);
    expect((err as Error).message).toContain(message);
  });
});

describe("parseImageQuery", () => {
  it("reads options and skips reserved url/sig", () => {
    const q = new URLSearchParams("url=/a.jpg&w=400&q=75&f=webp&sig=abc&fit=cover");
    expect(parseImageQuery(q)).toEqual({ width: 400, quality: 75, format: "webp", fit: "cover" });
  });
  it("rejects unknown and repeated keys", () => {
    expect(() => parseImageQuery(new URLSearchParams("url=/a.jpg&size=3"))).toThrow(/option name/);
    expect(() => parseImageQuery(new URLSearchParams("w=1&w=2"))).toThrow(/at most once/);
  });
});

describe("formatOptions", () => {
  it("writes a stable canonical order with full names", () => {
    const a = parseImageOptions("q=75,f=webp,w=400,fit=cover");
    const b = parseImageOptions("fit=cover,width=400,format=webp,quality=75");
    expect(formatOptions(a)).toBe("width=400,fit=cover,quality=75,format=webp");
    expect(formatOptions(b)).toBe(formatOptions(a));
    expect(formatOptionsQuery(a)).toBe("width=400&fit=cover&quality=75&format=webp");
  });

  const optionsArb: fc.Arbitrary<ImageOptions> = fc.record(
    {
      width: fc.integer({ min: 1, max: 8192 }),
      height: fc.integer({ min: 1, max: 8192 }),
      dpr: fc.constantFrom(1, 1.5, 2, 3.3, 4),
      fit: fc.constantFrom(...IMAGE_FITS),
      gravity: fc.constantFrom(...IMAGE_GRAVITIES, "0.5x0.33", "0x1"),
      quality: fc.integer({ min: 1, max: 20 }).map((n) => n * 5),
      rotate: fc.constantFrom(0, 90, 180, 270),
      flip: fc.constantFrom("h" as const, "v" as const, "hv" as const),
      trim: fc.constantFrom("0;0;0;0", "1;2;3;4"),
      brightness: fc.constantFrom(0.5, 1, 2.3),
      format: fc.constantFrom(...IMAGE_OUTPUT_FORMATS, "auto" as const, "baseline-jpeg" as const),
      sharpen: fc.constantFrom(0, 0.5, 10),
      blur: fc.constantFrom(0, 3, 250),
      background: fc.constantFrom("ffffff", "00000000", "12345680"),
      metadata: fc.constantFrom("none" as const, "copyright" as const, "keep" as const),
      anim: fc.boolean(),
    },
    { requiredKeys: [] },
  );
  it("round-trips through parseImageOptions and parseImageQuery", () => {
    fc.assert(
      fc.property(optionsArb, (opts) => {
        expect(parseImageOptions(formatOptions(opts))).toEqual(opts);
        expect(parseImageQuery(new URLSearchParams(formatOptionsQuery(opts)))).toEqual(opts);
      }),
    );
  });
});

describe("parseImagePath", () => {
  it("splits options and a source path", () => {
    expect(parseImagePath("/cdn-cgi/image/width=400,quality=75,format=auto/img/p/1.jpg")).toEqual({
      options: { width: 400, quality: 75, format: "auto" },
      sourcePath: "/img/p/1.jpg",
    });
  });
  it("accepts an absolute source URL", () => {
    const pathname = new URL("http://shop.test/cdn-cgi/image/w=80/https://img.example.com/a.png").pathname;
    expect(parseImagePath(pathname)).toEqual({
      options: { width: 80 },
      sourcePath: "https://img.example.com/a.png",
    });
  });
  it.each([
    ["/img/a.jpg", "path"],
    ["/cdn-cgi/image/", "path"],
    ["/cdn-cgi/image/width=80", "path"],
    ["/cdn-cgi/image//img/a.jpg", "path"],
    ["/cdn-cgi/image/width=80/", "source"],
    ["/cdn-cgi/image/width=80//evil.example/a.jpg", "source"],
    ["/cdn-cgi/image/width=80/javascript:alert(1)", "source"],
    ["/cdn-cgi/image/width=80/file:///etc/passwd", "source"],
    ["/cdn-cgi/image/width=-1/img/a.jpg", "width"],
  ])("rejects %s (%s)", (pathname, key) => {
    try {
      parseImagePath(pathname);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ImageOptionsError);
      expect((e as ImageOptionsError).key).toBe(key);
    }
  });
});

describe("chooseImageFormat", () => {
  it.each([
    ["image/avif,image/webp,*/*", {}, "avif"],
    ["image/avif,image/webp,*/*", { allowAvif: false }, "webp"],
    ["image/avif;q=0,image/webp", {}, "webp"],
    ["image/webp,*/*", {}, "webp"],
    ["image/png,*/*", {}, "jpeg"],
    ["*/*", { hasAlpha: true }, "png"],
    [null, {}, "jpeg"],
    ["image/avif,image/webp", { animated: true }, "webp"],
    ["image/png", { animated: true }, "gif"],
  ] as const)("Accept %j %j → %s", (accept, source, expected) => {
    expect(chooseImageFormat(accept, source)).toBe(expected);
  });
});

describe("imageSignaturePayload", () => {
  it("covers canonical options and the source, so equivalent spellings sign alike", () => {
    const a = imageSignaturePayload(parseImageOptions("w=400,q=75"), "/a.jpg");
    expect(a).toBe("width=400,quality=75\n/a.jpg");
    expect(imageSignaturePayload(parseImageOptions("quality=75,width=400"), "/a.jpg")).toBe(a);
    expect(imageSignaturePayload(parseImageOptions("quality=75,width=400"), "/b.jpg")).not.toBe(a);
  });
});
