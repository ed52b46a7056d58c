/**
 * `GET /v1/pageview?site=&pvid=`: one page view end to end: the stored beacon row with every
 * attribution part, and the edge's own record for the same request id (cache status, colo,
 * edge/origin/app time) from rum_edge_log.
 */
import { fail, type Parsed, rejectUnknown } from "./params.ts";

function num(x: unknown): number | null {
  return x === null || x === undefined ? null : Number(x);
}

export function parsePageViewParams(params: URLSearchParams): Parsed<{ site: string; pvid: string }> {
  const unknown = rejectUnknown(params, ["site", "pvid"]);
  if (unknown) return fail(unknown);
  const site = params.get("site");
  const pvid = params.get("pvid");
  if (!site || site.length > 200) return fail('missing or too long "site"');
  if (!pvid || !/^[A-Za-z0-9_-]{1,64}$/.test(pvid))
    return fail(`invalid "pvid": expected 1–64 of [A-Za-z0-9_-] (got "${pvid ?? ""}")`);
  return { ok: true, value: { site, pvid } };
}

/** The page view and its edge record; null when no such page view is stored. */
export async function pageViewDetail(db: D1Database, site: string, pvid: string) {
  const r = await db
    .prepare("SELECT * FROM rum_page_views WHERE site = ?1 AND pvid = ?2")
    .bind(site, pvid)
    .first<Record<string, unknown>>();
  if (!r) return null;
  const edge =
    typeof r.rid === "string" && r.rid !== ""
      ? await db
          .prepare("SELECT * FROM rum_edge_log WHERE rid = ?1")
          .bind(r.rid)
          .first<Record<string, unknown>>()
      : null;
  const opt = (k: string) => (k in r ? r[k] : null);
  return {
    site: r.site,
    pvid: r.pvid,
    ts: new Date(Number(r.ts)).toISOString(),
    rid: r.rid ?? null,
    pageGroup: r.page_group,
    path: r.path,
    dims: {
      country: r.country,
      colo: r.colo,
      asn: r.asn,
      device: r.device,
      browser: r.browser,
      connection: r.connection,
    },
    cacheStatus: r.cache_status,
    navigationType: r.nav_type ?? null,
    deliveryType: r.delivery_type ?? null,
    sessionId: opt("session_id"),
    prevPvid: opt("prev_pvid"),
    converted: opt("converted") === null ? null : Number(opt("converted")) === 1,
    conversionValue: num(opt("conversion_value")),
    vitals: { lcp: num(r.lcp), inp: num(r.inp), cls: num(r.cls), fcp: num(r.fcp) },
    attribution: {
      ttfb: num(r.ttfb),
      queueing: num(r.queueing),
      lastMileConnect: num(r.last_mile_connect),
      lastMileWire: num(r.last_mile_wire),
      edge: num(r.edge),
      middleMile: num(r.middle_mile),
      backend: num(r.backend),
      originAsOnePart: Number(r.origin_as_one_part) === 1,
      edgeMeasured: Number(r.edge_measured) === 1,
      download: num(r.download),
      resourceLoadDelay: num(r.resource_load_delay),
      resourceLoadDuration: num(r.resource_load_duration),
      elementRenderDelay: num(r.element_render_delay),
    },
    edgeRecord: edge
      ? {
          rid: edge.rid,
          ts: new Date(Number(edge.ts)).toISOString(),
          status: num(edge.status),
          cacheStatus: edge.cache_status,
          colo: edge.colo,
          country: edge.country,
          edgeMs: num(edge.edge_ms),
          originMs: num(edge.origin_ms),
          appMs: num(edge.app_ms),
        }
      : null,
  };
}
