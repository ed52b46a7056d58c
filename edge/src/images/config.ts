/**
 * Image variant configuration: parsed and validated ONCE from the Worker env into a typed object.
 * A bad value throws `Invalid config KEY: reason (got "value")`. Every key is documented in
 * edge/src/images/README.md.
 */
import {
  type AvifMode,
  DEFAULT_IMAGE_WIDTHS,
  DEFAULT_NEGOTIATION,
  type NegotiationConfig,
} from "../../../common/src/image-negotiation.ts";
import { bool, ConfigError, globToRegExp, int, type RawEnv, str } from "../env-config.ts";

export interface ImageConfig {
  /** Image service base URL without trailing slash; null = no service (originals are served). */
  serviceUrl: string | null;
  negotiation: NegotiationConfig;
  avif: AvifMode;
  avifMinBytes: number;
  /** Time limit for the image service's response headers (ms). */
  timeoutMs: number;
  /** After repeated connection failures/time-outs, do not ask the service for this long (ms; 0 = never pause). */
  pauseMs: number;
  /** HMAC key for signed option sets (must equal the service's IMAGE_SIGNING_KEY); null = unsigned. */
  signingKey: string | null;
  /** HTML rewriting: null = off; [] would never match, so "on" is stored as ["/*"]. */
  rewriteHtml: RegExp[] | null;
  /** The rewrite globs as configured (for docs/health). */
  rewriteHtmlGlobs: string[];
  /** Send `Accept-CH` on HTML and image responses. */
  acceptCh: boolean;
  /** Image log to the RUM queue. */
  log: boolean;
  /** Share of image responses logged, (0, 1]. */
  logSample: number;
  /** Hot in-isolate tier of the variant cache, bytes (next to the page edge's own; isolates have 128 MB). */
  hotCacheBytes: number;
  /** Source paths whose query string is kept (IMAGE_SOURCE_QUERY globs); null = always dropped. */
  sourceQuery: RegExp[] | null;
  /** Variants produced (cache misses) per source within `budgetWindowMs`, per isolate. */
  variantBudget: number;
  budgetWindowMs: number;
  /** Cache misses (transforms) one client may cause per minute, per isolate. */
  clientMisses: number;
  /** Output pixel budget checked before asking the service (width × height × dpr² of a filled box). */
  maxOutputPixels: number;
  /** Limits for passing an original on when the service is unavailable. */
  fallback: { maxBytes: number; maxPixels: number; maxFrames: number };
}

/** Client hints the edge asks browsers for (`Accept-CH`). */
export const IMAGE_ACCEPT_CH =
  "Sec-CH-Width, Sec-CH-DPR, Sec-CH-Viewport-Width, ECT, RTT, Downlink, Save-Data";

/** Default for IMAGE_AVIF_MIN_BYTES: below ~50 KB AVIF saves only a few KB over WebP. */
export const DEFAULT_AVIF_MIN_BYTES = 50_000;

function sample(env: RawEnv): number {
  const key = "IMAGE_LOG_SAMPLE";
  const v = str(env, key);
  if (v === undefined) return 1;
  const n = /^(0(\.\d+)?|1(\.0+)?)$/.test(v) ? Number(v) : Number.NaN;
  if (!(n > 0 && n <= 1)) throw new ConfigError(key, "must be a number in (0, 1]", v);
  return n;
}

function widths(env: RawEnv): number[] {
  const key = "IMAGE_WIDTHS";
  const v = str(env, key);
  if (v === undefined) return [...DEFAULT_IMAGE_WIDTHS];
  const parts = v.split(",").map((s) => s.trim());
  const out: number[] = [];
  for (const p of parts) {
    if (!/^\d+$/.test(p) || Number(p) < 1 || Number(p) > 8192)
      throw new ConfigError(key, "must be a comma list of integers between 1 and 8192", v);
    out.push(Number(p));
  }
  for (let i = 1; i < out.length; i++) {
    if ((out[i] as number) <= (out[i - 1] as number))
      throw new ConfigError(key, "widths must be strictly ascending", v);
  }
  if (out.length > 32) throw new ConfigError(key, "at most 32 widths (each is a cached variant)", v);
  return out;
}

