/**
 * Seeded data for the dashboards' browser tests: an hour of page views (raw rows, their edge log
 * records and the minute rollups the query API reads) for site "demo", where Brazil's page views
 * that miss the cache have a slow middle mile (the README's walkthrough), sessions with
 * conversions that drop when LCP is slow, and enough slow TTFBs in Brazil to burn the TTFB
 * objective. Written as SQL and applied with `wrangler d1 execute --local` before the stack starts.
 */
import { seededRandom } from "../common/src/seeded-random.ts";
import { QuantileSketch } from "../common/src/sketch.ts";

export interface SeedRow {
  pvid: string;
  rid: string;
  ts: number;
  pageGroup: string;
  path: string;
  country: string;
  colo: string;
  device: string;
  browser: string;
  connection: string;
  cache: "HIT" | "MISS";
  parts: Record<string, number>;
  ttfb: number;
  lcp: number;
  inp: number;
  cls: number;
  fcp: number;
  sessionId: string;
  prevPvid: string | null;
  arm: "holdout" | "ours" | "press";
  deliveryType: string;
  converted: 0 | 1;
  value: number | null;
}

const COUNTRIES = [
  ["DE", "FRA"],
  ["US", "IAD"],
  ["BR", "GRU"],
  ["FR", "CDG"],
  ["JP", "NRT"],
] as const;
const GROUPS = ["/", "/c/:slug", "/p/:id", "/p/:id", "/cart", "/checkout/confirmation"] as const;

/**
 * Page views over the 55 minutes before `now` (oldest first); `slowBrazil` gives Brazil's misses
 * a slow middle mile; `tag` keeps ids of several calls apart.
 */
export function seedRows(now: number, n: number, o: { slowBrazil: boolean; tag: string }): SeedRow[] {
  const rnd = seededRandom(17 + n);
  const rows: SeedRow[] = [];
  let session = 0;
  let left = 0;
  let sessionFast = true;
  for (let i = 0; i < n; i++) {
    const [country, colo] = COUNTRIES[i % 5 === 2 || i % 7 === 3 ? 2 : i % 5] as readonly [string, string];
    const br = country === "BR";
    const first = left === 0;
    if (first) {
      session++;
      left = 1 + Math.floor(rnd() * 4);
    }
    left--;
    const groupIdx = left === 0 && rnd() < 0.5 ? 5 : Math.floor(rnd() * 5);
    const pageGroup = GROUPS[groupIdx] as string;
    const cache: "HIT" | "MISS" =
      pageGroup === "/cart" || pageGroup.startsWith("/checkout") || rnd() < (br ? 0.7 : 0.4) ? "MISS" : "HIT";
    const miss = cache === "MISS";
    const parts: Record<string, number> = {
      queueing: Math.round(1 + rnd() * 4),
      lastMileConnect: Math.round((br ? 60 : 20) + rnd() * 40),
      lastMileWire: Math.round((br ? 70 : 25) + rnd() * 40),
      edge: Math.round(3 + rnd() * 10),
      middleMile: miss ? Math.round(br && o.slowBrazil ? 820 + rnd() * 380 : 40 + rnd() * 50) : 0,
      backend: miss ? Math.round(70 + rnd() * 130) : 0,
      download: Math.round(8 + rnd() * 30),
      resourceLoadDelay: Math.round(40 + rnd() * 200),
      // Brazil's last mile is also slower to download the LCP image.
      resourceLoadDuration: Math.round(br && o.slowBrazil ? 300 + rnd() * 1200 : 60 + rnd() * 300),
      elementRenderDelay: Math.round(20 + rnd() * 200),
    };
    // Prefetch experiment: one arm per tab; in "ours" most next navigations arrive prefetched,
    // which takes the network out of their LCP.
    const arm = (["holdout", "ours", "press"] as const)[session % 3] as SeedRow["arm"];
    const prefetched = !first && ((arm === "ours" && rnd() < 0.7) || (arm === "press" && rnd() < 0.3));
    if (prefetched)
      for (const k of ["lastMileConnect", "lastMileWire", "middleMile", "backend"]) parts[k] = 0;
    const ttfbNow = ["queueing", "lastMileConnect", "lastMileWire", "edge", "middleMile", "backend"].reduce(
      (a, k) => a + (parts[k] ?? 0),
      0,
    );
    const lcp =
      ttfbNow +
      (parts.download ?? 0) +
      (parts.resourceLoadDelay ?? 0) +
      (parts.resourceLoadDuration ?? 0) +
      (parts.elementRenderDelay ?? 0);
    if (first) sessionFast = lcp <= 2500;
    const converted = left === 0 && groupIdx === 5 && rnd() < (sessionFast ? 0.9 : 0.35) ? 1 : 0;
    rows.push({
      pvid: `pv${o.tag}${String(i).padStart(4, "0")}`,
      rid: `rid${o.tag}${String(i).padStart(4, "0")}`,
      // Spread over the last 55 minutes, with the last 10 minutes twice as busy.
      ts: now - Math.round(((n - i) / n) * 55 * 60_000 * (i > n * 0.8 ? 0.5 : 1)) - 30_000,
      pageGroup,
      path: pageGroup.replace(":id", String(100 + Math.floor(rnd() * 50))).replace(":slug", "shoes"),
      country,
      colo,
      device: rnd() < 0.6 ? "mobile" : "desktop",
      browser: rnd() < 0.7 ? "Chrome" : "Firefox",
      connection: rnd() < 0.8 ? "4g" : "3g",
      cache,
      parts,
      ttfb: ttfbNow,
      lcp,
      inp: Math.round(40 + rnd() * 260),
      cls: Math.round(rnd() * 200) / 1000,
      fcp: Math.round(ttfbNow + 100 + rnd() * 400),
      sessionId: `s${o.tag}${session}`,
      prevPvid: first ? null : `pv${o.tag}${String(i - 1).padStart(4, "0")}`,
      arm,
      deliveryType: prefetched ? "navigational-prefetch" : "",
      converted,
      value: converted ? Math.round(40 + rnd() * 160) : null,
    });
  }
  return rows.sort((a, b) => a.ts - b.ts);
}

