/**
 * Building the prefetch part from the Worker env and plugging it into `createEdgeApp`:
 *   - `wrapOriginFetch` / `htmlHeaders`: origin HTML gets the rules header and arm script before it
 *     is stored (EdgeDeps `fetch`, `htmlHeaders`);
 *   - `speculation`: the edge's SpeculationHook; `onHtml` sees every public, cacheable 200 HTML
 *     answer (learning, per-arm counts) and returns it unchanged;
 *   - `route(app)`: the app with `/_edge/prefetch/*` answered here, and warming through its edge.
 */
import { pageGroupFor } from "../../../common/src/page-group.ts";
import type { EdgeApp } from "../app.ts";
import type { EdgeConfig } from "../config.ts";
import type { SpeculationHook } from "../context.ts";
import type { RawEnv } from "../env-config.ts";
import { parsePrefetchConfig } from "./config.ts";
import { acceptEct } from "./html.ts";
import { PREFETCH_ROUTE_PREFIX, PrefetchEdge } from "./index.ts";

type FetchFn = (req: Request, init?: RequestInit) => Promise<Response>;

export interface PrefetchPart {
  prefetch: PrefetchEdge;
  speculation: SpeculationHook | null;
  wrapOriginFetch(originBase: string, inner: FetchFn): FetchFn;
  /** The edge's stored-HTML header hook, adding `Accept-CH: ECT` when prefetch is on. */
  htmlHeaders(other: ((h: Headers) => void) | null): ((h: Headers) => void) | null;
  /** The edge app with the prefetch routes in front (and warming served by its edge). */
  route(app: EdgeApp): EdgeApp;
}

/** Builds the prefetch part (bindings EDGE_KV, DB; vars PREFETCH_* per edge/PREFETCH.md). */
export function createPrefetchFromEnv(env: Env, edgeConfig: EdgeConfig): PrefetchPart {
  const raw = env as unknown as RawEnv;
  const config = parsePrefetchConfig(raw);
  const groups = new Map<string, string>();
  let serve: ((request: Request, ctx: ExecutionContext) => Response | Promise<Response>) | null = null;
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
    warm:
      config.warmPerSecond > 0
        ? (req, ctx) => (serve ? serve(req, ctx) : new Response(null, { status: 503 }))
        : null,
  });
  const active = config.enabled || config.learn;
  return {
    prefetch,
    speculation: active
      ? {
          handles: () => null,
          onHtml(ctx, res) {
            prefetch.observe(ctx.request, res, `${ctx.url.protocol}//${ctx.url.host}${ctx.path}`, ctx.exec);
            return res;
          },
        }
      : null,
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
    route(app) {
      serve = (req, ctx) => app.edge.serve(req, ctx);
      return {
        edge: app.edge,
        fetch(request, env, ctx, url = request.url) {
          const slash = url.indexOf("/", url.indexOf("//") + 2);
          if (slash !== -1 && url.startsWith(PREFETCH_ROUTE_PREFIX, slash))
            return prefetch.handle(request, new URL(url), ctx);
          return app.fetch(request, env, ctx, url);
        },
      };
    },
  };
}
