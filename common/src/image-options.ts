/**
 * Image transform options: one typed object parsed from either Cloudflare's URL form
 * (`width=400,quality=75,format=auto` in `/cdn-cgi/image/<options>/<source>`) or the image
 * service's query form (`?w=400&q=75&f=webp`). Pure: no runtime imports, no clock.
 */

import {
  fail,
  ImageOptionsError,
  parseBoolean,
  parseColor,
  parseEnum,
  parseGravity,
  parseInteger,
  parseQuality,
  parseStepped,
  parseTrim,
} from "./image-option-values.ts";

export { ImageOptionsError } from "./image-option-values.ts";

export const IMAGE_FITS = [
  "scale-down",
  "contain",
  "cover",
  "crop",
  "pad",
  "squeeze",
  "aspect-crop",
] as const;
export type ImageFit = (typeof IMAGE_FITS)[number];

/** A named gravity (`auto`, `left`, `top-right`, …) or an `XxY` focal point such as `0.5x0.33`. */
export type ImageGravity = string;

/** Concrete output formats the service can encode. */
export const IMAGE_OUTPUT_FORMATS = ["jpeg", "png", "webp", "avif", "gif"] as const;
export type ImageOutputFormat = (typeof IMAGE_OUTPUT_FORMATS)[number];
/** `baseline-jpeg` = sequential JPEG (plain `jpeg` is progressive, as on Cloudflare); `json` = image facts. */
export type ImageFormatOption = ImageOutputFormat | "auto" | "baseline-jpeg" | "json";

export const IMAGE_METADATA = ["none", "copyright", "keep"] as const;
export type ImageMetadata = (typeof IMAGE_METADATA)[number];

/** Largest width/height a request may ask for (before `dpr`). */
export const MAX_IMAGE_DIMENSION = 8192;

/** Parsed, validated, stepped options. Absent keys mean "default" (see the image-service README). */
export interface ImageOptions {
  width?: number;
  height?: number;
  /** Device pixel ratio multiplier for width/height, 1–4, one decimal. */
  dpr?: number;
  fit?: ImageFit;
  gravity?: ImageGravity;
  /** 5–100 in steps of 5. */
  quality?: number;
  format?: ImageFormatOption;
  sharpen?: number;
  blur?: number;
  /** Background for `fit=pad` and for flattening alpha into JPEG: `rrggbb` or `rrggbbaa`, lowercase. */
  background?: string;
  metadata?: ImageMetadata;
  /** `false` keeps only the first frame of animated input. */
  anim?: boolean;
  /** Degrees, applied after EXIF orientation; width/height refer to the rotated axes. */
  rotate?: number;
  flip?: "h" | "v" | "hv";
  /** Pixels cut off before resizing: `top;right;bottom;left`. */
  trim?: string;
  "trim.width"?: number;
  "trim.height"?: number;
  "trim.left"?: number;
  "trim.top"?: number;
  brightness?: number;
  contrast?: number;
  saturation?: number;
  /** `fast`: JPEG instead of WebP/AVIF for `format=auto`. */
  compression?: "fast";
  /** Edge only: quality used when the client hints a slow connection. */
  "slow-connection-quality"?: number;
  /** Edge only: redirect to the source (same site) when the variant cannot be produced. */
  onerror?: "redirect";
}

export type ImageOptionKey = keyof ImageOptions;

/** Canonical key order: the order `formatOptions` writes, so equal options give equal strings. */
export const IMAGE_OPTION_KEYS: readonly ImageOptionKey[] = [
  "width",
  "height",
  "dpr",
  "fit",
  "gravity",
  "quality",
  "format",
  "sharpen",
  "blur",
  "background",
  "metadata",
  "anim",
  "rotate",
  "flip",
  "trim",
  "trim.width",
  "trim.height",
  "trim.left",
  "trim.top",
  "brightness",
  "contrast",
  "saturation",
  "compression",
  "slow-connection-quality",
  "onerror",
];

/** Options that only steer the edge; they never reach the image service or the variant cache key. */
export const EDGE_ONLY_OPTIONS: readonly ImageOptionKey[] = ["slow-connection-quality", "onerror"];

/** Cloudflare's short aliases. */
const ALIASES: Readonly<Record<string, ImageOptionKey>> = {
  w: "width",
  h: "height",
  q: "quality",
  f: "format",
  g: "gravity",
  scq: "slow-connection-quality",
};

