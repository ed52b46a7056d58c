/**
 * Error budgets and multi-window, multi-burn-rate alerts (Google SRE workbook, "Alerting on
 * SLOs", approach 6). A rule is a share of the error budget consumed in its long window: page =
 * 2 % in 1 h, ticket = 5 % in 6 h. The burn-rate threshold follows from the budget window:
 * share × window ÷ long window, so 14.4 and 6 for 30 days, 13.44 and 5.6 for 28 days. Both the
 * long and the short window (5 min, 30 min) must reach it.
 *
 * Reachability: no window can burn faster than 1 ÷ (1 − target) (every page view bad), 4× for a
 * p75 objective, so its derived 13.44× would never page. When the page threshold exceeds
 * `CLAMP_BAD_SHARE` (90 %) of that maximum, both thresholds are scaled down by the same factor:
 * the page fires when ≥ 90 % of page views in both windows are bad, the ticket keeps the
 * workbook's ticket ÷ page ratio ((5 % ÷ 6 h) ÷ (2 % ÷ 1 h) = 5 ÷ 12 = 6 ÷ 14.4). No threshold goes under 1× (a slower
 * burn does not spend the budget within its window; short budget windows would otherwise page
 * while the objective is met). Pure functions: counts in, numbers out.
 */

/** Window name → length in ms. */
export const WINDOWS = { "5m": 300_000, "30m": 1_800_000, "1h": 3_600_000, "6h": 21_600_000 } as const;
export type WindowName = keyof typeof WINDOWS;

const DAY_MS = 86_400_000;

export interface AlertRule {
  severity: "page" | "ticket";
  long: WindowName;
  short: WindowName;
  /** Share of the error budget the long window consumes at the threshold. */
  budgetShare: number;
}

export const ALERT_RULES: readonly AlertRule[] = [
  { severity: "page", long: "1h", short: "5m", budgetShare: 0.02 },
  { severity: "ticket", long: "6h", short: "30m", budgetShare: 0.05 },
];

/** A clamped page fires when this share of page views (or more) is bad in both its windows. */
export const CLAMP_BAD_SHARE = 0.9;

/** A rule with the burn rate both its windows must reach for one objective. */
export interface RuleThreshold {
  severity: AlertRule["severity"];
  long: WindowName;
  short: WindowName;
  burnRate: number;
  /** True when the threshold is not the budget-share derivation (scaled down to be reachable, or raised to 1×). */
  clamped: boolean;
}

/** Highest burn rate any window can show: every page view bad. */
export function maxBurnRate(target: number): number {
  return 1 / (1 - target);
}

const round4 = (v: number): number => Math.round(v * 10_000) / 10_000;

/** Burn-rate thresholds of every rule for an objective's target and budget window (see above). */
export function alertThresholds(target: number, windowDays: number): RuleThreshold[] {
  const derived = ALERT_RULES.map((r) => round4((r.budgetShare * windowDays * DAY_MS) / WINDOWS[r.long]));
  const reachable = CLAMP_BAD_SHARE * maxBurnRate(target);
  const scale = Math.min(1, reachable / Math.max(...derived));
  return ALERT_RULES.map((r, i) => {
    const d = derived[i] as number;
    const burnRate = Math.max(1, scale < 1 ? round4(d * scale) : d);
    return { severity: r.severity, long: r.long, short: r.short, burnRate, clamped: burnRate !== d };
  });
}

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

/**
 * Whether a rule fires: true when both of its windows burn at or above its threshold, false when
 * both have page views and one is under it, null when either window has no page views (no
 * evidence: silence, a total outage included, must not resolve an alert, so it keeps its state).
 */
export function ruleFires(
  rule: Pick<RuleThreshold, "long" | "short" | "burnRate">,
  burn: Partial<Record<WindowName, number | null>>,
): boolean | null {
  const l = burn[rule.long];
  const s = burn[rule.short];
  if (typeof l !== "number" || typeof s !== "number") return null;
  return l >= rule.burnRate && s >= rule.burnRate;
}
