/** Wiring only: builds the edge app from `env` (placeholder until the edge lands). */
export function createEdgeFromEnv(_env: Env) {
  return { fetch: (_req: Request) => new Response("edge not built yet", { status: 503 }) };
}
