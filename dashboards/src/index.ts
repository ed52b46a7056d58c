/** Wiring only: builds the dashboards app from `env` (placeholder until the dashboards land). */
export function createDashboardsFromEnv(_env: Env) {
  return { fetch: (_req: Request) => new Response("dashboards not built yet", { status: 503 }) };
}
