/**
 * `/cdn-cgi/image/<options>/<source>`: parses the options (400 with the uniform message), keeps the
 * source on this site, negotiates the variant from Accept, client hints, Save-Data/ECT and the
 * device class, and rewrites the request to the canonical variant URL, which is the cache key of
 * a second `Edge` (caching, SWR, stale-if-error, collapsing, purge) whose origin is the image
 * service. Only when the service is unavailable (time-out, refused connection, 5xx) is the original
 * passed on, after its header is checked (fallback.ts); a source the service refuses is a 4xx with
 * the reason. `onerror=redirect` opts into a redirect to the (same-site) source instead.
 */

import { clientKey } from "../../../common/src/auth-throttle.ts";
import {
  avifDecision,
  type ImageDeviceClass,
  imageHintsFrom,
  type NegotiatedVariant,
  negotiateImage,
} from "../../../common/src/image-negotiation.ts";
import {
  CDN_CGI_IMAGE_PREFIX,
  chooseImageFormat,
  formatOptions,
  type ImageOptions,
  ImageOptionsError,
  parseImagePath,
} from "../../../common/src/image-options.ts";
import type { ImageLogMessage } from "../../../common/src/rum-types.ts";
import { classifyUserAgent } from "../../../common/src/user-agent.ts";
import type { Edge } from "../edge.ts";
import { CLIENT_HEADER, HEAD_HEADER } from "./bill.ts";
import { IMAGE_ACCEPT_CH, type ImageConfig, keepsSourceQuery } from "./config.ts";
import { serveOriginal } from "./fallback.ts";
import type { ImageLogger } from "./image-log.ts";
import { cacheStatusOf, imageError, intHeader, SAFE_IMAGE_HEADERS } from "./responses.ts";
import { PAUSED_HEADER } from "./service-fetch.ts";

export interface ImageRouteDeps {
  config: ImageConfig;
  /** The variant cache: an `Edge` whose fetch is `createServiceFetch` (see images/index.ts). */
  variants: Edge;
  /** The page edge: serves (and caches) original bytes for the fallback. */
  originals: Edge;
  logger: ImageLogger | null;
  site: string;
  /** Wall clock for log records (ms); default Date.now. */
  now?: () => number;
  /** Uniform [0, 1) for log sampling; default Math.random. */
  random?: () => number;
}

/** Why the service counts as unavailable (time-out, refused connection, 5xx), or null when it answered. */
function unavailableReason(status: number): string | null {
  if (status === 504) return "timeout";
  if (status === 502) return "unreachable";
  if (status === 503) return "unavailable";
  if (status >= 500) return `status-${status}`;
  return null;
}

/** Fits whose output is the requested box itself (so its size is known before the source is). */
const FILLS = new Set(["pad", "cover", "squeeze", "contain"]);

const AUTO_WIDTH = /(^|,)(?:width|w)=auto(?=,|$)/;

/**
 * Cloudflare's `width=auto` (width from client hints / device) is what an absent width means
 * here, so it is removed before parsing; an option list that only had it becomes `format=auto`
 * (also the meaning of no format).
 */
export function withoutAutoWidth(pathname: string): string {
  if (!pathname.startsWith(CDN_CGI_IMAGE_PREFIX)) return pathname;
  const rest = pathname.slice(CDN_CGI_IMAGE_PREFIX.length);
  const slash = rest.indexOf("/");
  if (slash <= 0) return pathname;
  const opts = rest.slice(0, slash);
  if (!AUTO_WIDTH.test(opts)) return pathname;
  const left = opts.replace(AUTO_WIDTH, "").replace(/^,/, "");
  return `${CDN_CGI_IMAGE_PREFIX}${left || "format=auto"}${rest.slice(slash)}`;
}

const BOUNDED = 5000;

function remember<K, V>(m: Map<K, V>, k: K, v: V): void {
  if (m.size >= BOUNDED && !m.has(k)) m.clear();
  m.set(k, v);
}

export class ImageRoute {
  config: ImageConfig;
  variants: Edge;
  originals: Edge;
  logger: ImageLogger | null;
  site: string;
  now: () => number;
  random: () => number;
  /** Source size per `host + path + query`, learned from variants (`X-Original-Bytes`). */
  sourceBytes = new Map<string, number>();
  /** AVIF variant URL → true when produced and smaller than WebP, false when it did not pay. */
  avif = new Map<string, boolean>();
  warming = new Set<string>();
  uaMemo = new Map<string, ImageDeviceClass>();

  constructor(deps: ImageRouteDeps) {
    this.config = deps.config;
    this.variants = deps.variants;
    this.originals = deps.originals;
    this.logger = deps.logger;
    this.site = deps.site;
    this.now = deps.now ?? Date.now;
    this.random = deps.random ?? Math.random;
  }

  device(ua: string | null): ImageDeviceClass {
    if (!ua) return "other";
    let d = this.uaMemo.get(ua);
    if (d === undefined) {
      d = classifyUserAgent(ua).device;
      remember(this.uaMemo, ua, d);
    }
    return d;
  }

