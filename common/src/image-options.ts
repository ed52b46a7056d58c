/**
 * Image transform options: one typed object parsed from either Cloudflare's URL form
 * (`width=400,quality=75,format=auto` in `/cdn-cgi/image/<options>/<source>`) or the image
 * service's query form (`?w=400&q=75&f=webp`). Pure: no runtime imports, no clock.
 */

export const IMAGE_FITS = ["scale-down", "contain", "cover", "crop", "pad"] as const;
export type ImageFit = (typeof IMAGE_FITS)[number];

export const IMAGE_GRAVITIES = [
  "auto",
  "center",
  "top",
  "bottom",
  "left",
  "right",
  "top-left",
  "top-right",
  "bottom-left",
  "bottom-right",
  "attention",
  "entropy",
] as const;
export type ImageGravity = (typeof IMAGE_GRAVITIES)[number];

/** Concrete output formats the service can encode. */
export const IMAGE_OUTPUT_FORMATS = ["jpeg", "png", "webp", "avif", "gif"] as const;
export type ImageOutputFormat = (typeof IMAGE_OUTPUT_FORMATS)[number];
export type ImageFormatOption = ImageOutputFormat | "auto";

export const IMAGE_METADATA = ["none", "keep"] as const;
export type ImageMetadata = (typeof IMAGE_METADATA)[number];

/** Largest width/height a request may ask for (before `dpr`). */
export const MAX_IMAGE_DIMENSION = 8192;

/** Parsed, validated options. Absent keys mean "service default" (see the image-service README). */
export interface ImageOptions {
  width?: number;
  height?: number;
  /** Device pixel ratio multiplier for width/height, 1–4. */
  dpr?: number;
  fit?: ImageFit;
  gravity?: ImageGravity;
  quality?: number;
  format?: ImageFormatOption;
  sharpen?: number;
  blur?: number;
  /** Background for `fit=pad` and for flattening alpha into JPEG: `rrggbb` or `rrggbbaa`, lowercase. */
  background?: string;
  metadata?: ImageMetadata;
  /** `false` keeps only the first frame of animated input. */
  anim?: boolean;
}

export type ImageOptionKey = keyof ImageOptions;

/** Thrown for any invalid option; `message` is safe to show to clients. */
export class ImageOptionsError extends Error {
  readonly key: string;
  constructor(key: string, message: string) {
    super(message);
    this.name = "ImageOptionsError";
    this.key = key;
  }
}

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
];

/** Cloudflare's short aliases. */
const ALIASES: Readonly<Record<string, ImageOptionKey>> = {
  w: "width",
  h: "height",
  q: "quality",
  f: "format",
};

const NAMED_COLORS: Readonly<Record<string, string>> = {
  white: "ffffff",
  black: "000000",
  transparent: "00000000",
};

function fail(key: string, expected: string, received: string): never {
  throw new ImageOptionsError(
    key,
    `Expected ${expected} for ${key} but received ${JSON.stringify(received)}`,
  );
}

function parseInteger(key: string, raw: string, min: number, max: number): number {
  const n = /^-?\d{1,9}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max) fail(key, `integer between ${min} and ${max}`, raw);
  return n;
}

function parseDecimal(key: string, raw: string, min: number, max: number): number {
  const n = /^-?\d{1,9}(\.\d{1,6})?$|^-?\.\d{1,6}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isFinite(n) || n < min || n > max) fail(key, `number between ${min} and ${max}`, raw);
  return n;
}

function parseEnum<T extends string>(key: string, raw: string, allowed: readonly T[]): T {
  const found = allowed.find((a) => a === raw);
  if (found === undefined) fail(key, `one of ${allowed.join(", ")}`, raw);
  return found;
}

function parseColor(key: string, raw: string): string {
  const lower = raw.toLowerCase();
  const named = NAMED_COLORS[lower];
  if (named !== undefined) return named;
  const hex = lower.startsWith("#") ? lower.slice(1) : lower;
  if (!/^([0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})$/.test(hex)) {
    fail(key, "colour #rgb, #rgba, #rrggbb, #rrggbbaa, white, black or transparent", raw);
  }
  const full = hex.length <= 4 ? [...hex].map((c) => c + c).join("") : hex;
  // Opaque colours are written without the alpha byte so equal colours have one spelling.
  return full.length === 8 && full.endsWith("ff") ? full.slice(0, 6) : full;
}

function parseBoolean(key: string, raw: string): boolean {
  if (raw === "true" || raw === "1") return true;
  if (raw === "false" || raw === "0") return false;
  return fail(key, "true or false", raw);
}

function setOption(opts: ImageOptions, key: ImageOptionKey, raw: string): void {
  switch (key) {
    case "width":
      opts.width = parseInteger(key, raw, 1, MAX_IMAGE_DIMENSION);
      return;
    case "height":
      opts.height = parseInteger(key, raw, 1, MAX_IMAGE_DIMENSION);
      return;
    case "dpr":
      opts.dpr = parseDecimal(key, raw, 1, 4);
      return;
    case "fit":
      opts.fit = parseEnum(key, raw, IMAGE_FITS);
      return;
    case "gravity":
      opts.gravity = parseEnum(key, raw, IMAGE_GRAVITIES);
      return;
    case "quality":
      opts.quality = parseInteger(key, raw, 1, 100);
      return;
    case "format":
      opts.format = parseEnum<ImageFormatOption>(key, raw === "jpg" ? "jpeg" : raw, [
        ...IMAGE_OUTPUT_FORMATS,
        "auto",
      ]);
      return;
    case "sharpen":
      opts.sharpen = parseDecimal(key, raw, 0, 10);
      return;
    case "blur":
      opts.blur = parseDecimal(key, raw, 0, 250);
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
  }
}

function canonicalKey(name: string): ImageOptionKey {
  const alias = ALIASES[name];
  if (alias !== undefined) return alias;
  const key = IMAGE_OPTION_KEYS.find((k) => k === name);
  if (key === undefined) {
    throw new ImageOptionsError(
      name,
      `Expected one of ${[...IMAGE_OPTION_KEYS, ...Object.keys(ALIASES)].join(", ")} for option name but received ${JSON.stringify(name)}`,
    );
  }
  return key;
}

/**
 * Parses `[name, value]` pairs (already percent-decoded) into options. Accepts full names and
 * Cloudflare's aliases `w`, `h`, `q`, `f`; rejects unknown names, repeated keys and bad values.
 */
export function parseImageOptionPairs(pairs: Iterable<readonly [string, string]>): ImageOptions {
  const opts: ImageOptions = {};
  const seen = new Set<ImageOptionKey>();
  for (const [name, value] of pairs) {
    const key = canonicalKey(name);
    if (seen.has(key)) throw new ImageOptionsError(key, `Expected ${key} at most once but received it twice`);
    seen.add(key);
    setOption(opts, key, value);
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
