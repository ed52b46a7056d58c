/**
 * Parameter parsing shared by the insight endpoints (`/v1/slo`, `/v1/pageview`, `/v1/impact`,
 * `/v1/distribution`, `/v1/cache`). Unknown or repeated parameters are rejected, so a typo never
 * silently widens a query; every message names the parameter and the bad value.
 */

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
/** Raw page views are kept 30 days by default (RUM_RETENTION raw); ranges may not be longer. */
export const MAX_RANGE_MS = 31 * DAY_MS;
const MAX_FILTER_VALUES = 50;

/** Filter dimension (API name) → column of rum_page_views. Column names only ever come from here. */
export const FILTER_COLUMNS = {
  site: "site",
  pageGroup: "page_group",
  device: "device",
  country: "country",
  connection: "connection",
  cacheStatus: "cache_status",
  colo: "colo",
  browser: "browser",
} as const;
export type FilterName = keyof typeof FILTER_COLUMNS;
export type Filters = Partial<Record<FilterName, string[]>>;

/** Metrics with a value per page view (API name → column, web.dev good/poor thresholds). */
export const METRIC_COLUMNS = {
  lcp: { column: "lcp", good: 2500, poor: 4000 },
  inp: { column: "inp", good: 200, poor: 500 },
  cls: { column: "cls", good: 0.1, poor: 0.25 },
  fcp: { column: "fcp", good: 1800, poor: 3000 },
  ttfb: { column: "ttfb", good: 800, poor: 1800 },
} as const;
export type MetricName = keyof typeof METRIC_COLUMNS;
export const METRIC_NAMES = Object.keys(METRIC_COLUMNS) as MetricName[];

export function fail<T>(error: string): Parsed<T> {
  return { ok: false, error };
}

/** `limit` (an integer 1–100), `dflt` when absent. */
export function parseLimit(params: URLSearchParams, dflt: number): Parsed<number> {
  const raw = params.get("limit") ?? String(dflt);
  if (!/^\d{1,3}$/.test(raw) || Number(raw) < 1 || Number(raw) > 100)
    return fail(`invalid "limit": expected an integer 1–100 (got "${raw}")`);
  return { ok: true, value: Number(raw) };
}

/** Rejects parameters outside `allowed` and parameters given twice. */
export function rejectUnknown(params: URLSearchParams, allowed: readonly string[]): string | null {
  for (const k of new Set(params.keys())) {
    if (!allowed.includes(k)) return `unknown parameter "${k}" (allowed: ${allowed.join(", ")})`;
    if (params.getAll(k).length > 1) return `parameter "${k}" given more than once`;
  }
  return null;
}

function parseTime(raw: string): number | null {
  if (/^\d{1,15}$/.test(raw)) return Number(raw);
  if (!/^\d{4}-\d{2}-\d{2}/.test(raw)) return null;
  const t = Date.parse(raw);
  return Number.isFinite(t) ? t : null;
}

/** `from`/`to` as ISO 8601 or epoch ms; default the hour before `now`; at most 31 days. */
export function parseRange(params: URLSearchParams, now: number): Parsed<{ from: number; to: number }> {
  const toRaw = params.get("to");
  const fromRaw = params.get("from");
  const to = toRaw === null ? now : parseTime(toRaw);
  if (to === null) return fail(`invalid "to": expected ISO 8601 or epoch ms (got "${toRaw}")`);
  const from = fromRaw === null ? to - HOUR_MS : parseTime(fromRaw);
  if (from === null) return fail(`invalid "from": expected ISO 8601 or epoch ms (got "${fromRaw}")`);
  if (from >= to) return fail(`"from" must be before "to" (got from=${fromRaw}, to=${toRaw})`);
  if (to - from > MAX_RANGE_MS) return fail("time range longer than 31 days (raw page views are kept 30)");
  return { ok: true, value: { from, to } };
}

/** Comma lists of the filter dimensions (`country=BR,AR` = either). */
export function parseFilters(params: URLSearchParams): Parsed<Filters> {
  const filters: Filters = {};
  for (const d of Object.keys(FILTER_COLUMNS) as FilterName[]) {
    const raw = params.get(d);
    if (raw === null) continue;
    const values = raw.split(",").map((v) => v.trim());
    if (values.some((v) => v === "" || v.length > 200))
      return fail(`invalid "${d}": expected comma-separated non-empty values (got "${raw}")`);
    if (values.length > MAX_FILTER_VALUES)
      return fail(`too many values for "${d}" (max ${MAX_FILTER_VALUES})`);
    filters[d] = values;
  }
  return { ok: true, value: filters };
}

/** `metric` as one of lcp, inp, cls, fcp, ttfb (default `def`). */
export function parseMetric(params: URLSearchParams, def: MetricName): Parsed<MetricName> {
  const raw = params.get("metric");
  if (raw === null) return { ok: true, value: def };
  if (!(METRIC_NAMES as string[]).includes(raw))
    return fail(`unknown metric "${raw}" (one of ${METRIC_NAMES.join(", ")})`);
  return { ok: true, value: raw as MetricName };
}

/** SQL `WHERE` parts and binds for a range and filters over rum_page_views (`alias.` prefix optional). */
export function whereClause(
  range: { from: number; to: number },
  filters: Filters,
  binds: unknown[],
  alias = "",
): string[] {
  const where = [`${alias}ts >= ?${binds.push(range.from)}`, `${alias}ts < ?${binds.push(range.to)}`];
  for (const [name, values] of Object.entries(filters) as [FilterName, string[]][]) {
    if (values.length === 0) continue;
    const col = `${alias}${FILTER_COLUMNS[name]}`;
    where.push(`${col} IN (${values.map((v) => `?${binds.push(v)}`).join(", ")})`);
  }
  return where;
}
