/**
 * SLO status from raw page views: good/bad counts over the error-budget window and the four
 * burn-rate windows in one query per objective, then budget left and which alert rules fire.
 */
import type { SloStatus } from "../../../common/src/insights-contract.ts";
import {
  alertThresholds,
  budgetRemaining,
  burnRate,
  type Counts,
  ruleFires,
  WINDOWS,
  type WindowName,
} from "./burn.ts";
import { DAY_MS } from "./params.ts";
import { objectiveText, type Slo, sloColumn } from "./slo-config.ts";

/** One objective's status: the insight API's contract (common/src/insights-contract.ts). */
export type { SloStatus };

/** Weighted counts of one objective's page views: budget window and each burn window, ending at `now`. */
async function countsOf(
  db: D1Database,
  slo: Slo,
  now: number,
): Promise<Record<WindowName | "budget", Counts>> {
  const col = sloColumn(slo);
  const binds: unknown[] = [now - slo.windowDays * DAY_MS, now];
  const where = ["ts >= ?1", "ts < ?2", `${col} IS NOT NULL`];
  if (slo.site !== null) where.push(`site = ?${binds.push(slo.site)}`);
  if (slo.pageGroup !== null) where.push(`page_group = ?${binds.push(slo.pageGroup)}`);
  const thr = `?${binds.push(slo.threshold)}`;
  const w = 1 + binds.length;
  const names = Object.keys(WINDOWS) as WindowName[];
  for (const n of names) binds.push(now - WINDOWS[n]);
  const weight = "(1.0 / CASE WHEN sample_rate > 0 THEN sample_rate ELSE 1 END)";
  const sums = names.flatMap((_n, i) => [
    `SUM(CASE WHEN ts >= ?${w + i} THEN ${weight} ELSE 0 END) AS t${i}`,
    `SUM(CASE WHEN ts >= ?${w + i} AND ${col} > ${thr} THEN ${weight} ELSE 0 END) AS b${i}`,
  ]);
  const row = await db
    .prepare(
      `SELECT SUM(${weight}) AS total, SUM(CASE WHEN ${col} > ${thr} THEN ${weight} ELSE 0 END) AS bad, ${sums.join(", ")} FROM rum_page_views WHERE ${where.join(" AND ")}`,
    )
    .bind(...binds)
    .first<Record<string, number | null>>();
  const c = (t: unknown, b: unknown): Counts => ({ total: Number(t ?? 0), bad: Number(b ?? 0) });
  const out = { budget: c(row?.total, row?.bad) } as Record<WindowName | "budget", Counts>;
  names.forEach((n, i) => {
    out[n] = c(row?.[`t${i}`], row?.[`b${i}`]);
  });
  return out;
}

/** Status of one objective at `now`. */
export async function sloStatus(db: D1Database, slo: Slo, now: number): Promise<SloStatus> {
  const counts = await countsOf(db, slo, now);
  const windows = {} as SloStatus["windows"];
  const burns: Partial<Record<WindowName, number | null>> = {};
  for (const n of Object.keys(WINDOWS) as WindowName[]) {
    const b = burnRate(counts[n], slo.target);
    burns[n] = b;
    windows[n] = { ...counts[n], burnRate: b };
  }
  const budget = counts.budget;
  return {
    id: slo.id,
    name: slo.name,
    objective: objectiveText(slo),
    metric: slo.metric,
    threshold: slo.threshold,
    target: slo.target,
    site: slo.site,
    pageGroup: slo.pageGroup,
    windowDays: slo.windowDays,
    budgetWindow: budget,
    compliance: budget.total > 0 ? 1 - budget.bad / budget.total : null,
    budgetRemaining: budgetRemaining(budget, slo.target),
    windows,
    alerts: alertThresholds(slo.target, slo.windowDays).map((r) => ({ ...r, firing: ruleFires(r, burns) })),
  };
}

/** Status of every objective (sequential: each is one indexed scan of the budget window). */
export async function allSloStatus(db: D1Database, slos: readonly Slo[], now: number): Promise<SloStatus[]> {
  const out: SloStatus[] = [];
  for (const s of slos) out.push(await sloStatus(db, s, now));
  return out;
}
