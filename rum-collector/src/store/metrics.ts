/**
 * The metrics and dimensions the rollups keep, with their SQL column names. The query API only
 * accepts these names, so column identifiers in SQL always come from this fixed list.
 */
import type { PageViewMessage } from "../../../common/src/rum-types.ts";

export interface MetricDef {
  /** API name (`?metric=`). */
  name: string;
  /** Column in rum_page_views (REAL) and rum_rollups (sketch BLOB). */
  column: string;
  /** Value of one page view, or undefined when it has none (never rolled up then). */
  value(m: PageViewMessage): number | undefined;
}

function num(x: number | null | undefined): number | undefined {
  return typeof x === "number" && Number.isFinite(x) && x >= 0 ? x : undefined;
}

/** Edge-side parts are unknown (not 0) for sites without the edge, so they are not rolled up then. */
function edgeOnly(m: PageViewMessage, x: number): number | undefined {
  return m.attribution.edgeMeasured === false ? undefined : num(x);
}

export const METRICS: readonly MetricDef[] = [
  { name: "lcp", column: "lcp", value: (m) => num(m.beacon.vitals.lcp) },
  { name: "inp", column: "inp", value: (m) => num(m.beacon.vitals.inp) },
  { name: "cls", column: "cls", value: (m) => num(m.beacon.vitals.cls) },
  { name: "fcp", column: "fcp", value: (m) => num(m.beacon.vitals.fcp) },
  { name: "ttfb", column: "ttfb", value: (m) => num(m.attribution.ttfb) },
  { name: "queueing", column: "queueing", value: (m) => num(m.attribution.queueing) },
  { name: "lastMile", column: "last_mile", value: (m) => num(m.attribution.lastMile) },
  { name: "lastMileConnect", column: "last_mile_connect", value: (m) => num(m.attribution.lastMileConnect) },
  { name: "lastMileWire", column: "last_mile_wire", value: (m) => num(m.attribution.lastMileWire) },
  { name: "edge", column: "edge", value: (m) => edgeOnly(m, m.attribution.edge) },
  { name: "middleMile", column: "middle_mile", value: (m) => edgeOnly(m, m.attribution.middleMile) },
  { name: "backend", column: "backend", value: (m) => num(m.attribution.backend) },
  { name: "download", column: "download", value: (m) => num(m.attribution.download) },
  {
    name: "resourceLoadDelay",
    column: "resource_load_delay",
    value: (m) => num(m.attribution.render?.resourceLoadDelay),
  },
  {
    name: "resourceLoadDuration",
    column: "resource_load_duration",
    value: (m) => num(m.attribution.render?.resourceLoadDuration),
  },
  {
    name: "elementRenderDelay",
    column: "element_render_delay",
    value: (m) => num(m.attribution.render?.elementRenderDelay),
  },
];

export const METRIC_BY_NAME: ReadonlyMap<string, MetricDef> = new Map(METRICS.map((m) => [m.name, m]));

/** Rollup dimensions: API name → column (order = rollup primary key order after site/ts). */
export const DIMENSIONS = {
  site: "site",
  pageGroup: "page_group",
  device: "device",
  country: "country",
  connection: "connection",
  cacheStatus: "cache_status",
  colo: "colo",
} as const;

export type DimensionName = keyof typeof DIMENSIONS;
export const DIMENSION_NAMES = Object.keys(DIMENSIONS) as DimensionName[];

/** Connection dimension of a page view: the browser's effective type, or "unknown". */
export function connectionOf(m: PageViewMessage): string {
  const ect = m.beacon.net?.ect;
  return typeof ect === "string" && /^(slow-2g|2g|3g|4g)$/.test(ect) ? ect : "unknown";
}

/** Colo dimension of a page view: the edge location code, or "unknown" (e.g. local dev without `cf`). */
export function coloOf(m: { dims: { colo?: unknown } }): string {
  const c = m.dims.colo;
  return typeof c === "string" && /^[A-Za-z0-9_-]{1,16}$/.test(c) ? c : "unknown";
}

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
export type Granularity = "minute" | "hour" | "day";
export const GRANULARITY_MS: Readonly<Record<Granularity, number>> = {
  minute: MINUTE_MS,
  hour: HOUR_MS,
  day: DAY_MS,
};

/** Start of the bucket of `granularity` that contains `ts` (UTC). */
export function bucketStart(ts: number, granularity: Granularity): number {
  const size = GRANULARITY_MS[granularity];
  return Math.floor(ts / size) * size;
}
