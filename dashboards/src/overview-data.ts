/** Gathers everything the overview page shows, one query-API call per chart (run concurrently; several metrics of a chart in one multi-metric call). */
import {
  ApiError,
  type CoverageRow,
  coverage,
  type GroupRow,
  type ImageSavings,
  imageSavings,
  type QueryApi,
  type QueryResult,
  query,
  queryMetrics,
  type Resolution,
} from "./api-client.ts";
import { ATTRIBUTION_PARTS, PERCENTILES, type Vital } from "./metrics.ts";
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
  /** Bytes saved by image variants, per delivered format and per device class (one call each). */
  images: { byFormat: Section<ImageSavings>; byDevice: Section<ImageSavings> };
  /** Distinct `resolution.note`s of answers whose rows did not cover the range exactly. */
  resolutionNotes: string[];
}

/** Most groups one attribution chart shows (the busiest first). */
export const MAX_ATTRIBUTION_GROUPS = 20;

const TILE_METRICS: Vital[] = ["lcp", "inp", "cls", "ttfb"];

export async function settle<T>(p: Promise<T>): Promise<Section<T>> {
  try {
    return { ok: true, value: await p };
  } catch (err) {
    if (err instanceof ApiError) return { ok: false, error: err.message };
    return { ok: false, error: `Unexpected error: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** The overview's sections while their calls are in flight (every call already started). */
export interface PendingOverview {
  from: number;
  to: number;
  interval: "minute" | "hour";
  tiles: Promise<Section<Tile[]>>;
  attribution: Promise<Section<AttributionGroup[]>>;
  table: Promise<Section<QueryResult>>;
  series: Promise<Section<QueryResult>>;
  cacheMix: Promise<Section<GroupRow[]>>;
  coverage: Promise<Section<CoverageRow[]>>;
  images: Promise<{ byFormat: Section<ImageSavings>; byDevice: Section<ImageSavings> }>;
  /** Distinct `resolution.note`s seen so far (filled in as the answers arrive). */
  notes: Set<string>;
}

/** Loads the overview for `params` over the window ending at `now` (ms since epoch). */
export function loadOverview(api: QueryApi, params: OverviewParams, now: number): Promise<OverviewData> {
  return finishOverview(startOverview(api, params, now));
}

/** Waits for every section of a started overview. */
export async function finishOverview(p: PendingOverview): Promise<OverviewData> {
  const [tiles, attribution, table, series, cacheMix, cov, images] = await Promise.all([
    p.tiles,
    p.attribution,
    p.table,
    p.series,
    p.cacheMix,
    p.coverage,
    p.images,
  ]);
  return {
    from: p.from,
    to: p.to,
    interval: p.interval,
    tiles,
    attribution,
    table,
    series,
    cacheMix,
    coverage: cov,
    images,
    resolutionNotes: [...p.notes],
  };
}

/** Starts every call of the overview at once; each section resolves on its own (never rejects). */
export function startOverview(api: QueryApi, params: OverviewParams, now: number): PendingOverview {
  const to = now;
  const from = now - RANGES[params.range];
  const interval = SERIES_INTERVAL[params.range];
  const base = { from, to, filters: params.filters };
  const notes = new Set<string>();
  /**
   * Remembers why an answer's range was widened (e.g. minute rows past retention). Rounding to
   * whole minutes (every live page: "now" is inside a minute) changes nothing a reader would see.
   */
  const noted = <T extends { resolution: Resolution | null }>(r: T): T => {
    const res = r.resolution;
    if (res && !res.exact && res.note && (res.widenedMs === null || res.widenedMs >= 60_000))
      notes.add(res.note);
    return r;
  };
  const notedAll = <T extends Record<string, { resolution: Resolution | null }>>(r: T): T => {
    for (const v of Object.values(r)) noted(v);
    return r;
  };

  // One multi-metric call per chart: the rollup rows are read once for all of its metrics, and a
  // failing call still only blanks its own chart.
  const tiles = settle(
    queryMetrics(api, { ...base, metrics: TILE_METRICS, percentiles: ["p75"] })
      .then(notedAll)
      .then((r) =>
        TILE_METRICS.map(
          (metric): Tile => ({
            metric,
            p75: r[metric]?.values.p75 ?? null,
            count: r[metric]?.count ?? 0,
          }),
        ),
      ),
  );

  const shown = ATTRIBUTION_PARTS.filter((p) => params.attrScope === "all" || p.phase === "ttfb");
  const attribution = settle(
    queryMetrics(api, {
      ...base,
      metrics: ["ttfb", ...shown.map((p) => p.key)],
      percentiles: [params.attrPct],
      groupBy: params.attrBy,
    })
      .then(notedAll)
      .then((r) => {
        const groups = new Map<string, AttributionGroup>();
        for (const g of r.ttfb?.groups ?? [])
          groups.set(g.key, {
            key: g.key,
            count: g.count,
            ttfb: g.values[params.attrPct] ?? null,
            parts: {},
          });
        for (const part of shown) {
          for (const g of r[part.key]?.groups ?? []) {
            let row = groups.get(g.key);
            if (!row) {
              row = { key: g.key, count: 0, ttfb: null, parts: {} };
              groups.set(g.key, row);
            }
            row.parts[part.key] = g.values[params.attrPct] ?? null;
          }
        }
        return [...groups.values()]
          .sort((a, b) => b.count - a.count || a.key.localeCompare(b.key))
          .slice(0, MAX_ATTRIBUTION_GROUPS);
      }),
  );

  const table = settle(
    query(api, { ...base, metrics: [params.metric], percentiles: PERCENTILES, groupBy: params.by }).then(
      noted,
    ),
  );
  const series = settle(
    query(api, { ...base, metrics: [params.metric], percentiles: [params.pct], interval }).then(noted),
  );
  const cacheMix = settle(
    query(api, { ...base, metrics: ["ttfb"], percentiles: ["p75"], groupBy: "cacheStatus" })
      .then(noted)
      .then((r) => r.groups),
  );
  // Coverage is kept per page group × browser only, so the other filters do not apply to it.
  const cov = settle(
    coverage(api, { from, to, site: params.filters.site ?? "", pageGroup: params.filters.pageGroup }),
  );

  // Image rollups know site, format, device and cache status; the page's cache status is the
  // HTML's, not the image's, so only site and device apply here.
  const imageReq = { from, to, site: params.filters.site ?? "", device: params.filters.device };
  const imagesByFormat = settle(imageSavings(api, { ...imageReq, groupBy: "format" }).then(noted));
  const imagesByDevice = settle(imageSavings(api, { ...imageReq, groupBy: "device" }).then(noted));

  return {
    from,
    to,
    interval,
    tiles,
    attribution,
    table,
    series,
    cacheMix,
    coverage: cov,
    images: Promise.all([imagesByFormat, imagesByDevice]).then(([byFormat, byDevice]) => ({
      byFormat,
      byDevice,
    })),
    notes,
  };
}
