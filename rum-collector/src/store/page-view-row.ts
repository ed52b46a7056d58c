/**
 * One `rum_page_views` row from a page-view message and the edge's facts for its rid. The
 * attribution is recomputed here from the browser's timings and the edge LOG's values (never the
 * beacon's copy of `Server-Timing`, which a client can forge); without an edge record the row
 * keeps the browser timings and is marked `edge_verified = 0`. The metric columns come from the
 * one table of parts (common/src/attribution-parts.ts).
 */
import { attributeVerified, type EdgeFacts } from "../../../common/src/attribution-edge.ts";
import { METRIC_PARTS, metricValue } from "../../../common/src/attribution-parts.ts";
import type { PageViewMessage } from "../../../common/src/rum-types.ts";
import { coloOf, connectionOf } from "./metrics.ts";

/** A page-view row: column → value. */
export type PvRow = Record<string, string | number | null | undefined>;

/** Longest page-group name stored (longer names are cut). */
export const MAX_PAGE_GROUP_LENGTH = 100;

/** How the row relates to the edge log. */
export type EdgeState = { facts: EdgeFacts } | { pending: true } | { unverified: true };

function flag(x: boolean | undefined): number | null {
  return x === undefined ? null : x ? 1 : 0;
}

/** Count of fields the intake dropped as invalid (`invalidFields`, optional on the message). */
function invalidFields(m: PageViewMessage): number {
  const n = (m as { invalidFields?: unknown }).invalidFields;
  return typeof n === "number" && Number.isInteger(n) && n > 0 ? n : 0;
}

/** The row for message `m` (its page group already capped) in edge state `edge`. */
export function pageViewRow(m: PageViewMessage, edge: EdgeState, updatedTs: number): PvRow {
  const b = m.beacon;
  const facts = "facts" in edge ? edge.facts : null;
  const a = attributeVerified(b, facts);
  const row: PvRow = {
    site: m.site,
    pvid: m.pvid,
    seq: m.seq,
    ts: m.ts,
    updated_ts: updatedTs,
    rid: typeof b.rid === "string" ? b.rid : null,
    page_group: m.pageGroup,
    path: m.path,
    country: m.dims.country,
    colo: m.dims.colo,
    asn: m.dims.asn,
    device: m.dims.device,
    browser: m.dims.browser,
    connection: connectionOf(m),
    cache_status: facts ? facts.cacheStatus : "NONE",
    save_data: flag(b.net?.saveData),
    nav_type: b.nav?.type ?? null,
    delivery_type: b.nav?.deliveryType ?? null,
    holdout: flag(b.holdout),
    sample_rate: m.sampleRate ?? 1,
    viewport_w: b.viewport?.w ?? null,
    viewport_h: b.viewport?.h ?? null,
    dpr: b.dpr ?? null,
    origin_as_one_part: a.originAsOnePart ? 1 : 0,
    edge_measured: a.edgeMeasured === false ? 0 : 1,
    session_id: typeof b.sid === "string" ? b.sid : null,
    prev_pvid: typeof b.prev === "string" ? b.prev : null,
    arm: typeof b.arm === "string" ? b.arm : null,
    converted: b.conv ? 1 : 0,
    conversion_value: b.conv ? (metricValue(b.conv.value) ?? 0) : null,
    invalid_fields: invalidFields(m),
    edge_verified: facts ? 1 : 0,
    pending: "pending" in edge ? JSON.stringify(m) : null,
  };
  for (const p of METRIC_PARTS) row[p.column] = metricValue(p.read(a, b.vitals)) ?? null;
  return row;
}

/** Every column `pageViewRow` writes, in a fixed order. */
export const PV_COLUMNS: readonly string[] = Object.keys(
  pageViewRow(
    {
      kind: "pageview",
      ts: 0,
      site: "",
      pvid: "",
      seq: 0,
      pageGroup: "",
      path: "",
      dims: { country: "", colo: "", asn: 0, device: "", browser: "" },
      cacheStatus: "NONE",
      beacon: { v: 1, site: "", pvid: "", seq: 0, url: "", vitals: {} },
      attribution: {
        ttfb: 0,
        queueing: 0,
        lastMileConnect: 0,
        lastMileWire: 0,
        lastMile: 0,
        edge: 0,
        middleMile: 0,
        backend: null,
        originAsOnePart: false,
        download: 0,
        render: null,
      },
    },
    { unverified: true },
    0,
  ),
);

/** Bulk insert of rows given as one JSON array parameter (once per site+pvid). */
export const INSERT_PV_SQL = `INSERT INTO rum_page_views (${PV_COLUMNS.join(", ")}) SELECT ${PV_COLUMNS.map(
  (c) => `value->>'${c}'`,
).join(", ")} FROM json_each(?1) WHERE true ON CONFLICT (site, pvid) DO NOTHING`;

/** Columns an update or a resolution rewrites (everything but the key, `ts` and the dimensions from the first beacon). */
export const UPDATE_COLUMNS: readonly string[] = PV_COLUMNS.filter(
  (c) =>
    !["site", "pvid", "ts", "page_group", "path", "country", "colo", "asn", "device", "browser"].includes(c),
);

/** The dimensions of the rollup key of a row. */
export function rollupDims(r: PvRow) {
  return {
    site: String(r.site),
    pageGroup: String(r.page_group),
    device: String(r.device),
    country: String(r.country),
    connection: String(r.connection),
    cacheStatus: String(r.cache_status),
    colo: coloOf({ dims: { colo: r.colo } }),
  };
}

/** The metric values a row contributes to the rollups (edge facts only when verified). */
export function rowMetrics(r: PvRow): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of METRIC_PARTS) {
    if (p.edgeFact && r.edge_verified !== 1) continue;
    const v = metricValue(r[p.column]);
    if (v !== undefined) out.set(p.column, v);
  }
  return out;
}

/**
 * A later beacon (higher seq) of a stored page view: its values win, except that a value it does
 * not carry keeps the stored one and INP/CLS never shrink (they only grow during a page's life).
 */
export function mergeLater(old: PvRow, later: PvRow): PvRow {
  const out: PvRow = { ...old };
  for (const c of UPDATE_COLUMNS) {
    const v = later[c];
    if (v !== null && v !== undefined) out[c] = v;
  }
  for (const c of ["inp", "cls"]) {
    const a = metricValue(old[c]);
    const b = metricValue(later[c]);
    out[c] = a === undefined ? (b ?? null) : b === undefined ? a : Math.max(a, b);
  }
  out.converted = Math.max(Number(old.converted ?? 0), Number(later.converted ?? 0));
  out.pending = later.pending;
  return out;
}
