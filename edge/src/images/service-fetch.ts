/**
 * The "origin" of the image-variant `Edge`: it receives the canonical variant URL
 * (`<VARIANT_ORIGIN>/cdn-cgi/image/<canonical options>/<source path>?<source query>`) and asks the
 * image service for it (`GET /transform?url=<source>&<options>[&sig=…]`). Errors and time-outs
 * are returned as they are (the Edge serves a stale variant or the route falls back to the
 * original); successful variants get a `Cache-Tag: img:<source path>` so one purge-by-tag drops
 * every variant of an image.
 */
import { IMAGE_OPTION_KEYS, parseImagePath } from "../../../common/src/image-options.ts";
import { signImageRequest } from "../../../common/src/image-signing.ts";
import { CLIENT_HEADER, HEAD_HEADER, type ImageBill } from "./bill.ts";
import type { ImageConfig } from "./config.ts";

/** Base of the variant Edge's "origin" requests; never resolved, only parsed by the fetcher. */
export const VARIANT_ORIGIN = "http://image-variants.invalid";

export type FetchFn = (req: Request, init?: RequestInit) => Promise<Response>;

/** Service request URL for one canonical variant path (+ query): options as query parameters, signed when configured. */
export async function serviceRequestUrl(cfg: ImageConfig, variantUrl: URL): Promise<string> {
  const { options, sourcePath } = parseImagePath(variantUrl.pathname);
  const source = sourcePath + variantUrl.search;
  const q = new URLSearchParams();
  q.set("url", source);
  for (const k of IMAGE_OPTION_KEYS) {
    const v = options[k];
    if (v !== undefined) q.set(k, String(v));
  }
  if (cfg.signingKey !== null) q.set("sig", await signImageRequest(cfg.signingKey, options, source));
  return `${cfg.serviceUrl}/transform?${q.toString()}`;
}

/** Consecutive connection failures/time-outs after which the service is paused (IMAGE_SERVICE_PAUSE_MS). */
export const SERVICE_MAX_FAILURES = 3;

/** Header on the fetcher's own 503 while the service is paused; the route reports `img-fallback;desc=paused`. */
export const PAUSED_HEADER = "x-image-service-paused";

const FORMAT_TYPES: Readonly<Record<string, string>> = {
  jpeg: "image/jpeg",
  "baseline-jpeg": "image/jpeg",
  png: "image/png",
  webp: "image/webp",
  avif: "image/avif",
  gif: "image/gif",
  json: "application/json",
};

/**
 * A HEAD that missed the variant cache: answered from the URL alone (the variant's content type,
 * no length, not stored) so it never downloads the source nor spends a transform.
 */
function headOnly(format: string | undefined): Response {
  const h = new Headers({ "cache-control": "no-store", "x-content-type-options": "nosniff" });
  const type = format === undefined ? undefined : FORMAT_TYPES[format];
  if (type !== undefined) h.set("content-type", type);
  return new Response(null, { status: 200, headers: h });
}

function refused(error: string, retryAfterSeconds: number): Response {
  return new Response(JSON.stringify({ error }), {
    status: 429,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "cache-control": "no-store",
      "retry-after": String(retryAfterSeconds),
      "x-content-type-options": "nosniff",
    },
  });
}

function unavailable(error: string, paused: boolean): Response {
  const h = new Headers({ "content-type": "application/json", "cache-control": "no-store" });
  if (paused) h.set(PAUSED_HEADER, "1");
  return new Response(JSON.stringify({ error }), { status: 503, headers: h });
}

/**
 * Fetch function for the variant Edge (defaults: global fetch, Date.now); honours the Edge's abort
 * signal. After SERVICE_MAX_FAILURES consecutive connection errors or time-outs the service is not
 * asked for IMAGE_SERVICE_PAUSE_MS (a small circuit breaker): misses then fall back to the original
 * at once instead of each waiting IMAGE_TIMEOUT_MS, while cached variants keep being served.
 */
export function createServiceFetch(
  cfg: ImageConfig,
  transport: FetchFn = (r, i) => fetch(r, i),
  now: () => number = Date.now,
  bill: ImageBill | null = null,
): FetchFn {
  let failures = 0;
  let pausedUntil = 0;
  return async (req, init) => {
    const variant = new URL(req.url);
    if (req.headers.has(HEAD_HEADER)) return headOnly(parseImagePath(variant.pathname).options.format);
    if (cfg.serviceUrl === null) return unavailable("no image service configured (IMAGE_SERVICE_URL)", false);
    if (pausedUntil !== 0 && now() < pausedUntil)
      return unavailable("image service paused after repeated failures", true);
    if (bill !== null) {
      const source = parseImagePath(variant.pathname).sourcePath;
      const verdict = bill.admit(req.headers.get(CLIENT_HEADER), source, now());
      if (!verdict.ok) return refused(verdict.error, verdict.retryAfterSeconds);
    }
    const target = await serviceRequestUrl(cfg, variant);
    const headers = new Headers({ accept: "image/*" });
    const rid = req.headers.get("x-request-id");
    if (rid) headers.set("x-request-id", rid);
    let res: Response;
    try {
      res = await transport(new Request(target, { method: req.method, headers }), {
        signal: init?.signal ?? null,
      });
    } catch (e) {
      if (++failures >= SERVICE_MAX_FAILURES && cfg.pauseMs > 0) {
        pausedUntil = now() + cfg.pauseMs;
        failures = 0;
      }
      throw e;
    }
    // Any HTTP answer (even a 5xx) shows the service is reachable.
    failures = 0;
    pausedUntil = 0;
    const out = new Response(res.body, res);
    if (res.ok) {
      // The format is concrete in the URL, so `Vary: Accept` (only sent for format=auto) is moot
      // and would make the variant unstorable.
      out.headers.delete("vary");
      const { sourcePath } = parseImagePath(variant.pathname);
      if (!sourcePath.includes(",") && sourcePath.length <= 1000)
        out.headers.set("cache-tag", `img:${sourcePath}`);
    }
    return out;
  };
}
