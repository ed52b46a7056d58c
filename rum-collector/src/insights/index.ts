/** Wiring of the insight routes and the SLO alert cron step from the Worker env. */
import { evaluateSloAlerts, parseAlertConfig } from "./alerts.ts";
import { createInsightsRoutes } from "./routes.ts";
import { parseSlos } from "./slo-config.ts";

/** The insight routes for `env` (throws `Invalid config RUM_SLOS …` on a bad objective list). */
export function createInsightsFromEnv(env: Env, queryToken: string, tokenError: string | null = null) {
  const vars = env as unknown as Record<string, unknown>;
  return createInsightsRoutes({
    db: env.DB,
    queryToken,
    tokenError,
    slos: parseSlos(vars.RUM_SLOS),
    now: Date.now,
  });
}

/** The cron step: evaluates every objective and posts alert transitions to RUM_ALERT_WEBHOOK. */
export async function runSloAlerts(env: Env, now = Date.now()): Promise<void> {
  const vars = env as unknown as Record<string, unknown>;
  const result = await evaluateSloAlerts({
    db: env.DB,
    slos: parseSlos(vars.RUM_SLOS),
    config: parseAlertConfig(vars),
    now,
  });
  if (result.failed.length > 0)
    console.error(`rum alerts: ${result.failed.length} message(s) not sent, retried on the next run`);
}
