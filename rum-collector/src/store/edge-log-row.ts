/** `rum_edge_log` rows from edge log messages (inserted once per rid). */
import type { EdgeLogMessage } from "../../../common/src/rum-types.ts";

const EDGE_COLUMNS = [
  "rid",
  "ts",
  "site",
  "page_group",
  "path",
  "status",
  "cache_status",
  "edge_ms",
  "origin_ms",
  "app_ms",
  "country",
  "colo",
  "device",
  "browser",
];

/** Bulk insert of edge rows given as one JSON array parameter. */
export const INSERT_EDGE_SQL = `INSERT INTO rum_edge_log (${EDGE_COLUMNS.join(", ")}) SELECT ${EDGE_COLUMNS.map(
  (c) => `value->>'${c}'`,
).join(", ")} FROM json_each(?1) WHERE true ON CONFLICT (rid) DO NOTHING`;

function ms(x: unknown): number | null {
  return typeof x === "number" && Number.isFinite(x) && x >= 0 ? x : null;
}

/** The row of one edge log message. */
export function edgeRow(m: EdgeLogMessage): Record<string, unknown> {
  return {
    rid: m.rid,
    ts: m.ts,
    site: m.site,
    page_group: m.pageGroup,
    path: m.path,
    status: m.status,
    cache_status: m.cacheStatus,
    edge_ms: ms(m.edgeMs) ?? 0,
    origin_ms: ms(m.originMs),
    app_ms: ms(m.appMs),
    country: m.country,
    colo: m.colo,
    device: m.device,
    browser: m.browser,
  };
}
