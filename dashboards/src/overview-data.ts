/** Gathers everything the overview page shows, one query-API call per chart (run concurrently). */
import {
  ApiError,
  type CoverageRow,
  coverage,
  type GroupRow,
  type QueryApi,
  type QueryResult,
  query,
} from "./api-client.ts";
import { ATTRIBUTION_PARTS, PERCENTILES, type Percentile, type Vital } from "./metrics.ts";
import { type OverviewParams, RANGES, SERIES_INTERVAL } from "./view-params.ts";

/** A section either has its data or a readable error; one failing chart never blanks the page. */
export type Section<T> = { ok: true; value: T } | { ok: false; error: string };

export interface Tile {
  metric: Vital;
  p75: number | null;
  count: number;
}

export interface AttributionGroup {
  key: string;
  count: number;
  ttfb: number | null;
  /** Percentile of each part (ms), keyed by `ATTRIBUTION_PARTS[].key`; null = no data. */
  parts: Record<string, number | null>;
}

export interface OverviewData {
  from: number;
  to: number;
  interval: "minute" | "hour";
  tiles: Section<Tile[]>;
  attribution: Section<AttributionGroup[]>;
  table: Section<QueryResult>;
  series: Section<QueryResult>;
  cacheMix: Section<GroupRow[]>;
  coverage: Section<CoverageRow[]>;
}

/** Most groups one attribution chart shows (the busiest first). */
export const MAX_ATTRIBUTION_GROUPS = 20;

const TILE_METRICS: Vital[] = ["lcp", "inp", "cls", "ttfb"];

async function settle<T>(p: Promise<T>): Promise<Section<T>> {
  try {
    return { ok: true, value: await p };
  } catch (err) {
    if (err instanceof ApiError) return { ok: false, error: err.message };
    return { ok: false, error: `Unexpected error: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** Loads the overview for `params` over the window ending at `now` (ms since epoch). */
export async function loadOverview(
  api: QueryApi,
  params: OverviewParams,
  now: number,
): Promise<OverviewData> {
  const to = now;
  const from = now - RANGES[params.range];
  const interval = SERIES_INTERVAL[params.range];
  const base = { from, to, filters: params.filters };

  // Totals of grouped queries equal the ungrouped query, so the TTFB tile reuses the attribution's
  // TTFB query and the selected metric's tile reuses the percentile table: two calls fewer.
  const attrPcts: Percentile[] = params.attrPct === "p75" ? ["p75"] : [params.attrPct, "p75"];
  const ttfbByGroup = query(api, { ...base, metric: "ttfb", percentiles: attrPcts, groupBy: params.attrBy });
  const tableQuery = query(api, {
    ...base,
    metric: params.metric,
    percentiles: PERCENTILES,
    groupBy: params.by,
  });
  // Rejections are read later through settle(); this only stops "unhandled rejection" noise.
  ttfbByGroup.catch(() => {});
  tableQuery.catch(() => {});

  const tiles = settle(
    Promise.all(
      TILE_METRICS.map(async (metric): Promise<Tile> => {
        const r = await (metric === "ttfb"
          ? ttfbByGroup
          : metric === params.metric
            ? tableQuery
            : query(api, { ...base, metric, percentiles: ["p75"] }));
        return { metric, p75: r.values.p75 ?? null, count: r.count };
      }),
    ),
  );

  const attribution = settle(
    (async () => {
      const shown = ATTRIBUTION_PARTS.filter((p) => params.attrScope === "all" || p.phase === "ttfb");
      const [ttfb, ...parts] = await Promise.all([
        ttfbByGroup,
        ...shown.map((p) =>
          query(api, { ...base, metric: p.key, percentiles: [params.attrPct], groupBy: params.attrBy }),
        ),
      ]);
      const groups = new Map<string, AttributionGroup>();
      for (const g of ttfb?.groups ?? [])
        groups.set(g.key, { key: g.key, count: g.count, ttfb: g.values[params.attrPct] ?? null, parts: {} });
      shown.forEach((part, i) => {
        for (const g of parts[i]?.groups ?? []) {
          let row = groups.get(g.key);
          if (!row) {
            row = { key: g.key, count: 0, ttfb: null, parts: {} };
            groups.set(g.key, row);
          }
          row.parts[part.key] = g.values[params.attrPct] ?? null;
        }
      });
      return [...groups.values()]
        .sort((a, b) => b.count - a.count || a.key.localeCompare(b.key))
        .slice(0, MAX_ATTRIBUTION_GROUPS);
    })(),
  );

  const table = settle(tableQuery);
  const series = settle(query(api, { ...base, metric: params.metric, percentiles: [params.pct], interval }));
  const cacheMix = settle(
    query(api, { ...base, metric: "ttfb", percentiles: ["p75"], groupBy: "cacheStatus" }).then(
      (r) => r.groups,
    ),
  );
  // Coverage is kept per page group × browser only, so the other filters do not apply to it.
  const cov = settle(
    coverage(api, { from, to, site: params.filters.site ?? "", pageGroup: params.filters.pageGroup }),
  );

  return {
    from,
    to,
    interval,
    tiles: await tiles,
    attribution: await attribution,
    table: await table,
    series: await series,
    cacheMix: await cacheMix,
    coverage: await cov,
  };
}
