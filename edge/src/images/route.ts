/**
 * `/cdn-cgi/image/<options>/<source>`: parses the options (400 with the uniform message), keeps the
 * source on this site, negotiates the variant from Accept, client hints, Save-Data/ECT and the
 * device class, and rewrites the request to the canonical variant URL, which is the cache key of
 * a second `Edge` (caching, SWR, stale-if-error, collapsing, purge) whose origin is the image
 * service. When the service fails, times out or refuses for a server-side reason, the original
 * bytes are served (`Cache-Control: no-store`, `Server-Timing: img-fallback`), never a broken image.
 */

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
import type { CacheStatus, ImageLogMessage } from "../../../common/src/rum-types.ts";
import { classifyUserAgent } from "../../../common/src/user-agent.ts";
import type { Edge } from "../edge.ts";
import { IMAGE_ACCEPT_CH, type ImageConfig } from "./config.ts";
import type { ImageLogger } from "./image-log.ts";
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

/** Statuses from the variant path that mean "the service could not do it", not "bad request". */
function fallbackReason(status: number): string | null {
  if (status === 504) return "timeout";
  if (status === 502) return "unreachable";
  if (status === 503) return "unavailable";
  if (status >= 500) return `status-${status}`;
  // 403: the service refused the edge itself (signing key or IMAGE_ORIGINS mismatch);
  // 413: source over the service's limits — the original is what the page would show anyway.
  if (status === 403 || status === 413) return `status-${status}`;
  return null;
}

function jsonError(status: number, error: string, extra?: Record<string, string>): Response {
  return new Response(JSON.stringify({ error }), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...extra },
  });
}

function intHeader(h: Headers, name: string): number | null {
  const v = h.get(name);
  if (v === null || !/^\d+$/.test(v)) return null;
  return Number(v);
}

/** `cdn-cache;desc=…` of a Server-Timing value (the edge writes it first). */
function cacheStatusOf(st: string | null): CacheStatus {
  const m = st === null ? null : /(?:^|,)\s*cdn-cache;desc=([A-Z]+)/.exec(st);
  return (m?.[1] as CacheStatus | undefined) ?? "NONE";
}

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
      return jsonError(502, `image edge error: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  async serve(request: Request, ctx: ExecutionContext): Promise<Response> {
    const method = request.method;
    if (method !== "GET" && method !== "HEAD")
      return jsonError(405, "Only GET and HEAD are supported for images", { allow: "GET, HEAD" });
    const url = new URL(request.url);
    let options: ImageOptions;
    let source: string;
    try {
      const parsed = parseImagePath(withoutAutoWidth(url.pathname));
      options = parsed.options;
      source = parsed.sourcePath;
    } catch (e) {
      if (e instanceof ImageOptionsError) return jsonError(400, e.message);
      throw e;
    }
    let query = url.search;
    if (!source.startsWith("/")) {
      // An absolute source URL is allowed only for this site's own host (never an open proxy).
      let abs: URL;
      try {
        abs = new URL(source);
      } catch {
        return jsonError(400, `Expected a source path or http(s) URL but received ${JSON.stringify(source)}`);
      }
      if (abs.host !== url.host)
        return jsonError(403, `Image source must be on this site (got host ${JSON.stringify(abs.host)})`);
      source = abs.pathname;
      if (abs.search) query = abs.search;
    }
    if (source.startsWith("/cdn-cgi/"))
      return jsonError(400, `Expected a source outside /cdn-cgi/ but received ${JSON.stringify(source)}`);

    const h = request.headers;
    const hints = imageHintsFrom((n) => h.get(n), this.device(h.get("user-agent")));
    const neg = this.config.negotiation;
    const auto = options.format === undefined || options.format === "auto";
    const acceptsAvif = auto && this.config.avif !== "off" && chooseImageFormat(hints.accept) === "avif";
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

    if (this.config.serviceUrl === null)
      return this.fallback(request, base, source, query, null, "disabled", ctx);

    // Only what the variant cache needs: no cookies/Authorization (images are never personal, and
    // they would turn every logged-in shopper's request into a cache bypass), no Range.
    const vh = new Headers();
    for (const n of ["if-none-match", "if-modified-since"]) {
      const v = h.get(n);
      if (v !== null) vh.set(n, v);
    }
    const res = await this.variants.handle(new Request(target, { method, headers: vh }), ctx);
    let reason = res.headers.has(PAUSED_HEADER) ? "paused" : fallbackReason(res.status);
    // SVG is not rasterised unless the service allows it; like Cloudflare, pass the vector through.
    if (reason === null && res.status === 415 && /\.svgz?$/i.test(source)) reason = "svg";
    if (reason !== null) return this.fallback(request, base, source, query, res, reason, ctx);

    const rh = res.headers;
    rh.delete("cache-tag");
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
    if (res.status === 200 && method === "GET") {
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

  /** Original bytes through the page edge (cached there as the original), never stored as the variant. */
  async fallback(
    request: Request,
    base: string,
    source: string,
    query: string,
    failed: Response | null,
    reason: string,
    ctx: ExecutionContext,
  ): Promise<Response> {
    const failedSt = failed?.headers.get("server-timing") ?? null;
    await failed?.body?.cancel();
    const oh = new Headers();
    for (const n of ["accept", "user-agent"]) {
      const v = request.headers.get(n);
      if (v !== null) oh.set(n, v);
    }
    const orig = await this.originals.handle(
      new Request(`${base}${source}${query}`, { method: request.method, headers: oh }),
      ctx,
    );
    const h = new Headers(orig.headers);
    const origSt = h.get("server-timing");
    const len = intHeader(h, "content-length");
    // The variant's own timing (cache status, service time, rid) leads; the original's cache status follows.
    let st = failedSt ?? origSt ?? "";
    st += `${st ? ", " : ""}img-fallback;desc=${reason}`;
    if (failedSt !== null) st += `, img-src-cache;desc=${cacheStatusOf(origSt)}`;
    if (len !== null) st += `, img-orig;desc=${len}, img-out;desc=${len}`;
    h.set("server-timing", st);
    h.set("cache-control", "no-store");
    h.set("timing-allow-origin", "*");
    h.delete("cache-tag");
    // One request id for the client: the variant attempt's, which leads Server-Timing.
    const failedRid = failed?.headers.get("x-request-id");
    if (failedRid) h.set("x-request-id", failedRid);
    if (this.config.acceptCh) h.set("accept-ch", IMAGE_ACCEPT_CH);
    let body = orig.body;
    if (orig.status === 200 && request.method === "GET" && this.logger !== null) {
      const record = (bytes: number | null) =>
        this.log(
          {
            format: "original",
            device: this.device(request.headers.get("user-agent")),
            width: null,
            cacheStatus: cacheStatusOf(failedSt ?? origSt),
            originalBytes: bytes,
            deliveredBytes: bytes,
            fallback: true,
          },
          h.get("x-request-id"),
          ctx,
        );
      if (len !== null || body === null) record(len ?? 0);
      else {
        // A streamed original has no length up front: count it on the way through, log when done.
        let n = 0;
        const counter = new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, c) {
            n += chunk.byteLength;
            c.enqueue(chunk);
          },
        });
        ctx.waitUntil(
          body.pipeTo(counter.writable).then(
            () => record(n),
            () => {},
          ),
        );
        body = counter.readable;
      }
    }
    return new Response(body, { status: orig.status, statusText: orig.statusText, headers: h });
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
