/**
 * Building the prefetch part from the Worker env and plugging it into `createEdgeApp`:
 *   - `wrapOriginFetch` / `htmlHeaders`: origin HTML gets the rules header and arm script before it
 *     is stored (EdgeDeps `fetch`, `htmlHeaders`);
 *   - `speculation`: the edge's SpeculationHook: its routes (`/_edge/prefetch/*`, answered before
 *     the admin routes) and `onHtml`, which sees every public, cacheable 200 HTML answer (learning,
 *     per-arm counts) and returns it unchanged.
 */
import { pageGroupFor } from "../../../common/src/page-group.ts";
import type { EdgeConfig } from "../config.ts";
import type { SpeculationHook } from "../context.ts";
import type { RawEnv } from "../env-config.ts";
import { parsePrefetchConfig } from "./config.ts";
import { acceptEct } from "./html.ts";
import { PREFETCH_ROUTE_PREFIX, PrefetchEdge } from "./index.ts";

export { PREFETCH_ROUTE_PREFIX } from "./index.ts";

type FetchFn = (req: Request, init?: RequestInit) => Promise<Response>;
type Serve = (request: Request, ctx: ExecutionContext) => Response | Promise<Response>;

export interface PrefetchPart {
  prefetch: PrefetchEdge;
  speculation: SpeculationHook;
  /** See PrefetchEdge.wrapOriginFetch (`defer`: the edge applies the additions in its own pass). */
  wrapOriginFetch(originBase: string, inner: FetchFn, defer?: boolean): FetchFn;
  /** The edge's stored-HTML header hook, adding `Accept-CH: ECT` when prefetch is on. */
  htmlHeaders(other: ((h: Headers) => void) | null): ((h: Headers) => void) | null;
}

/**
 * Builds the prefetch part (bindings EDGE_KV, DB; vars PREFETCH_* per edge/PREFETCH.md);
 * `serve` answers warming requests through the edge's own cache (null = no warming).
 */
export function createPrefetchFromEnv(env: Env, edgeConfig: EdgeConfig, serve: Serve | null): PrefetchPart {
  const raw = env as unknown as RawEnv;
  const config = parsePrefetchConfig(raw);
  const groups = new Map<string, string>();
  const prefetch = new PrefetchEdge({
    config,
    site: edgeConfig.rumSiteId,
    pageGroup: (path) => {
      let g = groups.get(path);
      if (g === undefined) {
        g = pageGroupFor(path, edgeConfig.pageGroupRules);
        if (groups.size > 10_000) groups.clear();
        groups.set(path, g);
      }
      return g;
    },
    kv: (raw.EDGE_KV as KVNamespace | undefined) ?? null,
    db: (raw.DB as D1Database | undefined) ?? null,
    warm: config.warmPerSecond > 0 ? serve : null,
  });
  const active = config.enabled || config.learn;
  return {
    prefetch,
    speculation: {
      handles: () => null,
      onHtml(ctx, res) {
        if (active) prefetch.observeServed(ctx, res);
        return res;
      },
      routePrefix: PREFETCH_ROUTE_PREFIX,
      route: (request, url, exec) => prefetch.handle(request, new URL(url), exec),
    },
    wrapOriginFetch: (base, inner, defer) => prefetch.wrapOriginFetch(base, inner, defer),
    htmlHeaders: (other) =>
      !config.enabled
        ? other
        : other === null
          ? acceptEct
          : (h) => {
              other(h);
              acceptEct(h);
            },
  };
}
