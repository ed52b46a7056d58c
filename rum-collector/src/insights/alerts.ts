/**
 * SLO burn alerts, evaluated on the cron: for each objective × rule (page: 1 h/5 m, ticket:
 * 6 h/30 m, thresholds from the objective's budget window, see burn.ts) a change between firing
 * and not firing is claimed in `rum_slo_alerts` with a conditional write (so two overlapping runs
 * never both send) and then posted to `RUM_ALERT_WEBHOOK`. A failed post gives the claim back, so
 * the next run retries. Unchanged states send nothing: one message when an alert starts, one when
 * it resolves. A window without page views is no evidence: the alert keeps its state (a total
 * outage that silences the beacons never resolves a page).
 */
import type { SloAlertState } from "../../../common/src/insights-contract.ts";
import type { WindowName } from "./burn.ts";
import type { SloStatus } from "./slo.ts";
import { allSloStatus } from "./slo.ts";
import type { Slo } from "./slo-config.ts";

export type AlertFormat = "slack" | "generic";

export interface AlertConfig {
  /** Webhook URL (http/https); null = alerts are evaluated and stored but not sent. */
  webhook: string | null;
  format: AlertFormat;
  /** Base URL of the dashboards for links in messages (e.g. https://shop.example/_dash/); null = no link. */
  dashboardUrl: string | null;
}

/**
 * Parses `RUM_ALERT_WEBHOOK` (http(s) URL, default unset = not sent), `RUM_ALERT_FORMAT`
 * (`slack` | `generic`, default `slack`) and `RUM_ALERT_DASHBOARD_URL` (default unset).
 */
export function parseAlertConfig(env: Record<string, unknown>): AlertConfig {
  const url = (key: string): string | null => {
    const v = env[key];
    if (v === undefined || v === null || v === "") return null;
    if (typeof v !== "string" || !/^https?:\/\/[^\s/]+/.test(v))
      throw new Error(`Invalid config ${key}: expected an http(s) URL (got ${JSON.stringify(v)})`);
    return v;
  };
  const f = env.RUM_ALERT_FORMAT ?? "slack";
  if (f !== "slack" && f !== "generic")
    throw new Error(
      `Invalid config RUM_ALERT_FORMAT: expected "slack" or "generic" (got ${JSON.stringify(f)})`,
    );
  return { webhook: url("RUM_ALERT_WEBHOOK"), format: f, dashboardUrl: url("RUM_ALERT_DASHBOARD_URL") };
}

export interface AlertEvent {
  status: "firing" | "resolved";
  severity: "page" | "ticket";
  slo: SloStatus;
  long: WindowName;
  short: WindowName;
  threshold: number;
  at: number;
}

function fmt(b: number | null): string {
  return b === null ? "–" : `${b.toFixed(1)}×`;
}

/** The webhook body: Slack-compatible (`text` + `blocks`) or a generic JSON record. */
export function alertBody(e: AlertEvent, cfg: AlertConfig): unknown {
  const s = e.slo;
  const r3 = (v: number | null) => (v === null ? null : Math.round(v * 1000) / 1000);
  const bl = r3(s.windows[e.long].burnRate);
  const bs = r3(s.windows[e.short].burnRate);
  const link = cfg.dashboardUrl
    ? `${cfg.dashboardUrl.replace(/\/$/, "")}/slo?slo=${encodeURIComponent(s.id)}`
    : null;
  if (cfg.format === "generic")
    return {
      status: e.status,
      severity: e.severity,
      slo: {
        id: s.id,
        name: s.name,
        objective: s.objective,
        target: s.target,
        site: s.site,
        pageGroup: s.pageGroup,
      },
      burnRates: { [e.long]: bl, [e.short]: bs },
      burnRateThreshold: e.threshold,
      budgetRemaining: s.budgetRemaining,
      at: new Date(e.at).toISOString(),
      dashboard: link,
    };
  const head =
    e.status === "firing"
      ? `:rotating_light: [${e.severity.toUpperCase()}] SLO "${s.name}" is burning its error budget`
      : `:white_check_mark: [RESOLVED ${e.severity}] SLO "${s.name}" is back under its burn-rate threshold`;
  const detail = `${s.objective}${s.pageGroup ? ` (page group ${s.pageGroup})` : ""} · burn ${e.long} ${fmt(bl)}, ${e.short} ${fmt(bs)} (alert at ${e.threshold}×) · budget left ${s.budgetRemaining === null ? "–" : `${Math.round(s.budgetRemaining * 100)} %`}`;
  const text = `${head}\n${detail}${link ? `\n${link}` : ""}`;
  return { text, blocks: [{ type: "section", text: { type: "mrkdwn", text } }] };
}

export interface EvaluateDeps {
  db: D1Database;
  slos: readonly Slo[];
  config: AlertConfig;
  now: number;
  /** Posts to the webhook (default global fetch). */
  fetch?: typeof fetch;
  logError?: (message: string) => void;
}

/**
 * Claims a transition of (slo, severity) to `state`: inserts or updates the row only when the
 * stored state differs. Returns the previous row (to give the claim back) or undefined when
 * nothing changed (another run got there first, or no transition).
 */
