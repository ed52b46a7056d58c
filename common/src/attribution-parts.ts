/**
 * The one table of attribution parts and vitals the store keeps: each entry names the API field,
 * the SQL column (raw table REAL, rollup sketch BLOB) and how to read the value off an
 * `Attribution` or the beacon's vitals. The row writer, the rollup metric list, the query API's
 * metric names and its page-view JSON all iterate this table, so adding a part is one entry here
 * plus a migration adding the two columns.
 *
 * `edgeFact` marks parts that come from the edge's own log (edge, middle mile, backend): they are
 * rolled up only for page views whose edge record was found (`edge_verified = 1`).
 */
import type { Attribution, BeaconPayload } from "./rum-types.ts";

export interface MetricPart {
  /** API name (`?metric=`, JSON field). */
  name: string;
  /** Column in rum_page_views (REAL) and rum_rollups (sketch BLOB), snake_case. */
  column: string;
  /** Where the value lives: a web vital, a TTFB part, or a render (LCP sub-)part. */
  kind: "vital" | "ttfb" | "render";
  /** True when the value comes from the edge's log and needs a verified edge record. */
  edgeFact: boolean;
  /** The value of one page view (undefined/null = none). */
  read(a: Attribution, vitals: BeaconPayload["vitals"]): number | null | undefined;
}

/** Every metric column, in storage order. */
export const METRIC_PARTS: readonly MetricPart[] = [
  { name: "lcp", column: "lcp", kind: "vital", edgeFact: false, read: (_a, v) => v.lcp },
  { name: "inp", column: "inp", kind: "vital", edgeFact: false, read: (_a, v) => v.inp },
  { name: "cls", column: "cls", kind: "vital", edgeFact: false, read: (_a, v) => v.cls },
  { name: "fcp", column: "fcp", kind: "vital", edgeFact: false, read: (_a, v) => v.fcp },
  { name: "ttfb", column: "ttfb", kind: "ttfb", edgeFact: false, read: (a) => a.ttfb },
  { name: "queueing", column: "queueing", kind: "ttfb", edgeFact: false, read: (a) => a.queueing },
  { name: "lastMile", column: "last_mile", kind: "ttfb", edgeFact: false, read: (a) => a.lastMile },
  {
    name: "lastMileConnect",
    column: "last_mile_connect",
    kind: "ttfb",
    edgeFact: false,
    read: (a) => a.lastMileConnect,
  },
  {
    name: "lastMileWire",
    column: "last_mile_wire",
    kind: "ttfb",
    edgeFact: false,
    read: (a) => a.lastMileWire,
  },
  { name: "edge", column: "edge", kind: "ttfb", edgeFact: true, read: (a) => a.edge },
  { name: "middleMile", column: "middle_mile", kind: "ttfb", edgeFact: true, read: (a) => a.middleMile },
  { name: "backend", column: "backend", kind: "ttfb", edgeFact: true, read: (a) => a.backend },
  { name: "download", column: "download", kind: "ttfb", edgeFact: false, read: (a) => a.download },
  {
    name: "resourceLoadDelay",
    column: "resource_load_delay",
    kind: "render",
    edgeFact: false,
    read: (a) => a.render?.resourceLoadDelay,
  },
  {
    name: "resourceLoadDuration",
    column: "resource_load_duration",
    kind: "render",
    edgeFact: false,
    read: (a) => a.render?.resourceLoadDuration,
  },
  {
    name: "elementRenderDelay",
    column: "element_render_delay",
    kind: "render",
    edgeFact: false,
    read: (a) => a.render?.elementRenderDelay,
  },
];

/** Metric names (the query API's `metric=` values), in table order. */
export type MetricName = (typeof METRIC_PARTS)[number]["name"];

/** The part of `name`, or undefined. */
export function metricPart(name: string): MetricPart | undefined {
  return METRIC_PARTS.find((p) => p.name === name);
}

/** A finite, non-negative number or undefined (what a metric column may hold). */
export function metricValue(x: unknown): number | undefined {
  return typeof x === "number" && Number.isFinite(x) && x >= 0 ? x : undefined;
}
