/**
 * Service-level objectives, configured with the `RUM_SLOS` var (JSON). Every objective is a
 * ratio: the share of page views whose metric is at or under a threshold must reach a target.
 * "p75 LCP ≤ 2.5 s" is the same statement as "≥ 75 % of page views have LCP ≤ 2.5 s", so
 * percentile and ratio objectives share one error budget and one burn-rate definition.
 */
import { METRIC_COLUMNS, METRIC_NAMES, type MetricName } from "./params.ts";

export interface Slo {
  /** Stable id (alert state and URLs): [a-z0-9-], 1–64 chars. */
  id: string;
  /** Human name; default built from the objective. */
  name: string;
  metric: MetricName;
  /** A page view is good when its metric is ≤ threshold (ms; unitless for CLS). */
  threshold: number;
  /** Share of good page views the objective asks for, in (0, 1), e.g. 0.75 for a p75 objective. */
  target: number;
  /** Only page views of this site / page group count; null = every one. */
  site: string | null;
  pageGroup: string | null;
  /** Error-budget window in days (1–30, default 28; raw page views are kept 30 days). */
  windowDays: number;
}

/** Used when `RUM_SLOS` is unset: the two objectives of the README's example. */
export const DEFAULT_SLOS_JSON = JSON.stringify([
  { id: "lcp-p75", metric: "lcp", threshold: 2500, target: 0.75 },
  { id: "ttfb-99", metric: "ttfb", threshold: 800, target: 0.99 },
]);

const KEY = "RUM_SLOS";

function bad(why: string, value: unknown): Error {
  return new Error(`Invalid config ${KEY}: ${why} (got ${JSON.stringify(value)})`);
}

function unit(metric: MetricName, v: number): string {
  return metric === "cls" ? String(v) : v >= 1000 ? `${v / 1000} s` : `${v} ms`;
}

/** The objective in words: "p75 LCP ≤ 2.5 s" or "99 % of TTFB ≤ 800 ms". */
export function objectiveText(s: Pick<Slo, "metric" | "threshold" | "target">): string {
  const pct = Math.round(s.target * 10_000) / 100;
  const name = s.metric.toUpperCase();
  return Number.isInteger(pct) && [50, 75, 90, 95, 99].includes(pct)
    ? `p${pct} ${name} ≤ ${unit(s.metric, s.threshold)}`
    : `${pct} % of page views ${name} ≤ ${unit(s.metric, s.threshold)}`;
}

function parseOne(v: unknown, i: number, seen: Set<string>): Slo {
  if (!v || typeof v !== "object" || Array.isArray(v)) throw bad(`entry ${i} is not an object`, v);
  const o = v as Record<string, unknown>;
  const allowed = ["id", "name", "metric", "threshold", "target", "site", "pageGroup", "windowDays"];
  for (const k of Object.keys(o))
    if (!allowed.includes(k))
      throw bad(`entry ${i} has unknown key "${k}" (allowed: ${allowed.join(", ")})`, v);
  if (typeof o.id !== "string" || !/^[a-z0-9-]{1,64}$/.test(o.id))
    throw bad(`entry ${i}: "id" must be 1–64 of [a-z0-9-]`, o.id ?? null);
  if (seen.has(o.id)) throw bad(`entry ${i}: id "${o.id}" used twice`, o.id);
  seen.add(o.id);
  if (typeof o.metric !== "string" || !(METRIC_NAMES as string[]).includes(o.metric))
    throw bad(`entry ${o.id}: "metric" must be one of ${METRIC_NAMES.join(", ")}`, o.metric ?? null);
  const metric = o.metric as MetricName;
  if (typeof o.threshold !== "number" || !(o.threshold > 0) || !Number.isFinite(o.threshold))
    throw bad(`entry ${o.id}: "threshold" must be a positive number`, o.threshold ?? null);
  if (typeof o.target !== "number" || !(o.target > 0 && o.target < 1))
    throw bad(`entry ${o.id}: "target" must be a number in (0, 1), e.g. 0.99`, o.target ?? null);
  const windowDays = o.windowDays ?? 28;
  if (typeof windowDays !== "number" || !Number.isInteger(windowDays) || windowDays < 1 || windowDays > 30)
    throw bad(`entry ${o.id}: "windowDays" must be an integer 1–30`, windowDays);
  for (const k of ["site", "pageGroup", "name"] as const)
    if (o[k] !== undefined && (typeof o[k] !== "string" || o[k] === "" || (o[k] as string).length > 200))
      throw bad(`entry ${o.id}: "${k}" must be a non-empty string`, o[k]);
  const base = { metric, threshold: o.threshold, target: o.target };
  const scope = typeof o.pageGroup === "string" ? ` for ${o.pageGroup}` : "";
  return {
    id: o.id,
    name: typeof o.name === "string" ? o.name : `${objectiveText(base)}${scope}`,
    ...base,
    site: typeof o.site === "string" ? o.site : null,
    pageGroup: typeof o.pageGroup === "string" ? o.pageGroup : null,
    windowDays,
  };
}

/**
 * Parses `RUM_SLOS`: a JSON array of `{id, metric, threshold, target, name?, site?, pageGroup?,
 * windowDays?}` (at most 50). Unset = `DEFAULT_SLOS_JSON`; "[]" = no objectives. Throws naming
 * the key, the entry and the bad value.
 */
export function parseSlos(raw: unknown): Slo[] {
  const text = raw === undefined || raw === null || raw === "" ? DEFAULT_SLOS_JSON : raw;
  if (typeof text !== "string") throw bad("expected a JSON array as a string", text);
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch (e) {
    throw bad(`not JSON: ${e instanceof Error ? e.message : String(e)}`, text.slice(0, 200));
  }
  if (!Array.isArray(list)) throw bad("expected a JSON array of objectives", list);
  if (list.length > 50) throw bad("at most 50 objectives", list.length);
  const seen = new Set<string>();
  return list.map((v, i) => parseOne(v, i, seen));
}

/** Metric column of an objective (always from the fixed list in params.ts). */
export function sloColumn(s: Slo): string {
  return METRIC_COLUMNS[s.metric].column;
}
