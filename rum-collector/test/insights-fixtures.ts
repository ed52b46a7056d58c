/**
 * Raw rows for the insight route tests, written with plain SQL (the insight routes read raw page
 * views and the edge log only). The session/conversion columns are added when the migrations in
 * this tree do not have them yet, under the names the storage schema documents.
 */
import { env } from "cloudflare:test";

export const TOKEN = "test-query-token";

export interface PvRow {
  pvid: string;
  ts: number;
  site?: string;
  rid?: string | null;
  pageGroup?: string;
  path?: string;
  country?: string;
  colo?: string;
  device?: string;
  browser?: string;
  connection?: string;
  cacheStatus?: string;
  sampleRate?: number;
  lcp?: number | null;
  inp?: number | null;
  cls?: number | null;
  ttfb?: number | null;
  middleMile?: number | null;
  backend?: number | null;
  sessionId?: string | null;
  prevPvid?: string | null;
  arm?: string | null;
  deliveryType?: string | null;
  converted?: 0 | 1 | null;
  conversionValue?: number | null;
}

const SESSION_COLUMNS: [string, string][] = [
  ["session_id", "TEXT"],
  ["prev_pvid", "TEXT"],
  ["arm", "TEXT"],
  ["converted", "INTEGER"],
  ["conversion_value", "REAL"],
];

/** Adds the session/conversion columns of rum_page_views that the applied migrations lack. */
export async function ensureSessionColumns(): Promise<void> {
  const cols = await env.DB.prepare("PRAGMA table_info(rum_page_views)").all<{ name: string }>();
  const have = new Set(cols.results.map((c) => c.name));
  for (const [name, type] of SESSION_COLUMNS)
    if (!have.has(name)) await env.DB.prepare(`ALTER TABLE rum_page_views ADD COLUMN ${name} ${type}`).run();
}

export async function resetInsightTables(): Promise<void> {
  await ensureSessionColumns();
  await env.DB.batch(
    ["rum_page_views", "rum_edge_log", "rum_coverage", "rum_slo_alerts"].map((t) =>
      env.DB.prepare(`DELETE FROM ${t}`),
    ),
  );
}

/** Inserts page views (defaults: site demo, /p/:id, DE, FRA, mobile, 4g, MISS, sample rate 1). */
export async function insertPageViews(rows: readonly PvRow[]): Promise<void> {
  const stmt = env.DB.prepare(
    `INSERT INTO rum_page_views (site, pvid, seq, ts, updated_ts, rid, page_group, path, country, colo, asn, device,
      browser, connection, cache_status, sample_rate, lcp, inp, cls, ttfb, middle_mile, backend,
      session_id, converted, conversion_value, prev_pvid, arm, delivery_type)
     VALUES (?1, ?2, 0, ?3, ?3, ?4, ?5, ?6, ?7, ?8, 64512, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25)`,
  );
  const all = rows.map((r) =>
    stmt.bind(
      r.site ?? "demo",
      r.pvid,
      r.ts,
      r.rid ?? null,
      r.pageGroup ?? "/p/:id",
      r.path ?? "/p/1",
      r.country ?? "DE",
      r.colo ?? "FRA",
      r.device ?? "mobile",
      r.browser ?? "Chrome",
      r.connection ?? "4g",
      r.cacheStatus ?? "MISS",
      r.sampleRate ?? 1,
      r.lcp ?? null,
      r.inp ?? null,
      r.cls ?? null,
      r.ttfb ?? null,
      r.middleMile ?? null,
      r.backend ?? null,
      r.sessionId ?? null,
      r.converted ?? 0,
      r.conversionValue ?? null,
      r.prevPvid ?? null,
      r.arm ?? null,
      r.deliveryType ?? null,
    ),
  );
  for (let i = 0; i < all.length; i += 50) await env.DB.batch(all.slice(i, i + 50));
}

export interface EdgeRow {
  rid: string;
  ts: number;
  site?: string;
  pageGroup?: string;
  status?: number;
  cacheStatus: string;
  edgeMs?: number;
  originMs?: number | null;
  appMs?: number | null;
  colo?: string;
}

export async function insertEdgeLog(rows: readonly EdgeRow[]): Promise<void> {
  const stmt = env.DB.prepare(
    `INSERT INTO rum_edge_log (rid, ts, site, page_group, path, status, cache_status, edge_ms, origin_ms, app_ms, country, colo, device, browser)
     VALUES (?1, ?2, ?3, ?4, '/p/1', ?5, ?6, ?7, ?8, ?9, 'DE', ?10, 'mobile', 'Chrome')`,
  );
  await env.DB.batch(
    rows.map((r) =>
      stmt.bind(
        r.rid,
        r.ts,
        r.site ?? "demo",
        r.pageGroup ?? "/p/:id",
        r.status ?? 200,
        r.cacheStatus,
        r.edgeMs ?? 5,
        r.originMs ?? null,
        r.appMs ?? null,
        r.colo ?? "FRA",
      ),
    ),
  );
}

/** GET through an app with the bearer token; JSON body. */
export async function getJson(
  app: { request: (p: string, i?: RequestInit) => Response | Promise<Response> },
  path: string,
  token: string | null = TOKEN,
) {
  const res = await app.request(path, {
    headers: token === null ? {} : { Authorization: `Bearer ${token}` },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> & { error?: string } };
}
