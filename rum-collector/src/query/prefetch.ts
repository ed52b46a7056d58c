/**
 * `GET /_rum/v1/prefetch?site=…&from=…&to=…`: the prefetch experiment per arm (holdout, ours,
 * press), from beacons (rum_page_views: arm, prev_pvid, delivery_type, nav_type, ttfb, lcp) and
 * the edge's speculation counts (prefetch_speculations, migrations/0007_prefetch.sql):
 *   - nextNavigations: page views with a previous page view in the tab (what a prefetch can serve);
 *   - prefetchHits: those delivered from a prefetch (`deliveryType` navigational-prefetch) or an
 *     activated prerender (`nav_type` prerender); coverage = hits ÷ next navigations;
 *   - speculations: speculative requests the edge served for the arm (`Sec-Speculation-Tags`);
 *     precision = hits ÷ speculations;
 *   - wastedBytes = bytes × (1 − precision); extraOriginRequests = speculative requests that went
 *     to the origin; ttfbP75 / lcpP75 of next navigations;
 *   - lcpP75DiffVsHoldout: ours/press − holdout with a 95 % bootstrap CI (seeded, reproducible);
 *   - all: page views and prefetch-served ones of the range regardless of arm;
 *   - unknown: speculative requests without an arm tag (the press arm's `<link rel=prefetch>`,
 *     but also other prefetchers: browser heuristics, extensions, other scripts), so they are
 *     reported apart and never credited to an arm.
 * Each arm's samples for the percentiles are the latest MAX_SAMPLES next navigations.
 */
import type { ArmRow, PrefetchAnswer } from "../../../common/src/insights-contract.ts";
import { bootstrapQuantileDiff, quantile, seededRandom } from "../../../common/src/prefetch/stats.ts";
import { type Parsed, parseRange } from "./params.ts";

export const ARMS = ["holdout", "ours", "press"] as const;
const ALLOWED = new Set(["site", "from", "to"]);
/** Most next navigations per arm read for the percentiles and the CI. */
export const MAX_SAMPLES = 5000;
const HOUR = 3_600_000;

export interface PrefetchQuery {
  site: string;
  from: number;
  to: number;
}

/** Validates the parameters (unknown or repeated ones are errors). */
export function parsePrefetchQuery(params: URLSearchParams, now: number): Parsed<PrefetchQuery> {
  for (const k of params.keys())
    if (!ALLOWED.has(k)) return { ok: false, error: `unknown parameter "${k}" (allowed: site, from, to)` };
  for (const k of ALLOWED)
    if (params.getAll(k).length > 1) return { ok: false, error: `parameter "${k}" given more than once` };
  const site = params.get("site");
  if (site === null || site === "" || site.length > 100)
    return { ok: false, error: 'missing "site" (the site id registered in RUM_SITES)' };
  const range = parseRange(params, now);
  if (!range.ok) return range;
  return { ok: true, value: { site, ...range.value } };
}

const round = (x: number | null, d = 1) => (x === null ? null : Math.round(x * 10 ** d) / 10 ** d);

