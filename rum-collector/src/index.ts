/** Wiring only: builds the collector from `env` (placeholder until the collector lands). */
export function createCollectorFromEnv(_env: Env) {
  return { fetch: (_req: Request) => new Response("collector not built yet", { status: 503 }) };
}
export async function handleQueue(_batch: MessageBatch, _env: Env, _ctx: ExecutionContext): Promise<void> {}
export async function handleScheduled(
  _c: ScheduledController,
  _env: Env,
  _ctx: ExecutionContext,
): Promise<void> {}
