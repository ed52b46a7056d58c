/**
 * Value parsers for image options, each returning the canonical (stepped) value so that equal
 * outputs have one spelling: quality in steps of 5, blur/sharpen/brightness/contrast/saturation
 * and dpr to one decimal, gravity coordinates to two decimals, colours as lowercase hex.
 * Pure: no runtime imports.
 */

/** Thrown for any invalid option; `message` is safe to show to clients and names the option. */
export class ImageOptionsError extends Error {
  readonly key: string;
  constructor(key: string, message: string) {
    super(message);
    this.name = "ImageOptionsError";
    this.key = key;
  }
}

export function fail(key: string, expected: string, received: string): never {
  throw new ImageOptionsError(
    key,
    `Expected ${expected} for ${key} but received ${JSON.stringify(received)}`,
  );
}

export function parseInteger(key: string, raw: string, min: number, max: number): number {
  const n = /^-?\d{1,9}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max) fail(key, `integer between ${min} and ${max}`, raw);
  return n;
}

export function parseDecimal(key: string, raw: string, min: number, max: number): number {
  const n = /^-?\d{1,9}(\.\d{1,6})?$|^-?\.\d{1,6}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isFinite(n) || n < min || n > max) fail(key, `number between ${min} and ${max}`, raw);
  return n;
}

/** A decimal rounded to `digits` decimals (one by default): `sharpen=1.23` and `1.2` are one variant. */
export function parseStepped(key: string, raw: string, min: number, max: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(parseDecimal(key, raw, min, max) * f) / f;
}

/** Cloudflare's perceptual quality names, as fixed values on the 1–100 scale. */
export const PERCEPTUAL_QUALITY: Readonly<Record<string, number>> = {
  high: 90,
  "medium-high": 80,
  "medium-low": 65,
  low: 50,
};

/** Quality 1–100 or a perceptual name, rounded to the nearest multiple of 5 (at least 5). */
export function parseQuality(key: string, raw: string): number {
  const named = PERCEPTUAL_QUALITY[raw];
  const q = named ?? parseInteger(key, raw, 1, 100);
  return Math.max(5, Math.round(q / 5) * 5);
}

export function parseEnum<T extends string>(key: string, raw: string, allowed: readonly T[]): T {
  const found = allowed.find((a) => a === raw);
  if (found === undefined) fail(key, `one of ${allowed.join(", ")}`, raw);
  return found;
}

export function parseBoolean(key: string, raw: string): boolean {
  if (raw === "true" || raw === "1") return true;
  if (raw === "false" || raw === "0") return false;
  return fail(key, "true or false", raw);
}

const NAMED_COLORS: Readonly<Record<string, string>> = {
  transparent: "00000000",
  black: "000000",
  silver: "c0c0c0",
  gray: "808080",
  grey: "808080",
  white: "ffffff",
  maroon: "800000",
  red: "ff0000",
  purple: "800080",
  fuchsia: "ff00ff",
  magenta: "ff00ff",
  green: "008000",
  lime: "00ff00",
  olive: "808000",
  yellow: "ffff00",
  navy: "000080",
  blue: "0000ff",
  teal: "008080",
  aqua: "00ffff",
  cyan: "00ffff",
  orange: "ffa500",
};

const hex2 = (n: number) =>
  Math.round(Math.min(255, Math.max(0, n)))
    .toString(16)
    .padStart(2, "0");

/** One rgb() channel: 0–255 or a percentage. */
function channel(key: string, raw: string, text: string): number {
  const m = /^(\d{1,3}(?:\.\d+)?)(%?)$/.exec(text);
  if (m === null) fail(key, "CSS colour", raw);
  const n = Number(m[1]);
  const v = m[2] === "%" ? (n * 255) / 100 : n;
  if (v > 255) fail(key, "CSS colour", raw);
  return v;
}