async function claim(
  db: D1Database,
  e: AlertEvent,
): Promise<
  { prev: { state: string; since: number; bl: number | null; bs: number | null } | null } | undefined
> {
  const prev = await db
    .prepare(
      "SELECT state, since, burn_long AS bl, burn_short AS bs FROM rum_slo_alerts WHERE slo_id = ?1 AND severity = ?2",
    )
    .bind(e.slo.id, e.severity)
    .first<{ state: string; since: number; bl: number | null; bs: number | null }>();
  if ((prev?.state ?? "resolved") === e.status) return undefined;
  const r = await db
    .prepare(
      `INSERT INTO rum_slo_alerts (slo_id, severity, state, since, burn_long, burn_short) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
       ON CONFLICT (slo_id, severity) DO UPDATE SET state = excluded.state, since = excluded.since,
         burn_long = excluded.burn_long, burn_short = excluded.burn_short
       WHERE rum_slo_alerts.state <> excluded.state`,
    )
    .bind(
      e.slo.id,
      e.severity,
      e.status,
      e.at,
      e.slo.windows[e.long].burnRate,
      e.slo.windows[e.short].burnRate,
    )
    .run();
  return r.meta.changes === 1 ? { prev: prev ?? null } : undefined;
}

async function giveBack(
  db: D1Database,
  e: AlertEvent,
  prev: Awaited<ReturnType<typeof claim>>,
): Promise<void> {
  if (!prev) return;
  if (prev.prev === null)
    await db
      .prepare("DELETE FROM rum_slo_alerts WHERE slo_id = ?1 AND severity = ?2 AND since = ?3")
      .bind(e.slo.id, e.severity, e.at)
      .run();
  else
    await db
      .prepare(
        "UPDATE rum_slo_alerts SET state = ?3, since = ?4, burn_long = ?5, burn_short = ?6 WHERE slo_id = ?1 AND severity = ?2 AND since = ?7",
      )
      .bind(e.slo.id, e.severity, prev.prev.state, prev.prev.since, prev.prev.bl, prev.prev.bs, e.at)
      .run();
}

/**
 * What one evaluation did: messages sent, failed sends (to be retried), current firing alerts
 * and the alerts left as they were because a window had no page views.
 */
export interface EvaluateResult {
  sent: AlertEvent[];
  failed: { event: AlertEvent; error: string }[];
  firing: { slo: string; severity: string }[];
  noData: { slo: string; severity: string }[];
}

/** Evaluates every objective at `now`, sends transitions to the webhook; never throws on a failed send. */
export async function evaluateSloAlerts(deps: EvaluateDeps): Promise<EvaluateResult> {
  const send = deps.fetch ?? fetch;
  const out: EvaluateResult = { sent: [], failed: [], firing: [], noData: [] };
  const statuses = await allSloStatus(deps.db, deps.slos, deps.now);
  const stored = statuses.some((s) => s.alerts.some((a) => a.firing === null))
    ? await alertStates(deps.db)
    : [];
  for (const s of statuses) {
    for (const a of s.alerts) {
      if (a.firing === null) {
        // No page views in a window: no transition either way, the stored state stands.
        out.noData.push({ slo: s.id, severity: a.severity });
        if (stored.some((x) => x.sloId === s.id && x.severity === a.severity && x.state === "firing"))
          out.firing.push({ slo: s.id, severity: a.severity });
        continue;
      }
      if (a.firing) out.firing.push({ slo: s.id, severity: a.severity });
      const event: AlertEvent = {
        status: a.firing ? "firing" : "resolved",
        severity: a.severity,
        slo: s,
        long: a.long,
        short: a.short,
        threshold: a.burnRate,
        at: deps.now,
      };
      // No webhook: nothing is claimed, so a webhook configured later still hears of a firing alert.
      if (deps.config.webhook === null) continue;
      const claimed = await claim(deps.db, event);
      if (!claimed) continue;
      try {
        const res = await send(deps.config.webhook, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(alertBody(event, deps.config)),
          signal: AbortSignal.timeout(10_000),
        });
        await res.body?.cancel();
        if (!res.ok) throw new Error(`webhook answered ${res.status}`);
        out.sent.push(event);
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        await giveBack(deps.db, event, claimed);
        out.failed.push({ event, error });
        (deps.logError ?? console.error)(
          `rum alerts: ${s.id} ${event.severity} ${event.status} not sent: ${error}`,
        );
      }
    }
  }
  return out;
}

/** Current alert rows (for the SLO endpoint): which objective × severity fires, since when. */
export async function alertStates(db: D1Database): Promise<SloAlertState[]> {
  const r = await db
    .prepare("SELECT slo_id, severity, state, since FROM rum_slo_alerts ORDER BY slo_id, severity")
    .all<{ slo_id: string; severity: string; state: string; since: number }>();
  return r.results.map((x) => ({
    sloId: x.slo_id,
    severity: x.severity,
    state: x.state,
    since: Number(x.since),
  }));
}
