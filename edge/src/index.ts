/**
 * Wiring only: builds the edge from `env` once (config parsed and validated here; a bad value
 * throws naming the key) and dispatches: `/_edge/*` to the Hono admin routes, everything else
 * straight to the proxy so a cache HIT does not pay for routing.
 */
import { createEdgeApp } from "./app.ts";
import { parseEdgeConfig } from "./config.ts";
import { Edge } from "./edge.ts";
import { createImageRoute, IMAGE_ROUTE_PREFIX, pageEdgeDeps, parseImageEdgeConfig } from "./images/index.ts";
import { createPrefetchFromEnv, PREFETCH_ROUTE_PREFIX } from "./prefetch/wire.ts";

export { createEdgeApp } from "./app.ts";
export { parseEdgeConfig } from "./config.ts";
export { Edge, type EdgeDeps } from "./edge.ts";
export { ConfigError } from "./env-config.ts";

export interface EdgePart {
  edge: Edge;
  /** `url` is `request.url` when the caller has read it already (each read calls into the runtime). */
  fetch(request: Request, env: Env, ctx: ExecutionContext, url?: string): Response | Promise<Response>;
}

/** Builds the edge part from the Worker env (bindings EDGE_KV, RUM_QUEUE; vars per edge/README.md). */
export function createEdgeFromEnv(env: Env): EdgePart {
  const config = parseEdgeConfig(env as unknown as Record<string, unknown>);
  // Image variants (edge/src/images/README.md): Accept-CH + opt-in <img> rewriting on the page
  // edge's origin HTML, and `/cdn-cgi/image/*` served by the image route.
  const images = parseImageEdgeConfig(env as unknown as Record<string, unknown>);
  const pageDeps = pageEdgeDeps(config, images);
  // Predictive prefetch (edge/PREFETCH.md): rules header + arm script on origin HTML, rules route, learning.
  const prefetch = createPrefetchFromEnv(env, config, (req, ctx) => edge.serve(req, ctx));
  const edge = new Edge({
    config,
    kv: env.EDGE_KV ?? null,
    queue: env.RUM_QUEUE ?? null,
    ...pageDeps,
    fetch: prefetch.wrapOriginFetch(config.originBase, pageDeps.fetch),
  });
  const imageRoute = createImageRoute(config, images, edge, {
    kv: env.EDGE_KV ?? null,
    queue: env.RUM_QUEUE ?? null,
  });
  const app = createEdgeApp(edge);
  return {
    edge,
    fetch(request, env, ctx, url = request.url) {
      // `/_edge/` test on the raw URL string: no second URL parse on the proxy path.
      const p = url.indexOf("/", url.indexOf("//") + 2);
      if (p !== -1 && url.startsWith(PREFETCH_ROUTE_PREFIX, p))
        return prefetch.handle(request, new URL(url), ctx);
      if (p !== -1 && url.startsWith("/_edge/", p)) return app.fetch(request, env, ctx);
      if (p !== -1 && url.startsWith(IMAGE_ROUTE_PREFIX, p)) return imageRoute.handle(request, ctx);
      return prefetch.served(request, edge.serve(request, ctx, url), url, ctx);
    },
  };
}