function serviceUrl(env: RawEnv): string | null {
  const key = "IMAGE_SERVICE_URL";
  const v = str(env, key);
  if (v === undefined) return null;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new ConfigError(key, "must be an absolute http(s) URL", v);
  }
  if ((u.protocol !== "http:" && u.protocol !== "https:") || u.search || u.hash)
    throw new ConfigError(key, "must be an http(s) URL without query or fragment", v);
  return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, "")}`;
}

function sourceQuery(env: RawEnv): RegExp[] | null {
  const key = "IMAGE_SOURCE_QUERY";
  const v = str(env, key);
  if (v === undefined || ["off", "none", "false", "0"].includes(v.toLowerCase())) return null;
  const globs = v.split(",").map((s) => s.trim());
  for (const g of globs) {
    if (!g.startsWith("/") || /[\s"<>]/.test(g))
      throw new ConfigError(key, 'must be off or a comma list of source path globs starting with "/"', v);
  }
  return globs.map((g) => globToRegExp(g));
}

function rewrite(env: RawEnv): { globs: string[]; res: RegExp[] | null } {
  const key = "IMAGE_REWRITE_HTML";
  const v = str(env, key);
  if (v === undefined) return { globs: [], res: null };
  const l = v.toLowerCase();
  if (["false", "0", "off", "no"].includes(l)) return { globs: [], res: null };
  if (["true", "1", "on", "yes"].includes(l)) return { globs: ["/*"], res: [/^\/.*$/] };
  const globs = v.split(",").map((s) => s.trim());
  for (const g of globs) {
    if (!g.startsWith("/") || /[\s"<>]/.test(g))
      throw new ConfigError(key, 'must be on/off or a comma list of path globs starting with "/"', v);
  }
  return { globs, res: globs.map((g) => globToRegExp(g)) };
}

/** Parses the image config from env (defaults in edge/src/images/README.md). Throws ConfigError. */
export function parseImageEdgeConfig(env: RawEnv): ImageConfig {
  const avifRaw = (str(env, "IMAGE_AVIF") ?? "guard").toLowerCase();
  const avif = (["off", "always", "guard"] as const).find((m) => m === avifRaw);
  if (avif === undefined)
    throw new ConfigError("IMAGE_AVIF", "must be one of off, always, guard", String(env.IMAGE_AVIF));
  const key = str(env, "IMAGE_SIGNING_KEY") ?? null;
  if (key !== null && key.length < 16)
    throw new ConfigError("IMAGE_SIGNING_KEY", "must be at least 16 characters", "<redacted>");
  const rw = rewrite(env);
  return {
    serviceUrl: serviceUrl(env),
    negotiation: { ...DEFAULT_NEGOTIATION, widths: widths(env) },
    avif,
    avifMinBytes: int(env, "IMAGE_AVIF_MIN_BYTES", DEFAULT_AVIF_MIN_BYTES, 0, 2 ** 31),
    timeoutMs: int(env, "IMAGE_TIMEOUT_MS", 4000, 1, 120_000),
    pauseMs: int(env, "IMAGE_SERVICE_PAUSE_MS", 5000, 0, 600_000),
    signingKey: key,
    rewriteHtml: rw.res,
    rewriteHtmlGlobs: rw.globs,
    acceptCh: bool(env, "IMAGE_ACCEPT_CH", true),
    log: bool(env, "IMAGE_LOG", true),
    logSample: sample(env),
    hotCacheBytes: int(env, "IMAGE_HOT_CACHE_BYTES", 16 * 1024 * 1024, 0, 256 * 1024 * 1024),
    sourceQuery: sourceQuery(env),
    variantBudget: int(env, "IMAGE_VARIANT_BUDGET", 100, 1, 1_000_000),
    budgetWindowMs: int(env, "IMAGE_BUDGET_WINDOW_S", 3600, 1, 86_400) * 1000,
    clientMisses: int(env, "IMAGE_CLIENT_MISSES", 120, 1, 1_000_000),
    maxOutputPixels: int(env, "IMAGE_MAX_OUTPUT_PIXELS", 4096 * 4096, 1, 2 ** 31),
    fallback: {
      maxBytes: int(env, "IMAGE_FALLBACK_MAX_BYTES", 25 * 1024 * 1024, 1, 100 * 1024 * 1024),
      maxPixels: int(env, "IMAGE_FALLBACK_MAX_PIXELS", 50_000_000, 1, 2 ** 40),
      maxFrames: int(env, "IMAGE_FALLBACK_MAX_FRAMES", 100, 1, 10_000),
    },
  };
}

/** True when the source at `path` keeps its query string (IMAGE_SOURCE_QUERY; default: dropped). */
export function keepsSourceQuery(c: ImageConfig, path: string): boolean {
  return c.sourceQuery?.some((re) => re.test(path)) === true;
}

/** True when HTML at `path` should get image rewriting (IMAGE_REWRITE_HTML; default off). */
export function rewritesPath(c: ImageConfig, path: string): boolean {
  if (c.rewriteHtml === null) return false;
  for (const re of c.rewriteHtml) if (re.test(path)) return true;
  return false;
}