/** Cloudflare options recognised but refused, with the reason (400 names them). */
const UNSUPPORTED: Readonly<Record<string, string>> = {
  gamma: "gamma is not supported",
  zoom: "zoom is not supported (it only applies to gravity=face, which needs face detection)",
  segment: "segment is not supported (background removal needs an AI model)",
  border: "border is not supported",
  "origin-auth": "origin-auth is not supported (sources are fetched without credentials)",
};

const FORMATS: readonly ImageFormatOption[] = [...IMAGE_OUTPUT_FORMATS, "auto", "baseline-jpeg", "json"];

function setOption(opts: ImageOptions, key: ImageOptionKey, raw: string): void {
  switch (key) {
    case "width":
    case "height":
      opts[key] = parseInteger(key, raw, 1, MAX_IMAGE_DIMENSION);
      return;
    case "dpr":
      opts.dpr = parseStepped(key, raw, 1, 4);
      return;
    case "fit":
      opts.fit = parseEnum(key, raw, IMAGE_FITS);
      return;
    case "gravity":
      opts.gravity = parseGravity(key, raw);
      return;
    case "quality":
    case "slow-connection-quality":
      opts[key] = parseQuality(key, raw);
      return;
    case "format":
      opts.format = parseEnum<ImageFormatOption>(key, raw === "jpg" ? "jpeg" : raw, FORMATS);
      return;
    case "sharpen":
      opts.sharpen = parseStepped(key, raw, 0, 10);
      return;
    case "blur":
      opts.blur = parseStepped(key, raw, 0, 250);
      return;
    case "brightness":
    case "contrast":
    case "saturation":
      opts[key] = parseStepped(key, raw, 0, 10);
      return;
    case "background":
      opts.background = parseColor(key, raw);
      return;
    case "metadata":
      opts.metadata = parseEnum(key, raw, IMAGE_METADATA);
      return;
    case "anim":
      opts.anim = parseBoolean(key, raw);
      return;
    case "rotate":
      opts.rotate = Number(parseEnum(key, raw, ["0", "90", "180", "270"]));
      return;
    case "flip":
      opts.flip = parseEnum(key, raw, ["h", "v", "hv"] as const);
      return;
    case "trim":
      opts.trim = parseTrim(key, raw);
      return;
    case "trim.width":
    case "trim.height":
      opts[key] = parseInteger(key, raw, 1, 100_000);
      return;
    case "trim.left":
    case "trim.top":
      opts[key] = parseInteger(key, raw, 0, 100_000);
      return;
    case "compression":
      opts.compression = parseEnum(key, raw, ["fast"] as const);
      return;
    case "onerror":
      opts.onerror = parseEnum(key, raw, ["redirect"] as const);
      return;
  }
}

/** Resolves a name to its option key; `undefined` for `upscale=interpolate` (the default, ignored). */
function canonicalKey(name: string, value: string): ImageOptionKey | undefined {
  const alias = ALIASES[name];
  if (alias !== undefined) return alias;
  const key = IMAGE_OPTION_KEYS.find((k) => k === name);
  if (key !== undefined) return key;
  if (name === "upscale") {
    if (value === "interpolate") return undefined;
    throw new ImageOptionsError(name, `upscale=${value} is not supported (only upscale=interpolate)`);
  }
  const why = UNSUPPORTED[name];
  if (why !== undefined) throw new ImageOptionsError(name, `Unsupported option ${name}: ${why}`);
  throw new ImageOptionsError(
    name,
    `Unknown option ${JSON.stringify(name)}: expected one of ${[...IMAGE_OPTION_KEYS, ...Object.keys(ALIASES), "upscale"].join(", ")} for option name but received ${JSON.stringify(name)}`,
  );
}

/**
 * Parses `[name, value]` pairs (already percent-decoded) into options. Accepts full names and
 * Cloudflare's aliases `w`, `h`, `q`, `f`, `g`, `scq`; rejects unknown names (400 naming the
 * option), repeated keys and bad values; steps values (see image-option-values.ts).
 */
export function parseImageOptionPairs(pairs: Iterable<readonly [string, string]>): ImageOptions {
  const opts: ImageOptions = {};
  const seen = new Set<string>();
  for (const [name, value] of pairs) {
    const key = canonicalKey(name, value);
    const id = key ?? name;
    if (seen.has(id)) throw new ImageOptionsError(id, `Expected ${id} at most once but received it twice`);
    seen.add(id);
    if (key !== undefined) setOption(opts, key, value);
  }
  return opts;
}

function decode(key: string, raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return fail(key, "valid percent-encoding", raw);
  }
}

