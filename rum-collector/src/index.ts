/**
 * Wiring only: builds the collector app from `env` (config parsed once per isolate by the root
 * Worker's cache) and re-exports the queue consumer and cron handlers.
 */
import type { RumQueueMessage } from "../../common/src/rum-types.ts";
import { createCollectorApp } from "./app.ts";
import { beaconAssetResponse } from "./beacon-asset.ts";
import { parseCollectorConfig } from "./config.ts";
import { createInsightsFromEnv, runSloAlerts } from "./insights/index.ts";
import { createQueryRoutes } from "./query/routes.ts";
import { handleQueue as consumeBatch } from "./store/consumer.ts";
import { handleScheduled as storeScheduled } from "./store/cron.ts";

/** The collector for `/_rum/*`, built from the Worker env (throws `Invalid config …` on bad vars). */
export function createCollectorFromEnv(env: Env) {
  const config = parseCollectorConfig(env as unknown as Record<string, unknown>);
  // The script's default site is the one registered for the origin it is served from.
  const defaultSite = config.sites.keys().next().value;
  return createCollectorApp({
    config,
    queue: env.RUM_QUEUE,
    // An unset token reaches the routes as "": they answer 503 (query API disabled).
    insightsRoutes: createInsightsFromEnv(env, config.queryToken ?? ""),
    queryRoutes: createQueryRoutes({ db: env.DB, queryToken: config.queryToken ?? "", now: Date.now }),
    beaconAsset: (request) =>
      beaconAssetResponse(request, {
        defaultSite: config.siteByOrigin.get(new URL(request.url).origin) ?? defaultSite,
      }),
  });
}

/** Queue consumer for `rum-events`; bodies (objects or JSON text) are checked one by one there, hence the cast. */
export function handleQueue(batch: MessageBatch, env: Env, ctx: ExecutionContext): Promise<void> {
  return consumeBatch(batch as MessageBatch<RumQueueMessage | string>, env, ctx);
}

/** Cron: storage maintenance, then the SLO burn alerts (each runs even when the other fails). */
export async function handleScheduled(controller: ScheduledController, env: Env, ctx: ExecutionContext) {
  const steps = await Promise.allSettled([
    storeScheduled(controller, env, ctx),
    runSloAlerts(env, controller.scheduledTime || Date.now()),
  ]);
  for (const s of steps) if (s.status === "rejected") throw s.reason;
}
