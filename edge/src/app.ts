/**
 * `createEdgeApp(deps)`: the edge part as production (edge/src/index.ts, worker/index.ts) and the
 * tests both run it. Dispatch on the raw URL string: `/_edge/*` to the admin routes (admin.ts),
 * `/cdn-cgi/image/*` to the image route when one is given, everything else straight to
 * `Edge.serve` so a cache HIT does not pay for routing.
 */
import type { AuthThrottle } from "../../common/src/auth-throttle.ts";
import { hasPathPrefix } from "../../common/src/http-response.ts";
import { createAdminRoutes } from "./admin.ts";
import type { SpeculationHook } from "./context.ts";
import { Edge, type EdgeDeps } from "./edge.ts";
import { IMAGE_ROUTE_PREFIX } from "./images/index.ts";

/** What an image route offers the dispatcher (edge/src/images/route.ts `ImageRoute`). */
export interface ImageRouteLike {
  handle(request: Request, ctx: ExecutionContext): Promise<Response>;
}

export interface EdgeAppDeps extends EdgeDeps {
  /** Builds the `/cdn-cgi/image/*` route on the page edge; default none (such paths are proxied). */
  imageRoute?: ((pages: Edge) => ImageRouteLike) | null;
  /** Throttle for bad admin tokens; default a new AuthThrottle (10 failures a minute per client). */
  adminThrottle?: AuthThrottle;
}

export interface EdgeApp {
  edge: Edge;
  /** `url` is `request.url` when the caller has read it already (each read calls into the runtime). */
  fetch(request: Request, env: unknown, ctx: ExecutionContext, url?: string): Response | Promise<Response>;
}

/** Builds the edge part from its dependencies (defaults per EdgeDeps; see edge/README.md). */
export function createEdgeApp(deps: EdgeAppDeps): EdgeApp {
  const edge = new Edge(deps);
  const admin = createAdminRoutes(edge, deps.adminThrottle, deps.now);
  const images = deps.imageRoute ? deps.imageRoute(edge) : null;
  const spec = deps.speculation ?? null;
  const specPrefix = spec?.route !== undefined ? (spec.routePrefix ?? null) : null;
  const observe = spec?.observe ?? null;
  return {
    edge,
    fetch(request, env, ctx, url = request.url) {
      if (specPrefix !== null && hasPathPrefix(url, specPrefix))
        return (spec as Required<SpeculationHook>).route(request, url, ctx);
      if (hasPathPrefix(url, "/_edge/")) return admin.fetch(request, env, ctx);
      if (images !== null && hasPathPrefix(url, IMAGE_ROUTE_PREFIX)) return images.handle(request, ctx);
      const res = edge.serve(request, ctx, url);
      if (observe === null) return res;
      if (res instanceof Response) {
        observe(request, res, url, ctx);
        return res;
      }
      return res.then((r) => {
        observe(request, r, url, ctx);
        return r;
      });
    },
  };
}
