/**
 * `GET /v1/cache`: what the page cache bought, from the edge's own log (rum_edge_log, one row per
 * HTML response): responses per cache status, hit ratio over cacheable responses (BYPASS is not
 * cacheable and is left out), edge-measured origin time per status, and the page groups with the
 * most misses (the next cache rules to write). TTFB by cache status as the browser saw it is a
 * `/v1/query?metric=ttfb&groupBy=cacheStatus` away.
 */
import type { CacheAnswer } from "../../../common/src/insights-contract.ts";
import { fail, type Parsed, parseLimit, parseRange, rejectUnknown } from "./params.ts";

export interface CacheSpec {
  from: number;
  to: number;
  site: string | null;
  limit: number;
}

export function parseCacheParams(params: URLSearchParams, now: number): Parsed<CacheSpec> {
  const unknown = rejectUnknown(params, ["from", "to", "site", "limit"]);
  if (unknown) return fail(unknown);
  const range = parseRange(params, now);
  if (!range.ok) return range;
  const limit = parseLimit(params, 10);
  if (!limit.ok) return limit;
  const site = params.get("site");
  if (site !== null && (site === "" || site.length > 200)) return fail('invalid "site"');
  return { ok: true, value: { ...range.value, site, limit: limit.value } };
}

const HIT = "('HIT', 'STALE')";
const MISS = "('MISS', 'EXPIRED')";

export async function runCache(db: D1Database, spec: CacheSpec): Promise<CacheAnswer> {
  const binds: unknown[] = [spec.from, spec.to];
  const where = ["ts >= ?1", "ts < ?2", "status >= 200", "status < 400"];
  if (spec.site !== null) where.push(`site = ?${binds.push(spec.site)}`);
  const w = where.join(" AND ");
  const byStatus = await db
    .prepare(
      `SELECT cache_status, COUNT(*) AS n, AVG(edge_ms) AS edge_ms, AVG(origin_ms) AS origin_ms FROM rum_edge_log WHERE ${w} GROUP BY cache_status ORDER BY n DESC`,
    )
    .bind(...binds)
    .all<{ cache_status: string; n: number; edge_ms: number | null; origin_ms: number | null }>();
  const groups = await db
    .prepare(
      `SELECT page_group, COUNT(*) AS n, SUM(CASE WHEN cache_status IN ${MISS} THEN 1 ELSE 0 END) AS misses,
        SUM(CASE WHEN cache_status IN ${HIT} THEN 1 ELSE 0 END) AS hits, AVG(CASE WHEN cache_status IN ${MISS} THEN origin_ms END) AS miss_origin_ms
       FROM rum_edge_log WHERE ${w} GROUP BY page_group HAVING misses > 0 ORDER BY misses DESC, page_group LIMIT ?${binds.push(spec.limit)}`,
    )
    .bind(...binds)
    .all<{ page_group: string; n: number; misses: number; hits: number; miss_origin_ms: number | null }>();
  let hits = 0;
  let misses = 0;
  let total = 0;
  for (const r of byStatus.results) {
    total += r.n;
    if (r.cache_status === "HIT" || r.cache_status === "STALE") hits += r.n;
    if (r.cache_status === "MISS" || r.cache_status === "EXPIRED") misses += r.n;
  }
  const round = (v: number | null) => (v === null ? null : Math.round(v * 10) / 10);
  return {
    from: new Date(spec.from).toISOString(),
    to: new Date(spec.to).toISOString(),
    total: { responses: total, hits, misses, hitRatio: hits + misses > 0 ? hits / (hits + misses) : null },
    byStatus: byStatus.results.map((r) => ({
      cacheStatus: r.cache_status,
      responses: r.n,
      avgEdgeMs: round(r.edge_ms),
      avgOriginMs: round(r.origin_ms),
    })),
    topMissGroups: groups.results.map((r) => ({
      pageGroup: r.page_group,
      responses: r.n,
      misses: r.misses,
      hits: r.hits,
      missRatio: r.n > 0 ? r.misses / r.n : null,
      avgMissOriginMs: round(r.miss_origin_ms),
    })),
  };
}
