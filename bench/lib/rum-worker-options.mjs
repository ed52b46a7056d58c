/**
 * Miniflare options for the bundled Worker as the RUM benchmarks run it (`wrangler deploy
 * --dry-run` output at `script`): the bench's local vars and tokens, D1 `DB`, KV `EDGE_KV`, R2
 * `RUM_ARCHIVE` and the `rum-events` queue producer. Callers add the consumer, name and registry.
 */
import { dirname } from "node:path";

/** The local vars of a bench Worker (`ENVIRONMENT=development`: the bench tokens are accepted only there). */
export function rumBenchVars(queryToken) {
  return {
    ENVIRONMENT: "development",
    ORIGIN_URL: "http://127.0.0.1:9",
    IMAGE_SERVICE_URL: "http://127.0.0.1:9",
    EDGE_ADMIN_TOKEN: "bench-admin",
    RUM_QUERY_TOKEN: queryToken,
    RUM_SITES: "demo=http://127.0.0.1:8787",
    RUM_RATE_LIMIT: "off",
    DASH_TOKEN: "bench-dash",
  };
}

export function rumWorkerOptions(script, bindings) {
  return {
    modules: true,
    scriptPath: script,
    modulesRoot: dirname(script),
    compatibilityDate: "2026-11-01",
    compatibilityFlags: ["nodejs_compat"],
    bindings,
    d1Databases: { DB: "bench-d1" },
    kvNamespaces: ["EDGE_KV"],
    r2Buckets: ["RUM_ARCHIVE"],
    queueProducers: { RUM_QUEUE: { queueName: "rum-events" } },
  };
}
