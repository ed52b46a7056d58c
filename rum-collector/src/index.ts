/**
 * Wiring only: builds the collector app from `env` (config parsed once per isolate by the root
 * Worker's cache) and re-exports the queue consumer and cron handlers.
 */
import type { RumQueueMessage } from "../../common/src/rum-types.ts";
import { createCollectorApp } from "./app.ts";
import { beaconAssetResponse } from "./beacon-asset.ts";
import { parseCollectorConfig, parseDeadLetterQueue } from "./config.ts";
import { createInsightsFromEnv, runSloAlerts } from "./insights/index.ts";
import { rebuildPrefetchModels, rulesFromEnv } from "./prefetch/rebuild.ts";
import { createQueryRoutes } from "./query/routes.ts";
import { handleQueue as consumeBatch } from "./store/consumer.ts";
import { createD1Store } from "./store/d1-store.ts";
import { handleScheduled as storeScheduled } from "./store/maintenance.ts";
import { parkDeadLetters } from "./store/replay.ts";

/** The collector for `/_rum/*`, built from the Worker env (throws `Invalid config …` on bad vars). */
export function createCollectorFromEnv(env: Env) {
  const config = parseCollectorConfig(env as unknown as Record<string, unknown>);
  // The script's default site is the one registered for the origin it is served from.
  const defaultSite = config.sites.keys().next().value;
  return createCollectorApp({
    config,
    queue: env.RUM_QUEUE,
    insightsRoutes: createInsightsFromEnv(env, config.queryToken ?? "", config.queryTokenError),
    // A token that is unset or not allowed in this ENVIRONMENT: the routes answer 503 naming the key.
    queryRoutes: createQueryRoutes({
      db: env.DB,
      store: createD1Store({ db: env.DB, archive: env.RUM_ARCHIVE, queue: env.RUM_QUEUE, env }),
      queryToken: config.queryToken ?? "",
      tokenError: config.queryTokenError,
      now: Date.now,
      replay: { archive: env.RUM_ARCHIVE, queue: env.RUM_QUEUE },
    }),
    beaconAsset: (request) =>
      beaconAssetResponse(request, {
        defaultSite: config.siteByOrigin.get(new URL(request.url).origin) ?? defaultSite,
        prefetchArms: config.prefetchArms,
      }),
  });
}

/**
 * Queue consumer for the RUM queue (bodies, objects or JSON text, are checked one by one there,
 * hence the cast) and for its dead-letter queue, named by `RUM_DEAD_LETTER_QUEUE` (default
 * `rum-events-dlq`; parked in R2 for replay). A bad `RUM_DEAD_LETTER_QUEUE` throws the config
 * error, so the batch is retried rather than stored or parked under a wrong assumption.
 */
export async function handleQueue(batch: MessageBatch, env: Env, ctx: ExecutionContext): Promise<void> {
  const deadLetterQueue = parseDeadLetterQueue(env.RUM_DEAD_LETTER_QUEUE);
  if (batch.queue === deadLetterQueue) return parkDeadLetters(batch, env.RUM_ARCHIVE);
  return consumeBatch(batch as MessageBatch<RumQueueMessage | string>, env, ctx);
}

/** Cron: storage maintenance, the SLO burn alerts and the prefetch model rebuild (each runs even when another fails). */
export async function handleScheduled(controller: ScheduledController, env: Env, ctx: ExecutionContext) {
  const steps = await Promise.allSettled([
    storeScheduled(controller, env, ctx),
    runSloAlerts(env, controller.scheduledTime || Date.now()),
    // Prefetch model from the edge's learned transitions into KV (edge/PREFETCH.md).
    rebuildPrefetchModels(env.DB, env.EDGE_KV, controller.scheduledTime || Date.now(), {
      pageGroupRules: rulesFromEnv(env as { RUM_PAGE_GROUPS?: string }),
    }),
  ]);
  for (const s of steps) if (s.status === "rejected") throw s.reason;
}
