/**
 * Error budgets and multi-window burn-rate alerts (Google SRE workbook, "Alerting on SLOs",
 * approach 6): a page when the 1 h and the 5 min burn rates are both ≥ 14.4 (2 % of a 30-day
 * budget in an hour), a ticket when the 6 h and the 30 min burn rates are both ≥ 6 (5 % in 6 h).
 * Pure functions: counts in, numbers out.
 */

/** Window name → length in ms. */
export const WINDOWS = { "5m": 300_000, "30m": 1_800_000, "1h": 3_600_000, "6h": 21_600_000 } as const;
export type WindowName = keyof typeof WINDOWS;

export interface AlertRule {
  severity: "page" | "ticket";
  long: WindowName;
  short: WindowName;
  /** Burn rate both windows must reach. */
  burnRate: number;
}

export const ALERT_RULES: readonly AlertRule[] = [
  { severity: "page", long: "1h", short: "5m", burnRate: 14.4 },
  { severity: "ticket", long: "6h", short: "30m", burnRate: 6 },
];

/** Page views (weighted by 1 / sample rate) and the bad ones among them. */
export interface Counts {
  total: number;
  bad: number;
}

/**
 * Burn rate = bad share ÷ allowed bad share (1 − target). 1 spends the budget exactly over the
 * window; null without page views (no evidence either way).
 */
export function burnRate(c: Counts, target: number): number | null {
  if (!(c.total > 0)) return null;
  return c.bad / c.total / (1 - target);
}

/**
 * Share of the error budget left over the SLO window: 1 − bad ÷ (total × (1 − target)), may go
 * below 0 when overspent; null without page views.
 */
export function budgetRemaining(c: Counts, target: number): number | null {
  if (!(c.total > 0)) return null;
  return 1 - c.bad / (c.total * (1 - target));
}

/** A rule fires when both of its windows have page views and burn at or above its rate. */
export function ruleFires(rule: AlertRule, burn: Partial<Record<WindowName, number | null>>): boolean {
  const l = burn[rule.long];
  const s = burn[rule.short];
  return typeof l === "number" && typeof s === "number" && l >= rule.burnRate && s >= rule.burnRate;
}