/**
 * Parses Cloudflare's option form `width=400,quality=75,format=auto` (values may be
 * percent-encoded, e.g. `background=%23ffffff`). Empty string → `{}`.
 */
export function parseImageOptions(text: string): ImageOptions {
  if (text === "") return {};
  const pairs = text.split(",").map((part): [string, string] => {
    const eq = part.indexOf("=");
    if (eq <= 0) fail("option", "key=value", part);
    const name = decode("option", part.slice(0, eq));
    return [name, decode(name, part.slice(eq + 1))];
  });
  return parseImageOptionPairs(pairs);
}

/**
 * Parses the service's query form. `reserved` names (default `url` and `sig`) are skipped so
 * the caller can read them itself; every other parameter must be an option.
 */
export function parseImageQuery(
  params: Iterable<readonly [string, string]>,
  reserved: readonly string[] = ["url", "sig"],
): ImageOptions {
  const pairs: [string, string][] = [];
  for (const [k, v] of params) if (!reserved.includes(k)) pairs.push([k, v]);
  return parseImageOptionPairs(pairs);
}

/**
 * Canonical option string in a stable key order with full names (`width=400,quality=75`), which
 * `parseImageOptions` reads back to equal options; usable as (part of) a cache key. `{}` → "".
 */
export function formatOptions(opts: ImageOptions): string {
  const parts: string[] = [];
  for (const key of IMAGE_OPTION_KEYS) {
    const value = opts[key];
    if (value !== undefined) parts.push(`${key}=${String(value)}`);
  }
  return parts.join(",");
}

/** Same canonical options as a query string (`w`-style aliases are not used): `width=400&quality=75`. */
export function formatOptionsQuery(opts: ImageOptions): string {
  return formatOptions(opts).replaceAll(",", "&");
}

export const CDN_CGI_IMAGE_PREFIX = "/cdn-cgi/image/";

/**
 * Splits `/cdn-cgi/image/<options>/<source>` into options and source. The source is either a
 * path (`/img/a.jpg`) or an absolute http(s) URL; protocol-relative sources (`//host/…`) are
 * refused because they would leave the site's origin. Throws `ImageOptionsError`.
 */
export function parseImagePath(pathname: string): { options: ImageOptions; sourcePath: string } {
  if (!pathname.startsWith(CDN_CGI_IMAGE_PREFIX))
    fail("path", `a path starting with ${CDN_CGI_IMAGE_PREFIX}`, pathname);
  const rest = pathname.slice(CDN_CGI_IMAGE_PREFIX.length);
  const slash = rest.indexOf("/");
  if (slash <= 0) fail("path", "/cdn-cgi/image/<options>/<source>", pathname);
  const options = parseImageOptions(rest.slice(0, slash));
  const source = rest.slice(slash + 1);
  if (/^https?:\/\/[^/]/i.test(source)) return { options, sourcePath: source };
  if (source === "" || source.startsWith("/") || /^[a-z][a-z0-9+.-]*:/i.test(source)) {
    fail("source", "a source path or http(s) URL", source);
  }
  return { options, sourcePath: `/${source}` };
}

/** One media range from `Accept` with its q-value. */
function acceptQ(accept: string, type: string): number {
  for (const range of accept.toLowerCase().split(",")) {
    const [mime, ...params] = range.trim().split(";");
    if (mime?.trim() !== type) continue;
    for (const p of params) {
      const [k, v] = p.trim().split("=");
      if (k === "q" && v !== undefined) return Number.isFinite(Number(v)) ? Number(v) : 0;
    }
    return 1;
  }
  return 0;
}

/**
 * Resolves `format=auto` from an `Accept` header: AVIF (if `allowAvif`, default true), then
 * WebP, then GIF for animations, PNG for images with alpha, else JPEG.
 */
export function chooseImageFormat(
  accept: string | null | undefined,
  source: { hasAlpha?: boolean; animated?: boolean; allowAvif?: boolean } = {},
): ImageOutputFormat {
  const a = accept ?? "";
  if (source.allowAvif !== false && !source.animated && acceptQ(a, "image/avif") > 0) return "avif";
  if (acceptQ(a, "image/webp") > 0) return "webp";
  if (source.animated) return "gif";
  return source.hasAlpha ? "png" : "jpeg";
}

/**
 * The exact bytes an HMAC signature covers: canonical options, a newline, then the source as
 * given in the request (`/img/a.jpg` or an absolute URL). Signer and verifier both use this.
 */
export function imageSignaturePayload(opts: ImageOptions, source: string): string {
  return `${formatOptions(opts)}\n${source}`;
}