const q = (v: string | number | null) =>
  v === null ? "NULL" : typeof v === "number" ? String(v) : `'${v.replace(/'/g, "''")}'`;
const hex = (b: Uint8Array) => `X'${Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("")}'`;

/** Rollup column of each metric (the rollup table's sketch columns). */
const ROLLUP = {
  lcp: "lcp",
  inp: "inp",
  cls: "cls",
  fcp: "fcp",
  ttfb: "ttfb",
  queueing: "queueing",
  lastMile: "last_mile",
  lastMileConnect: "last_mile_connect",
  lastMileWire: "last_mile_wire",
  edge: "edge",
  middleMile: "middle_mile",
  backend: "backend",
  download: "download",
  resourceLoadDelay: "resource_load_delay",
  resourceLoadDuration: "resource_load_duration",
  elementRenderDelay: "element_render_delay",
} as const;

function metricValues(r: SeedRow): Record<keyof typeof ROLLUP, number> {
  return {
    lcp: r.lcp,
    inp: r.inp,
    cls: r.cls,
    fcp: r.fcp,
    ttfb: r.ttfb,
    lastMile: (r.parts.lastMileConnect ?? 0) + (r.parts.lastMileWire ?? 0),
    ...(r.parts as Record<string, number>),
  } as Record<keyof typeof ROLLUP, number>;
}

/** The rollup keys a page view counts in: its own dimensions and its page group's totals row ('*'). */
function rollupKeys(r: SeedRow): (string | number)[][] {
  const minute = r.ts - (r.ts % 60_000);
  return [
    [minute, "demo", r.pageGroup, r.device, r.country, r.connection, r.cache, r.colo],
    [minute, "demo", r.pageGroup, "*", "*", "*", "*", "*"],
  ];
}

