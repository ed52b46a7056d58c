/**
 * The metrics and dimensions the rollups keep, with their SQL column names. The query API only
 * accepts these names, so column identifiers in SQL always come from these fixed lists.
 */
import { METRIC_PARTS, type MetricPart } from "../../../common/src/attribution-parts.ts";
import type { PageViewMessage } from "../../../common/src/rum-types.ts";

/** A rollup metric: one entry of the table of parts (API name, column, edge-fact flag). */
export type MetricDef = MetricPart;

/** The rollup metrics, straight from common/src/attribution-parts.ts. */
export const METRICS: readonly MetricDef[] = METRIC_PARTS;

export {
  DAY_MS,
  DIMENSION_NAMES,
  DIMENSIONS,
  type DimensionName,
  GRANULARITY_MS,
  type Granularity,
  HOUR_MS,
  MINUTE_MS,
} from "../../../common/src/query-contract.ts";

import { GRANULARITY_MS, type Granularity } from "../../../common/src/query-contract.ts";

export const METRIC_BY_NAME: ReadonlyMap<string, MetricDef> = new Map(METRICS.map((m) => [m.name, m]));

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

/** Start of the bucket of `granularity` that contains `ts` (UTC). */
export function bucketStart(ts: number, granularity: Granularity): number {
  const size = GRANULARITY_MS[granularity];
  return Math.floor(ts / size) * size;
}