function rgbFunction(key: string, raw: string, body: string): string {
  // rgb(1,2,3) rgba(1,2,3,0.5) rgb(1 2 3) rgb(1 2 3 / 50%)
  const parts = body.includes(",")
    ? body.split(",").map((s) => s.trim())
    : body.replace("/", " ").trim().split(/\s+/);
  if (parts.length !== 3 && parts.length !== 4) fail(key, "CSS colour", raw);
  const [r, g, b] = parts.slice(0, 3).map((p) => channel(key, raw, p)) as [number, number, number];
  let alpha = 1;
  const a = parts[3];
  if (a !== undefined) {
    const m = /^(\d{1,3}(?:\.\d+)?|\.\d+)(%?)$/.exec(a);
    if (m === null) fail(key, "CSS colour", raw);
    alpha = m[2] === "%" ? Number(m[1]) / 100 : Number(m[1]);
    if (alpha > 1) fail(key, "CSS colour", raw);
  }
  const rgb = hex2(r) + hex2(g) + hex2(b);
  return alpha >= 1 ? rgb : rgb + hex2(alpha * 255);
}

/**
 * CSS colour (`#rgb`, `#rgba`, `#rrggbb`, `#rrggbbaa`, basic names, `rgb()`/`rgba()` with commas
 * or spaces) normalised to lowercase `rrggbb`, or `rrggbbaa` when not opaque.
 */
export function parseColor(key: string, raw: string): string {
  const lower = raw.trim().toLowerCase();
  const named = NAMED_COLORS[lower];
  if (named !== undefined) return named;
  const fn = /^rgba?\((.*)\)$/.exec(lower);
  if (fn !== null) return rgbFunction(key, raw, fn[1] ?? "");
  const hex = lower.startsWith("#") ? lower.slice(1) : lower;
  if (!/^([0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})$/.test(hex)) {
    fail(key, "CSS colour (#rgb, #rrggbb, #rrggbbaa, rgb(), rgba() or a basic name)", raw);
  }
  const full = hex.length <= 4 ? [...hex].map((c) => c + c).join("") : hex;
  return full.length === 8 && full.endsWith("ff") ? full.slice(0, 6) : full;
}

export const NAMED_GRAVITIES = [
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

/** Gravity: a name, or Cloudflare's `XxY` focal point (0–1 each, two decimals, e.g. `0.5x0.33`). */
export function parseGravity(key: string, raw: string): string {
  const named = NAMED_GRAVITIES.find((g) => g === raw);
  if (named !== undefined) return named;
  if (raw === "face") {
    throw new ImageOptionsError(key, "gravity=face is not supported (no face detection here)");
  }
  const m = /^(\d(?:\.\d{1,6})?)x(\d(?:\.\d{1,6})?)$/.exec(raw);
  const x = m ? Number(m[1]) : Number.NaN;
  const y = m ? Number(m[2]) : Number.NaN;
  if (!(x >= 0 && x <= 1 && y >= 0 && y <= 1)) {
    fail(key, `one of ${NAMED_GRAVITIES.join(", ")} or XxY coordinates between 0 and 1`, raw);
  }
  return `${Math.round(x * 100) / 100}x${Math.round(y * 100) / 100}`;
}

/** A parsed `XxY` gravity, or undefined for a named one. */
export function gravityPoint(gravity: string | undefined): { x: number; y: number } | undefined {
  const m = gravity === undefined ? null : /^([\d.]+)x([\d.]+)$/.exec(gravity);
  return m ? { x: Number(m[1]), y: Number(m[2]) } : undefined;
}

/** Largest trim on one side, px. */
export const MAX_TRIM = 10_000;

/** `trim=top;right;bottom;left` in pixels → canonical `t;r;b;l`. */
export function parseTrim(key: string, raw: string): string {
  const parts = raw.split(";");
  if (parts.length !== 4) fail(key, "four pixel values top;right;bottom;left", raw);
  return parts.map((p) => String(parseInteger(key, p.trim(), 0, MAX_TRIM))).join(";");
}
