/**
 * Wiring for per-device image variants: builds the variant `Edge` (origin = image service), the
 * `/cdn-cgi/image/*` route and the page-edge origin wrapper (`Accept-CH`, opt-in `<img>`
 * rewriting). Config is parsed once here (`parseImageEdgeConfig`; a bad value names the key).
 */
import type { EdgeConfig, PathRule } from "../config.ts";
import { Edge } from "../edge.ts";
import { CLIENT_HEADER, HEAD_HEADER, ImageBill } from "./bill.ts";
import type { ImageConfig } from "./config.ts";
import { ImageLogger, type ImageLogQueue } from "./image-log.ts";
import { acceptChHeaders, withImageHtml } from "./rewrite-html.ts";
import { ImageRoute } from "./route.ts";
import { createServiceFetch, type FetchFn, VARIANT_ORIGIN } from "./service-fetch.ts";

export { IMAGE_ACCEPT_CH, type ImageConfig, parseImageEdgeConfig } from "./config.ts";
export { acceptChHeaders, withImageHtml } from "./rewrite-html.ts";
export { ImageRoute } from "./route.ts";

/** Path prefix the route serves. */
export const IMAGE_ROUTE_PREFIX = "/cdn-cgi/image/";

/** The route's internal request headers, forwarded to the service fetcher on a miss (unkeyed). */
const INTERNAL = [CLIENT_HEADER, HEAD_HEADER];

/** No-op rule (no TTL, no bypass, no keying) that only forwards the internal headers. */
const FORWARD_INTERNAL: PathRule = {
  path: "/*",
  re: /^\/.*$/,
  bypass: false,
  force: false,
  rum: true,
  keyHeaders: [],
  forwardHeaders: INTERNAL,
  forwardCookies: null,
};

/**
 * The variant cache's config: the page edge's, with the service as origin and IMAGE_TIMEOUT_MS as
 * its time limit. Every rule (the operator's, then a catch-all) forwards the route's internal
 * headers, since cacheable requests otherwise carry only an allow-list of headers to the origin.
 */
export function variantEdgeConfig(edge: EdgeConfig, images: ImageConfig): EdgeConfig {
  return {
    ...edge,
    rules: [
      ...edge.rules.map((r) => ({ ...r, forwardHeaders: [...r.forwardHeaders, ...INTERNAL] })),
      FORWARD_INTERNAL,
    ],
    originBase: VARIANT_ORIGIN,
    originTimeoutMs: images.timeoutMs,
    hotCacheBytes: images.hotCacheBytes,
    hotCacheMaxObjectBytes: Math.min(edge.hotCacheMaxObjectBytes, images.hotCacheBytes),
    edgeLog: false,
    rumInject: false,
  };
}

export interface ImageDeps {
  kv?: KVNamespace | null;
  queue?: ImageLogQueue | null;
  cache?: Cache | null;
  now?: () => number;
  /** Uniform [0, 1) for IMAGE_LOG_SAMPLE; default Math.random. */
  random?: () => number;
  /** Transport to the image service (default global fetch). */
  serviceFetch?: FetchFn;
}

/** Builds the `/cdn-cgi/image/*` route in front of `originals` (the page edge). Defaults: global fetch, Date.now. */
export function createImageRoute(
  edgeConfig: EdgeConfig,
  images: ImageConfig,
  originals: Edge,
  deps: ImageDeps = {},
): ImageRoute {
  const edgeDeps: ConstructorParameters<typeof Edge>[0] = {
    config: variantEdgeConfig(edgeConfig, images),
    kv: deps.kv ?? null,
    fetch: createServiceFetch(images, deps.serviceFetch, deps.now, new ImageBill(images)),
    // The route's own headers for the service fetcher (the variant cache forwards an allow-list).
    forwardHeaders: [CLIENT_HEADER, HEAD_HEADER],
  };
  if (deps.cache !== undefined) edgeDeps.cache = deps.cache;
  if (deps.now !== undefined) edgeDeps.now = deps.now;
  const variants = new Edge(edgeDeps);
  const logger = images.log && deps.queue ? new ImageLogger(deps.queue, edgeConfig.logFlushMs) : null;
  const route: ConstructorParameters<typeof ImageRoute>[0] = {
    config: images,
    variants,
    originals,
    logger,
    site: edgeConfig.rumSiteId,
  };
  if (deps.now !== undefined) route.now = deps.now;
  if (deps.random !== undefined) route.random = deps.random;
  return new ImageRoute(route);
}

/**
 * The page edge's image deps: origin fetch with opt-in `<img>` rewriting (default transport:
 * global fetch) and the `Accept-CH` hook for its HTML pages.
 */
export function pageEdgeDeps(
  edgeConfig: EdgeConfig,
  images: ImageConfig,
  inner?: FetchFn,
): { fetch: FetchFn; htmlHeaders: ((h: Headers) => void) | null } {
  return {
    fetch: withImageHtml(images, edgeConfig.originBase, inner ?? ((r, i) => fetch(r, i))),
    htmlHeaders: acceptChHeaders(images),
  };
}