  /** Serves one `/cdn-cgi/image/…` request. Never throws. */
  async handle(request: Request, ctx: ExecutionContext): Promise<Response> {
    try {
      return await this.serve(request, ctx);
    } catch (e) {
      return imageError(502, `image edge error: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  async serve(request: Request, ctx: ExecutionContext): Promise<Response> {
    const method = request.method;
    if (method !== "GET" && method !== "HEAD")
      return imageError(405, "Only GET and HEAD are supported for images", { allow: "GET, HEAD" });
    const url = new URL(request.url);
    let options: ImageOptions;
    let source: string;
    try {
      const parsed = parseImagePath(withoutAutoWidth(url.pathname));
      options = parsed.options;
      source = parsed.sourcePath;
    } catch (e) {
      if (e instanceof ImageOptionsError) return imageError(400, e.message);
      throw e;
    }
    let query = url.search;
    if (!source.startsWith("/")) {
      // An absolute source URL is allowed only for this site's own host (never an open proxy).
      let abs: URL;
      try {
        abs = new URL(source);
      } catch {
        return imageError(
          400,
          `Expected a source path or http(s) URL but received ${JSON.stringify(source)}`,
        );
      }
      if (abs.host !== url.host)
        return imageError(403, `Image source must be on this site (got host ${JSON.stringify(abs.host)})`);
      source = abs.pathname;
      query = abs.search;
    }
    if (source.startsWith("/cdn-cgi/"))
      return imageError(400, `Expected a source outside /cdn-cgi/ but received ${JSON.stringify(source)}`);
    // One URL per query value would be one transform each: the query goes unless a rule keeps it.
    if (!keepsSourceQuery(this.config, source)) query = "";
    const over = this.overBudget(options);
    if (over !== null) return imageError(400, over);

    const h = request.headers;
    const hints = imageHintsFrom((n) => h.get(n), this.device(h.get("user-agent")));
    const neg = this.config.negotiation;
    const auto = options.format === undefined || options.format === "auto";
    const acceptsAvif =
      auto &&
      options.compression !== "fast" &&
      this.config.avif !== "off" &&
      chooseImageFormat(hints.accept) === "avif";
    const base = `${url.protocol}//${url.host}`;
    const srcKey = `${url.host}${source}${query}`;
    const variantUrl = (v: NegotiatedVariant) =>
      `${base}${CDN_CGI_IMAGE_PREFIX}${formatOptions(v.options)}${source}${query}`;

    let avifUrl: string | null = null;
    let variant: NegotiatedVariant;
    if (acceptsAvif) {
      const avifVariant = negotiateImage(options, hints, neg, { allowAvif: true });
      avifUrl = variantUrl(avifVariant);
      const d = avifDecision({
        mode: this.config.avif,
        acceptsAvif,
        sourceBytes: this.sourceBytes.get(srcKey) ?? null,
        minBytes: this.config.avifMinBytes,
        variantReady: this.avif.get(avifUrl) === true,
      });
      variant = d.allowAvif ? avifVariant : negotiateImage(options, hints, neg, { allowAvif: false });
    } else {
      variant = negotiateImage(options, hints, neg, { allowAvif: false });
    }
    const target = variantUrl(variant);
    const vary = variant.usedHints.includes("Accept");
    const redirect = options.onerror === "redirect" ? `${base}${source}${query}` : null;
    const original = { request, base, source: `${source}${query}`, reason: "disabled", failed: null };

    if (this.config.serviceUrl === null)
      return redirect !== null ? this.redirectTo(redirect) : this.original(original, ctx);

    // Only what the variant cache needs: no cookies/Authorization (images are never personal, and
    // they would turn every logged-in shopper's request into a cache bypass), no Range.
    const vh = new Headers();
    for (const n of ["if-none-match", "if-modified-since"]) {
      const v = h.get(n);
      if (v !== null) vh.set(n, v);
    }
    // Read by the service fetcher, only on a miss: who pays for the transform, and a HEAD never does.
    vh.set(CLIENT_HEADER, clientKey(h.get("cf-connecting-ip") ?? "unknown"));
    if (method === "HEAD") vh.set(HEAD_HEADER, "1");
    const res = await this.variants.handle(new Request(target, { method, headers: vh }), ctx);
    const rh = res.headers;
    const reason = rh.has(PAUSED_HEADER) ? "paused" : unavailableReason(res.status);
    if (reason !== null) {
      if (options.format === "json") {
        await res.body?.cancel();
        return imageError(503, "Image service unavailable", { "retry-after": "5" });
      }
      if (redirect !== null) {
        await res.body?.cancel();
        return this.redirectTo(redirect);
      }
      return this.original({ ...original, reason, failed: res }, ctx);
    }
    rh.delete("cache-tag");
    rh.delete("location");
    for (const [k, v] of Object.entries(SAFE_IMAGE_HEADERS)) rh.set(k, v);
    if (res.status >= 400) {
      // The service refused the source or the request: its reason, never the original bytes.
      if (redirect !== null && res.status !== 429) {
        await res.body?.cancel();
        return this.redirectTo(redirect);
      }
      rh.set("cache-control", "no-store");
      return res;
    }
    const orig = intHeader(rh, "x-original-bytes");
    if (orig !== null) remember(this.sourceBytes, srcKey, orig);
    const outBytes = intHeader(rh, "x-image-bytes") ?? intHeader(rh, "content-length");
    const format = rh.get("x-image-format");
    if (res.status === 200 || res.status === 304) {
      let st = rh.get("server-timing") ?? "";
      if (!st.includes("img-orig;") && orig !== null) st += `, img-orig;desc=${orig}`;
      if (!st.includes("img-out;") && outBytes !== null) st += `, img-out;desc=${outBytes}`;
      if (!st.includes("img-fmt;") && format !== null) st += `, img-fmt;desc=${format}`;
      rh.set("server-timing", st.startsWith(", ") ? st.slice(2) : st);
      if (this.config.acceptCh) rh.set("accept-ch", IMAGE_ACCEPT_CH);
      if (vary) rh.append("vary", "Accept");
    }
    // `format=json` answers facts, not an image: nothing delivered to count.
    if (res.status === 200 && method === "GET" && format !== "json") {
      this.log(
        {
          format: format ?? variant.options.format ?? "unknown",
          device: hints.device,
          width: intHeader(rh, "x-image-width") ?? variant.options.width ?? null,
          cacheStatus: cacheStatusOf(rh.get("server-timing")),
          originalBytes: orig,
          deliveredBytes: outBytes,
          fallback: false,
        },
        rh.get("x-request-id"),
        ctx,
      );
      if (avifUrl !== null && target !== avifUrl && this.config.avif === "guard") {
        const d = avifDecision({
          mode: "guard",
          acceptsAvif,
          sourceBytes: orig ?? this.sourceBytes.get(srcKey) ?? null,
          minBytes: this.config.avifMinBytes,
          variantReady: this.avif.has(avifUrl),
        });
        if (d.warm && !this.warming.has(avifUrl)) this.warm(avifUrl, outBytes, ctx);
      }
    }
    return res;
  }

  /** Why a requested output is over the pixel budget (a filled box × dpr²), or null. */
  overBudget(o: ImageOptions): string | null {
    if (o.width === undefined || o.height === undefined || !FILLS.has(o.fit ?? "scale-down")) return null;
    const dpr = o.dpr ?? 1;
    const px = Math.round(o.width * dpr) * Math.round(o.height * dpr);
    const max = this.config.maxOutputPixels;
    return px > max ? `Requested output of ${px} pixels exceeds the ${max} output pixel budget` : null;
  }

  /** `onerror=redirect`: to the source on this same site (built here, never a Location from elsewhere). */
  redirectTo(location: string): Response {
    return new Response(null, {
      status: 302,
      headers: { location, "cache-control": "no-store", ...SAFE_IMAGE_HEADERS },
    });
  }

  /**
   * Produces the AVIF variant in the background (through the variant cache, so it is stored) and
   * marks it ready only when it is smaller than the WebP variant just served (`webpBytes`).
   */
  warm(avifUrl: string, webpBytes: number | null, ctx: ExecutionContext): void {
    if (this.warming.size >= 64) return;
    this.warming.add(avifUrl);
    ctx.waitUntil(
      (async () => {
        try {
          const r = await this.variants.handle(new Request(avifUrl), ctx);
          const bytes = intHeader(r.headers, "x-image-bytes");
          const isAvif = r.headers.get("x-image-format") === "avif";
          await r.body?.cancel();
          if (r.status === 200 && isAvif && bytes !== null)
            remember(this.avif, avifUrl, webpBytes === null || bytes < webpBytes);
        } catch {
          // Warm-up is best effort; WebP keeps being served.
        } finally {
          this.warming.delete(avifUrl);
        }
      })(),
    );
  }

  /** The checked original (fallback.ts) when the service is unavailable. */
  original(f: Parameters<typeof serveOriginal>[1], ctx: ExecutionContext): Promise<Response> {
    return serveOriginal(
      {
        config: this.config,
        originals: this.originals,
        log: (m, rid, c) => this.log(m, rid, c),
        device: (ua) => this.device(ua),
      },
      f,
      ctx,
    );
  }

  log(
    m: Omit<ImageLogMessage, "kind" | "ts" | "site" | "rid">,
    rid: string | null,
    ctx: ExecutionContext,
  ): void {
    if (this.logger === null) return;
    const rate = this.config.logSample;
    if (rate < 1 && this.random() >= rate) return;
    this.logger.log(
      {
        kind: "image",
        ts: this.now(),
        rid: rid ?? crypto.randomUUID(),
        site: this.site,
        ...m,
        ...(rate < 1 ? { sampleRate: rate } : {}),
      },
      ctx,
    );
  }
}
