/**
 * Wiring only: builds the edge from `env` once (config parsed and validated here; a bad value
 * throws naming the key, which the root Worker answers with 503) and hands it to
 * `createEdgeApp`, the same entry the tests run.
 */
import { createEdgeApp, type EdgeApp } from "./app.ts";
import { parseEdgeConfig } from "./config.ts";
import { createImageRoute, pageEdgeDeps, parseImageEdgeConfig } from "./images/index.ts";
import { createPrefetchFromEnv } from "./prefetch/wire.ts";
import { purgeWriterFromEnv } from "./purge-coordinator.ts";

export { createEdgeApp, type EdgeApp, type EdgeAppDeps } from "./app.ts";
export { parseEdgeConfig } from "./config.ts";
export { RequestContext, type SpeculationHook } from "./context.ts";
export { Edge, type EdgeDeps } from "./edge.ts";
export { ConfigError } from "./env-config.ts";
export { PurgeCoordinator } from "./purge-coordinator.ts";

/** The edge part as the root Worker uses it. */
export type EdgePart = EdgeApp;

/** Builds the edge part from the Worker env (bindings EDGE_KV, RUM_QUEUE; vars per edge/README.md). */
export function createEdgeFromEnv(env: Env): EdgePart {
  const raw = env as unknown as Record<string, unknown>;
  const config = parseEdgeConfig(raw);
  // Image variants (edge/src/images/README.md): Accept-CH + opt-in <img> rewriting on the page
  // edge's origin HTML, and `/cdn-cgi/image/*` served by the image route.
  const images = parseImageEdgeConfig(raw);
  const pageDeps = pageEdgeDeps(config, images);
  // Predictive prefetch (edge/PREFETCH.md): rules header + arm script on origin HTML (before it is
  // stored), its routes under /_edge/prefetch/ and learning through the speculation hook. Warming
  // requests go through this edge's own cache.
  const prefetch = createPrefetchFromEnv(env, config, (req, ctx) => app.edge.serve(req, ctx));
  const app = createEdgeApp({
    config,
    kv: env.EDGE_KV ?? null,
    purgeWriter: purgeWriterFromEnv(env),
    queue: env.RUM_QUEUE ?? null,
    ...pageDeps,
    fetch: prefetch.wrapOriginFetch(config.originBase, pageDeps.fetch, true),
    htmlHeaders: prefetch.htmlHeaders(pageDeps.htmlHeaders),
    speculation: prefetch.speculation,
    imageRoute: (pages) =>
      createImageRoute(config, images, pages, { kv: env.EDGE_KV ?? null, queue: env.RUM_QUEUE ?? null }),
  });
  return app;
}
