/**
 * The one deployable Worker: wiring only. `/_rum/*` goes to the RUM collector, `/_dash*` to the
 * dashboards, everything else to the edge (CDN layer in front of the origin). Each part builds
 * its app once per isolate from `env` (config parsed and validated once).
 */
import { createDashboardsFromEnv } from "../dashboards/src/index.ts";
import { createEdgeFromEnv } from "../edge/src/index.ts";
import { createCollectorFromEnv, handleQueue, handleScheduled } from "../rum-collector/src/index.ts";

type Part = { fetch(request: Request, env: Env, ctx: ExecutionContext): Response | Promise<Response> };

const edges = new WeakMap<Env, Part>();
const collectors = new WeakMap<Env, Part>();
const dashboards = new WeakMap<Env, Part>();

function part(cache: WeakMap<Env, Part>, env: Env, make: (env: Env) => Part): Part {
  let p = cache.get(env);
  if (!p) {
    p = make(env);
    cache.set(env, p);
  }
  return p;
}

export default {
  fetch(request, env, ctx) {
    const url = request.url;
    // Cheap prefix test on the path without a second URL parse on the hot path.
    const pathStart = url.indexOf("/", url.indexOf("//") + 2);
    const path = pathStart === -1 ? "/" : url.slice(pathStart);
    if (path.startsWith("/_rum/"))
      return part(collectors, env, createCollectorFromEnv).fetch(request, env, ctx);
    if (path === "/_dash" || path.startsWith("/_dash/") || path.startsWith("/_dash?")) {
      return part(dashboards, env, createDashboardsFromEnv).fetch(request, env, ctx);
    }
    return part(edges, env, createEdgeFromEnv).fetch(request, env, ctx);
  },
  queue(batch, env, ctx) {
    return handleQueue(batch, env, ctx);
  },
  scheduled(controller, env, ctx) {
    return handleScheduled(controller, env, ctx);
  },
} satisfies ExportedHandler<Env>;
