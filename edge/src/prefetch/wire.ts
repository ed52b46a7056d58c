/**
 * Building the prefetch part from the Worker env, and the one call the edge makes after each
 * proxied response (`served`), which keeps a synchronous Response synchronous (hot-cache HITs).
 */
import { pageGroupFor } from "../../../common/src/page-group.ts";
import type { EdgeConfig } from "../config.ts";
import type { RawEnv } from "../env-config.ts";
import { parsePrefetchConfig } from "./config.ts";
import { acceptEct } from "./html.ts";
import { PrefetchEdge } from "./index.ts";

export { PREFETCH_ROUTE_PREFIX } from "./index.ts";

type Serve = (request: Request, ctx: ExecutionContext) => Response | Promise<Response>;

export interface PrefetchPart {
  prefetch: PrefetchEdge;
  wrapOriginFetch: PrefetchEdge["wrapOriginFetch"];
  /** The edge's stored-HTML header hook, with `Accept-CH: ECT` when prefetch needs it and `other` does not set it. */
  htmlHeaders(other: ((h: Headers) => void) | null): ((h: Headers) => void) | null;
  handle(request: Request, url: URL, ctx: ExecutionContext): Promise<Response>;
  /** Passes the edge's response through, observing it (learning, counting). */
  served(
    request: Request,
    res: Response | Promise<Response>,
    url: string,
    ctx: ExecutionContext,
  ): Response | Promise<Response>;
}

/** Builds the prefetch part (bindings EDGE_KV, DB; vars PREFETCH_* per edge/PREFETCH.md). */
export function createPrefetchFromEnv(env: Env, edgeConfig: EdgeConfig, serve: Serve): PrefetchPart {
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
  const observe = (request: Request, res: Response, url: string, ctx: ExecutionContext) => {
    if (config.enabled || config.learn) prefetch.observe(request, res, url, ctx);
    return res;
  };
  return {
    prefetch,
    wrapOriginFetch: (base, inner) => prefetch.wrapOriginFetch(base, inner),
    htmlHeaders: (other) =>
      !config.enabled
        ? other
        : other === null
          ? acceptEct
          : (h) => {
              other(h);
              acceptEct(h);
            },
    handle: (request, url, ctx) => prefetch.handle(request, url, ctx),
    served(request, res, url, ctx) {
      if (res instanceof Response) return observe(request, res, url, ctx);
      return res.then((r) => observe(request, r, url, ctx));
    },
  };
}
