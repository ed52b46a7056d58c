/**
 * The one deployable Worker: wiring only. `/_rum/*` goes to the RUM collector, `/_dash*` to the
 * dashboards, everything else to the edge (CDN layer in front of the origin). Each part builds
 * its app once per isolate from `env` (config parsed and validated once).
 */
import { hasPathPrefix } from "../common/src/http-response.ts";
import { createDashboardsFromEnv } from "../dashboards/src/index.ts";
import { createEdgeFromEnv } from "../edge/src/index.ts";

export { PurgeCoordinator } from "../edge/src/index.ts";

import { createCollectorFromEnv, handleQueue, handleScheduled } from "../rum-collector/src/index.ts";

type Part = {
  /** `url` is `request.url`, read once by the caller. */
  fetch(request: Request, env: Env, ctx: ExecutionContext, url?: string): Response | Promise<Response>;
};

const edges = new WeakMap<Env, Part>();
const collectors = new WeakMap<Env, Part>();
const dashboards = new WeakMap<Env, Part>();

function part(cache: WeakMap<Env, Part>, env: Env, make: (env: Env) => Part): Part {
  let p = cache.get(env);
  if (!p) {
    try {
      p = make(env);
    } catch (e) {
      // A bad var is an operator error: every request says which key is wrong (not cached, so a
      // fixed config is picked up without a restart of the isolate).
      const message = e instanceof Error ? e.message : String(e);
      if (message.startsWith("Invalid config ")) {
        return { fetch: () => Response.json({ error: message }, { status: 503 }) };
      }
      // Any other fault is ours: a generic 500 for the client, the details in the log.
      console.error(`worker: building a part failed: ${e instanceof Error ? (e.stack ?? message) : message}`);
      return { fetch: () => Response.json({ error: "internal error" }, { status: 500 }) };
    }
    cache.set(env, p);
  }
  return p;
}

/**
 * The dashboards read data only through the query API: this calls the collector's query routes
 * in-process (no network hop, no self-subrequest) with the query token.
 */
function dashboardsFor(env: Env): Part {
  const queryApi = (pathAndQuery: string): Promise<Response> => {
    const request = new Request(`http://internal${pathAndQuery}`, {
      headers: { Authorization: `Bearer ${env.RUM_QUERY_TOKEN}` },
    });
    return Promise.resolve(part(collectors, env, createCollectorFromEnv).fetch(request, env, backgroundCtx));
  };
  return createDashboardsFromEnv(env, { queryApi });
}

/** Query handlers do no background work; a context that still keeps any promise from leaking errors. */
const backgroundCtx = {
  waitUntil(p: Promise<unknown>) {
    p.catch(() => {});
  },
  passThroughOnException() {},
  props: {},
} as unknown as ExecutionContext;

export default {
  fetch(request, env, ctx) {
    const url = request.url;
    // Prefix tests on the path in place: no URL parse and no substring on the hot path.
    if (hasPathPrefix(url, "/_rum/"))
      return part(collectors, env, createCollectorFromEnv).fetch(request, env, ctx);
    if (hasPathPrefix(url, "/_dash")) return part(dashboards, env, dashboardsFor).fetch(request, env, ctx);
    return part(edges, env, createEdgeFromEnv).fetch(request, env, ctx, url);
  },
  queue(batch, env, ctx) {
    return handleQueue(batch, env, ctx);
  },
  scheduled(controller, env, ctx) {
    return handleScheduled(controller, env, ctx);
  },
} satisfies ExportedHandler<Env>;
