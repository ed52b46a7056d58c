import { availableParallelism } from "node:os";

/** Typed image-service configuration, parsed once from the environment by `parseImageConfig`. */
export interface ImageServiceConfig {
  /** TCP port (`IMAGE_PORT`, default 8788; 0 = any free port). */
  port: number;
  /** Interface to bind (`IMAGE_HOST`, default 127.0.0.1). */
  host: string;
  /** Allowed source origins (`IMAGE_ORIGINS`, comma-separated, default `http://127.0.0.1:8000`); `*` = any public http(s) host. */
  origins: string[];
  /** Allow private/loopback/link-local addresses for every host (`IMAGE_ALLOW_PRIVATE_NETWORKS`, default false). */
  allowPrivateNetworks: boolean;
  /** Source byte limit (`IMAGE_MAX_SOURCE_BYTES`, default 25 MB). */
  maxSourceBytes: number;
  /** Whole source fetch time limit incl. redirects (`IMAGE_FETCH_TIMEOUT_MS`, default 10000). */
  fetchTimeoutMs: number;
  /** Redirect hops followed, each re-checked (`IMAGE_MAX_REDIRECTS`, default 3). */
  maxRedirects: number;
  /** Input pixel limit, width × height of one frame (`IMAGE_MAX_INPUT_PIXELS`, default 50,000,000). */
  maxInputPixels: number;
  /** Largest output width or height after dpr and fit (`IMAGE_MAX_OUTPUT_DIMENSION`, default 8192). */
  maxOutputDimension: number;
  /** Output pixel budget, width × height of the output and of any intermediate (`IMAGE_MAX_OUTPUT_PIXELS`, default 16,777,216 = 4096²). */
  maxOutputPixels: number;
  /** Largest SVG source that is sanitised and passed on (`IMAGE_MAX_SVG_BYTES`, default 1 MiB). */
  maxSvgBytes: number;
  /** Frames an animated output may keep (`IMAGE_MAX_FRAMES`, default 100); more is refused with 413. */
  maxFrames: number;
  /** Rasterise SVG sources (`IMAGE_ALLOW_SVG`, default false → 415). */
  allowSvg: boolean;
  /** Transforms running at once (`IMAGE_CONCURRENCY`, default = CPU cores). */
  concurrency: number;
  /** Requests waiting beyond `concurrency` before 503 (`IMAGE_QUEUE_LIMIT`, default 8 × concurrency). */
  queueLimit: number;
  /** Transform time limit in seconds (`IMAGE_TRANSFORM_TIMEOUT_S`, default 20). */
  transformTimeoutS: number;
  /** AVIF encoder effort 0–9 (`IMAGE_AVIF_EFFORT`, default 0: fast enough to answer inline). */
  avifEffort: number;
  /** WebP encoder effort 0–6 (`IMAGE_WEBP_EFFORT`, default 4, sharp's default). */
  webpEffort: number;
  /** Cache-Control when the source sends none (`IMAGE_CACHE_CONTROL`, default `public, max-age=86400`). */
  defaultCacheControl: string;
  /** HMAC-SHA256 key; when set every request must be signed (`IMAGE_SIGNING_KEY`, default unset). */
  signingKey: string | undefined;
  /** Resolver used for source hosts (tests inject one); default `dns.lookup` with all addresses. */
  resolve?: (hostname: string) => Promise<string[]>;
  /** Structured log sink; default one JSON line per event on stderr. */
  log?: (event: Record<string, unknown>) => void;
}

type Env = Record<string, string | undefined>;

function invalid(key: string, why: string, value: string): never {
  throw new Error(`Invalid config ${key}: ${why} (got ${JSON.stringify(value)})`);
}

function int(env: Env, key: string, def: number, min: number, max: number): number {
  const raw = env[key];
  if (raw === undefined || raw === "") return def;
  const n = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max)
    invalid(key, `expected integer between ${min} and ${max}`, raw);
  return n;
}

