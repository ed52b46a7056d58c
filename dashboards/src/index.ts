/** Wiring only: builds the dashboards app from `env` and the query-API caller the Worker entry provides. */
import type { QueryApi } from "./api-client.ts";
import { createDashboardsApp } from "./app.ts";
import { parseDashConfig } from "./config.ts";

/** Without a wired query API every data call answers 503, which the pages show as a readable error. */
const unwired: QueryApi = async () =>
  Response.json({ error: "the dashboards are not wired to the query API yet" }, { status: 503 });

/**
 * Parses the dashboards config from `env` once (throws naming the bad key) and builds the app.
 * `deps.queryApi(pathAndQuery)` must call the collector's query API in-process with the query
 * token; it defaults to a stub that answers 503.
 */
export function createDashboardsFromEnv(env: Env, deps: { queryApi: QueryApi } = { queryApi: unwired }) {
  return createDashboardsApp({
    config: parseDashConfig(env as unknown as Record<string, unknown>),
    queryApi: deps.queryApi,
  });
}