/** Runs the query (a few aggregate statements and bounded sample reads). */
export async function runPrefetchQuery(db: D1Database, q: PrefetchQuery): Promise<PrefetchAnswer> {
  const counts = await db
    .prepare(
      `SELECT arm, COUNT(*) AS views,
         SUM(CASE WHEN prev_pvid IS NOT NULL THEN 1 ELSE 0 END) AS next_nav,
         SUM(CASE WHEN prev_pvid IS NOT NULL AND (delivery_type = 'navigational-prefetch' OR nav_type = 'prerender') THEN 1 ELSE 0 END) AS hits
       FROM rum_page_views WHERE site = ? AND ts >= ? AND ts < ? AND arm IN ('holdout', 'ours', 'press') GROUP BY arm`,
    )
    .bind(q.site, q.from, q.to)
    .all<{ arm: string; views: number; next_nav: number; hits: number }>();
  const spec = await db
    .prepare(
      `SELECT arm, SUM(requests) AS requests, SUM(bytes) AS bytes, SUM(origin_requests) AS origin
       FROM prefetch_speculations WHERE site = ? AND hour >= ? AND hour < ? GROUP BY arm`,
    )
    .bind(q.site, Math.floor(q.from / HOUR) * HOUR, q.to)
    .all<{ arm: string; requests: number; bytes: number; origin: number }>();
  const specOf = (arm: string) => {
    const rows = spec.results.filter((r) => r.arm === arm);
    return rows.reduce(
      (s, r) => ({
        requests: s.requests + r.requests,
        bytes: s.bytes + r.bytes,
        origin: s.origin + r.origin,
      }),
      { requests: 0, bytes: 0, origin: 0 },
    );
  };
  const samples = new Map<string, { ttfb: number[]; lcp: number[] }>();
  for (const arm of ARMS) {
    const rows = await db
      .prepare(
        `SELECT ttfb, lcp FROM rum_page_views WHERE site = ? AND ts >= ? AND ts < ? AND arm = ? AND prev_pvid IS NOT NULL
         ORDER BY ts DESC LIMIT ${MAX_SAMPLES}`,
      )
      .bind(q.site, q.from, q.to, arm)
      .all<{ ttfb: number | null; lcp: number | null }>();
    samples.set(arm, {
      ttfb: rows.results.flatMap((r) => (r.ttfb === null ? [] : [r.ttfb])),
      lcp: rows.results.flatMap((r) => (r.lcp === null ? [] : [r.lcp])),
    });
  }
  const holdoutLcp = samples.get("holdout")?.lcp ?? [];
  const arms = ARMS.map((arm, i): ArmRow => {
    const c = counts.results.find((r) => r.arm === arm) ?? { views: 0, next_nav: 0, hits: 0 };
    const s = specOf(arm);
    const smp = samples.get(arm) ?? { ttfb: [], lcp: [] };
    const precision = s.requests > 0 ? Math.min(1, c.hits / s.requests) : null;
    const ci =
      arm === "holdout"
        ? null
        : bootstrapQuantileDiff(smp.lcp, holdoutLcp, 0.75, seededRandom(0x5eed + i), 1000);
    return {
      arm,
      pageViews: c.views,
      nextNavigations: c.next_nav,
      prefetchHits: c.hits,
      coverage: c.next_nav > 0 ? round(c.hits / c.next_nav, 4) : null,
      speculations: s.requests,
      precision: round(precision, 4),
      speculatedBytes: s.bytes,
      wastedBytes: precision === null ? 0 : Math.round(s.bytes * (1 - precision)),
      extraOriginRequests: s.origin,
      ttfbP75: round(quantile(smp.ttfb, 0.75)),
      lcpP75: round(quantile(smp.lcp, 0.75)),
      samples: { ttfb: smp.ttfb.length, lcp: smp.lcp.length },
      lcpP75DiffVsHoldout: ci && {
        diff: round(ci.diff),
        ci95: [round(ci.lo), round(ci.hi)],
        resamples: ci.resamples,
      },
    };
  });
  const all = await db
    .prepare(
      `SELECT COUNT(*) AS views, SUM(CASE WHEN delivery_type = 'navigational-prefetch' OR nav_type = 'prerender' THEN 1 ELSE 0 END) AS hits
       FROM rum_page_views WHERE site = ? AND ts >= ? AND ts < ?`,
    )
    .bind(q.site, q.from, q.to)
    .first<{ views: number; hits: number | null }>();
  const warm = spec.results.filter((r) => r.arm === "edge");
  const unknown = specOf("unknown");
  return {
    site: q.site,
    from: new Date(q.from).toISOString(),
    to: new Date(q.to).toISOString(),
    arms,
    /** Every page view of the range, with or without an arm (beacons that report no arm included). */
    all: { pageViews: all?.views ?? 0, prefetchHits: all?.hits ?? 0 },
    warming: {
      requests: warm.reduce((s, r) => s + r.requests, 0),
      originRequests: warm.reduce((s, r) => s + r.origin, 0),
    },
    /** Speculative requests with no arm tag (not attributed to any arm). */
    unknown: { requests: unknown.requests, bytes: unknown.bytes, originRequests: unknown.origin },
  };
}