/** SQL statements: raw page views (with session columns), edge log, minute rollups. */
export function seedSql(rows: readonly SeedRow[]): string {
  const out: string[] = [];
  for (const r of rows) {
    const p = r.parts;
    out.push(
      `INSERT INTO rum_page_views (site, pvid, seq, ts, updated_ts, rid, page_group, path, country, colo, asn, device, browser, connection, cache_status, nav_type, sample_rate, lcp, inp, cls, fcp, ttfb, queueing, last_mile, last_mile_connect, last_mile_wire, edge, middle_mile, backend, origin_as_one_part, edge_measured, edge_verified, download, resource_load_delay, resource_load_duration, element_render_delay, session_id, prev_pvid, arm, delivery_type, converted, conversion_value) VALUES ('demo', ${q(r.pvid)}, 0, ${r.ts}, ${r.ts}, ${q(r.rid)}, ${q(r.pageGroup)}, ${q(r.path)}, ${q(r.country)}, ${q(r.colo)}, 64512, ${q(r.device)}, ${q(r.browser)}, ${q(r.connection)}, ${q(r.cache)}, 'navigate', 1, ${r.lcp}, ${r.inp}, ${r.cls}, ${r.fcp}, ${r.ttfb}, ${p.queueing}, ${(p.lastMileConnect ?? 0) + (p.lastMileWire ?? 0)}, ${p.lastMileConnect}, ${p.lastMileWire}, ${p.edge}, ${p.middleMile}, ${p.backend}, 0, 1, 1, ${p.download}, ${p.resourceLoadDelay}, ${p.resourceLoadDuration}, ${p.elementRenderDelay}, ${q(r.sessionId)}, ${q(r.prevPvid)}, ${q(r.arm)}, ${q(r.deliveryType)}, ${r.converted}, ${q(r.value)});`,
    );
    const origin = r.cache === "MISS" ? (p.middleMile ?? 0) + (p.backend ?? 0) : null;
    out.push(
      `INSERT INTO rum_edge_log (rid, ts, site, page_group, path, status, cache_status, edge_ms, origin_ms, app_ms, country, colo, device, browser) VALUES (${q(r.rid)}, ${r.ts - 200}, 'demo', ${q(r.pageGroup)}, ${q(r.path)}, 200, ${q(r.cache)}, ${(p.edge ?? 0) + (origin ?? 0)}, ${q(origin)}, ${r.cache === "MISS" ? p.backend : "NULL"}, ${q(r.country)}, ${q(r.colo)}, ${q(r.device)}, ${q(r.browser)});`,
    );
  }
  const rollups = new Map<
    string,
    { key: (string | number)[]; views: number; sketches: Map<string, QuantileSketch> }
  >();
  for (const r of rows)
    for (const key of rollupKeys(r)) {
      const k = key.join("|");
      let row = rollups.get(k);
      if (!row) {
        row = { key, views: 0, sketches: new Map() };
        rollups.set(k, row);
      }
      row.views++;
      for (const [name, v] of Object.entries(metricValues(r))) {
        const col = ROLLUP[name as keyof typeof ROLLUP];
        if (!col) continue;
        let s = row.sketches.get(col);
        if (!s) {
          s = new QuantileSketch();
          row.sketches.set(col, s);
        }
        s.add(v);
      }
    }
  for (const { key, views, sketches } of rollups.values()) {
    // ts, site, page group, device, country, connection, cache status, colo
    const cols = [...sketches.keys()];
    out.push(
      `INSERT INTO rum_rollups (granularity, ts, site, page_group, device, country, connection, cache_status, colo, views, version, ${cols.join(", ")}) VALUES ('minute', ${key.map((v) => q(v)).join(", ")}, ${views}, 0, ${cols.map((c) => hex((sketches.get(c) as QuantileSketch).toBytes())).join(", ")});`,
    );
  }
  // Image variants the edge served for each page view (two per page; one in 25 a fallback).
  rows.forEach((r, i) => {
    for (let k = 0; k < 2; k++) {
      const fallback = (i * 2 + k) % 25 === 0;
      const format = fallback ? "original" : r.browser === "Chrome" ? (k === 0 ? "avif" : "webp") : "webp";
      const original = 120_000 + ((i * 7919 + k * 104_729) % 280_000);
      const ratio = format === "avif" ? 0.28 : format === "webp" ? 0.42 : 1;
      out.push(
        `INSERT INTO rum_image_log (rid, ts, site, format, device, width, cache_status, original_bytes, delivered_bytes, fallback, sample_rate) VALUES ('img-${r.rid}-${k}', ${r.ts}, 'demo', '${format}', ${q(r.device)}, ${fallback ? "NULL" : r.device === "mobile" ? 640 : 1280}, 'HIT', ${original}, ${Math.round(original * ratio)}, ${fallback ? 1 : 0}, 1);`,
      );
    }
  });
  // The edge's speculation counters for the hour (the cost side of the prefetch experiment).
  const hour = Math.floor(Math.max(...rows.map((r) => r.ts)) / 3_600_000) * 3_600_000;
  const served = (arm: string) => rows.filter((r) => r.arm === arm && r.deliveryType !== "").length;
  for (const [arm, extra] of [
    ["ours", 1.4],
    ["press", 3],
  ] as const) {
    const requests = Math.round(served(arm) * extra);
    out.push(
      `INSERT INTO prefetch_speculations (site, hour, arm, kind, requests, bytes, origin_requests) VALUES ('demo', ${hour}, '${arm}', 'prefetch', ${requests}, ${requests * 42_000}, ${Math.round(requests / 4)}) ON CONFLICT (site, hour, arm, kind) DO UPDATE SET requests = requests + excluded.requests, bytes = bytes + excluded.bytes, origin_requests = origin_requests + excluded.origin_requests;`,
    );
  }
  return out.join("\n");
}

/** `ALTER TABLE` for the session columns the applied migrations lack (none once they are in main). */
export function sessionColumnsSql(existing: ReadonlySet<string>): string {
  const want: [string, string][] = [
    ["session_id", "TEXT"],
    ["prev_pvid", "TEXT"],
    ["converted", "INTEGER"],
    ["conversion_value", "REAL"],
  ];
  return want
    .filter(([c]) => !existing.has(c))
    .map(([c, t]) => `ALTER TABLE rum_page_views ADD COLUMN ${c} ${t};`)
    .join("\n");
}
