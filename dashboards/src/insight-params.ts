/**
 * URL parameters of the SLO, distribution, impact, optimisation and page-view pages: the same
 * strict rules as the overview (unknown → 400 with the reason), so every view is a shareable URL.
 */
import { FILTER_DIMENSIONS, VITALS, type Vital } from "./metrics.ts";
import { BadRequest, type Filters, RANGES, type RangeKey } from "./view-params.ts";

export type InsightPage = "slo" | "distribution" | "impact" | "effects";

export interface InsightParams {
  page: InsightPage;
  range: RangeKey;
  filters: Filters;
  /** Distribution: the metric shown. */
  metric: Vital;
  /** Impact: bucket sessions by the landing page's LCP or TTFB. */
  by: "lcp" | "ttfb";
  /** SLO page: one objective (empty = all). */
  slo: string;
}

/** Which parameters each page reads (anything else is refused). */
const KEYS: Record<InsightPage, readonly string[]> = {
  slo: ["slo"],
  distribution: ["range", "metric", ...FILTER_DIMENSIONS],
  impact: ["range", "by", ...FILTER_DIMENSIONS.filter((d) => d !== "cacheStatus")],
  effects: ["range", "site"],
};

function one(params: URLSearchParams, key: string): string | undefined {
  const all = params.getAll(key);
  if (all.length > 1) throw new BadRequest(`Parameter ${key} given ${all.length} times: give it once`);
  return all[0] === "" ? undefined : all[0];
}

function pick<T extends string>(key: string, v: string | undefined, allowed: readonly T[], def: T): T {
  if (v === undefined) return def;
  if ((allowed as readonly string[]).includes(v)) return v as T;
  throw new BadRequest(`Unknown ${key} "${v}": expected one of ${allowed.join(", ")}`);
}

/** Parses a page's URL; defaults: range 1 h, metric LCP, impact by LCP, site from config. */
export function parseInsightParams(
  page: InsightPage,
  params: URLSearchParams,
  defaultSite: string,
): InsightParams {
  const allowed = KEYS[page];
  for (const k of new Set(params.keys()))
    if (!allowed.includes(k))
      throw new BadRequest(`Unknown parameter "${k}": allowed are ${allowed.join(", ") || "none"}`);
  const filters: Filters = {};
  for (const d of FILTER_DIMENSIONS) {
    if (!allowed.includes(d)) continue;
    const v = one(params, d);
    if (v === undefined) continue;
    // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
    if (v.length > 200 || /[\u0000-\u001f\u007f]/.test(v) || v.split(",").some((x) => x.trim() === ""))
      throw new BadRequest(
        `Filter ${d} must be up to 200 printable characters, several values separated by single commas`,
      );
    filters[d] = v;
  }
  if (allowed.includes("site")) filters.site ??= defaultSite;
  const slo = one(params, "slo") ?? "";
  if (slo !== "" && !/^[a-z0-9-]{1,64}$/.test(slo))
    throw new BadRequest(`Invalid slo "${slo}": expected an objective id`);
  return {
    page,
    range: pick("range", one(params, "range"), Object.keys(RANGES) as RangeKey[], "1h"),
    filters,
    metric: pick("metric", one(params, "metric"), VITALS, "lcp"),
    by: pick("by", one(params, "by"), ["lcp", "ttfb"] as const, "lcp"),
    slo,
  };
}

/** The page's URL for `p` with `change` applied (defaults left out). */
export function insightHref(p: InsightParams, change: Partial<InsightParams> = {}): string {
  const n = { ...p, ...change, filters: { ...p.filters, ...(change.filters ?? {}) } };
  const allowed = KEYS[n.page];
  const q = new URLSearchParams();
  if (allowed.includes("range") && n.range !== "1h") q.set("range", n.range);
  if (allowed.includes("metric") && n.metric !== "lcp") q.set("metric", n.metric);
  if (allowed.includes("by") && n.by !== "lcp") q.set("by", n.by);
  if (allowed.includes("slo") && n.slo) q.set("slo", n.slo);
  for (const d of FILTER_DIMENSIONS) {
    const v = n.filters[d];
    if (v && allowed.includes(d)) q.set(d, v);
  }
  const s = q.toString();
  return `/_dash/${n.page}${s ? `?${s}` : ""}`;
}

/** `{from, to}` of a range ending at `now`. */
export function rangeOf(range: RangeKey, now: number): { from: number; to: number } {
  return { from: now - RANGES[range], to: now };
}

/** Page-view page: `site` and `pvid`, both required. */
export function parsePageViewParams(
  params: URLSearchParams,
  defaultSite: string,
): { site: string; pvid: string } {
  for (const k of new Set(params.keys()))
    if (k !== "site" && k !== "pvid")
      throw new BadRequest(`Unknown parameter "${k}": allowed are site, pvid`);
  const pvid = one(params, "pvid");
  if (!pvid || !/^[A-Za-z0-9_-]{1,64}$/.test(pvid))
    throw new BadRequest("Give the page view's id as pvid (1–64 of A–Z, a–z, 0–9, _ and -)");
  const site = one(params, "site") ?? defaultSite;
  if (site.length > 200) throw new BadRequest("site is longer than 200 characters");
  return { site, pvid };
}

export type { Vital };
