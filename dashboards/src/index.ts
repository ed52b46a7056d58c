/** Wiring only: builds the dashboards app from `env` and the query-API caller the Worker entry provides. */
import { checkSecretToken } from "../../common/src/secret-token.ts";
import type { QueryApi } from "./api-client.ts";
import { createDashboardsApp } from "./app.ts";
import { parseDashConfig } from "./config.ts";

/** Without a wired query API every data call answers 503, which the pages show as a readable error. */
const unwired: QueryApi = async () =>
  Response.json({ error: "the dashboards are not wired to the query API yet" }, { status: 503 });

/**
 * Parses the dashboards config from `env` once (throws naming the bad key, also when DASH_TOKEN
 * fails the secret-token policy for `ENVIRONMENT`) and builds the app.
 * `deps.queryApi(pathAndQuery)` must call the collector's query API in-process with the query
 * token; it defaults to a stub that answers 503.
 */
export function createDashboardsFromEnv(env: Env, deps: { queryApi: QueryApi } = { queryApi: unwired }) {
  // Outside ENVIRONMENT=development a missing, short or dev- token is a config error: the Worker
  // answers every /_dash request with 503 naming DASH_TOKEN (never its value).
  const check = checkSecretToken("DASH_TOKEN", env.DASH_TOKEN, env.ENVIRONMENT);
  if (!check.ok) throw new Error(`Invalid config DASH_TOKEN: ${check.reason}`);
  return createDashboardsApp({
    config: parseDashConfig(env as unknown as Record<string, unknown>),
    queryApi: deps.queryApi,
  });
}
