/**
 * The join of page views to the edge's log by request id: which edge facts D1 already holds for
 * the rids of a batch, and which page views are still waiting for the edge records a batch
 * brings. A page view is verified only by a record of the same site.
 */
import type { EdgeFacts } from "../../../common/src/attribution-edge.ts";
import type { CacheStatus, EdgeLogMessage, PageViewMessage } from "../../../common/src/rum-types.ts";
import type { EdgeState, PvRow } from "./page-view-row.ts";

/** Edge facts of a log message. */
export function factsOf(m: EdgeLogMessage): EdgeFacts {
  const ms = (x: unknown) => (typeof x === "number" && Number.isFinite(x) && x >= 0 ? x : null);
  return {
    site: m.site,
    cacheStatus: m.cacheStatus,
    edgeMs: ms(m.edgeMs) ?? 0,
    originMs: ms(m.originMs),
    appMs: ms(m.appMs),
  };
}

/** Statement reading the edge facts of `rids` from `rum_edge_log`. */
export function edgeFactsStatement(db: D1Database, rids: string[]): D1PreparedStatement {
  return db
    .prepare(
      "SELECT rid, site, cache_status, edge_ms, origin_ms, app_ms FROM rum_edge_log WHERE rid IN (SELECT value FROM json_each(?1))",
    )
    .bind(JSON.stringify(rids));
}

/** Facts by rid from the rows of `edgeFactsStatement`. */
export function factsFromRows(rows: readonly Record<string, unknown>[]): Map<string, EdgeFacts> {
  const out = new Map<string, EdgeFacts>();
  const num = (x: unknown) => (x === null || x === undefined ? null : Number(x));
  for (const r of rows) {
    out.set(String(r.rid), {
      site: String(r.site),
      cacheStatus: String(r.cache_status) as CacheStatus,
      edgeMs: Number(r.edge_ms),
      originMs: num(r.origin_ms),
      appMs: num(r.app_ms),
    });
  }
  return out;
}

/** Statement reading the page views still waiting for one of `rids`. */
export function pendingByRidStatement(db: D1Database, rids: string[]): D1PreparedStatement {
  return db
    .prepare(
      "SELECT * FROM rum_page_views WHERE pending IS NOT NULL AND rid IN (SELECT value FROM json_each(?1))",
    )
    .bind(JSON.stringify(rids));
}

/**
 * Edge state of a page view received at `m.ts`: verified by a record of its site; pending while
 * it has a rid and is younger than the join window at `now`; unverified otherwise.
 */
export function edgeStateOf(
  m: PageViewMessage,
  facts: ReadonlyMap<string, EdgeFacts>,
  now: number,
  joinWindowMs: number,
): EdgeState {
  const rid = m.beacon.rid;
  if (typeof rid !== "string" || rid === "") return { unverified: true };
  const f = facts.get(rid);
  if (f && f.site === m.site) return { facts: f };
  if (f) return { unverified: true };
  return now - m.ts < joinWindowMs ? { pending: true } : { unverified: true };
}

/** The message a pending row waits with. */
export function pendingMessage(r: PvRow): PageViewMessage | null {
  if (typeof r.pending !== "string") return null;
  try {
    return JSON.parse(r.pending) as PageViewMessage;
  } catch {
    return null;
  }
}