function bool(env: Env, key: string, def: boolean): boolean {
  const raw = env[key];
  if (raw === undefined || raw === "") return def;
  if (raw === "true" || raw === "1") return true;
  if (raw === "false" || raw === "0") return false;
  return invalid(key, "expected true or false", raw);
}

function origins(env: Env): string[] {
  const raw = env.IMAGE_ORIGINS ?? "http://127.0.0.1:8000";
  const list = raw
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (list.length === 0) invalid("IMAGE_ORIGINS", "expected at least one origin", raw);
  return list.map((o) => {
    if (o === "*") return o;
    let url: URL;
    try {
      url = new URL(o);
    } catch {
      return invalid("IMAGE_ORIGINS", "expected http(s) origins like https://shop.example", o);
    }
    if (
      (url.protocol !== "http:" && url.protocol !== "https:") ||
      url.pathname !== "/" ||
      url.search !== ""
    ) {
      invalid("IMAGE_ORIGINS", "expected http(s) origins without path, like https://shop.example", o);
    }
    return url.origin;
  });
}

/** True for a bind address only this machine can reach: 127.0.0.0/8, ::1, localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return (
    h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === "::ffff:127.0.0.1"
  );
}

/** Parses the environment once into a config (every default listed on `ImageServiceConfig`); throws naming the bad key. */
export function parseImageConfig(env: Env): ImageServiceConfig {
  const concurrency = int(env, "IMAGE_CONCURRENCY", availableParallelism(), 1, 256);
  const signingKey = env.IMAGE_SIGNING_KEY;
  if (signingKey !== undefined && signingKey !== "" && signingKey.length < 16) {
    invalid("IMAGE_SIGNING_KEY", "expected at least 16 characters", "<redacted>");
  }
  const host = env.IMAGE_HOST || "127.0.0.1";
  if (!isLoopbackHost(host) && (signingKey === undefined || signingKey === "")) {
    // Reachable from other machines: unsigned requests would let anyone spend its CPU.
    invalid(
      "IMAGE_SIGNING_KEY",
      `required when IMAGE_HOST is not a loopback address (IMAGE_HOST=${host}); set the same key on the edge`,
      "",
    );
  }
  return {
    port: int(env, "IMAGE_PORT", 8788, 0, 65535),
    host,
    origins: origins(env),
    allowPrivateNetworks: bool(env, "IMAGE_ALLOW_PRIVATE_NETWORKS", false),
    maxSourceBytes: int(env, "IMAGE_MAX_SOURCE_BYTES", 25 * 1024 * 1024, 1, 2 ** 31),
    fetchTimeoutMs: int(env, "IMAGE_FETCH_TIMEOUT_MS", 10_000, 1, 600_000),
    maxRedirects: int(env, "IMAGE_MAX_REDIRECTS", 3, 0, 20),
    maxInputPixels: int(env, "IMAGE_MAX_INPUT_PIXELS", 50_000_000, 1, 2 ** 40),
    maxOutputDimension: int(env, "IMAGE_MAX_OUTPUT_DIMENSION", 8192, 1, 16383),
    maxOutputPixels: int(env, "IMAGE_MAX_OUTPUT_PIXELS", 4096 * 4096, 1, 2 ** 31),
    maxSvgBytes: int(env, "IMAGE_MAX_SVG_BYTES", 1024 * 1024, 1, 64 * 1024 * 1024),
    maxFrames: int(env, "IMAGE_MAX_FRAMES", 100, 1, 10_000),
    allowSvg: bool(env, "IMAGE_ALLOW_SVG", false),
    concurrency,
    queueLimit: int(env, "IMAGE_QUEUE_LIMIT", concurrency * 8, 0, 100_000),
    transformTimeoutS: int(env, "IMAGE_TRANSFORM_TIMEOUT_S", 20, 1, 3600),
    avifEffort: int(env, "IMAGE_AVIF_EFFORT", 0, 0, 9),
    webpEffort: int(env, "IMAGE_WEBP_EFFORT", 4, 0, 6),
    defaultCacheControl: env.IMAGE_CACHE_CONTROL || "public, max-age=86400",
    signingKey: signingKey === "" ? undefined : signingKey,
  };
}
