/**
 * The store side of `npm run bench:rum`, run against the consumer process's Miniflare:
 *  - `seedEdgeRecords`: the edge log records of the beacons about to be sent (as the edge writes
 *    them before the browser's beacon arrives), so every page view is joined and rolled up;
 *  - `drainPhase`: a backlog of page-view messages (NDJSON messages of up to 120 KB, as the
 *    intake packs them) with varied page groups and LCP, each with its edge record, put on the queue at
 *    once; the consumer's stored page views per second until the last is in D1, and the D1 and R2
 *    bytes they took;
 *  - `exactVsSketch`: the exact p75 of LCP by page group over the Parquet archive (DuckDB) next
 *    to the query API's sketch answer for the same page views.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sampleBeacon } from "../../common/src/sample-beacon.ts";
import { seededRandom } from "../../common/src/seeded-random.ts";
import { toPageViewMessage } from "../../rum-collector/src/intake/page-view.ts";
import { openArchive, query, syncFromBucket } from "../../scripts/rum-archive-lib.mjs";

const GROUPS = ["product", "category", "home", "search", "cart", "checkout", "account", "help"];

async function dbSize(db) {
  const r = await db.prepare("SELECT 1").run();
  return Number(r.meta.size_after ?? 0);
}

/** Inserts edge log rows for `rids` (MISS, 80/70/40 ms, as the sample beacon's Server-Timing). */
export async function seedEdgeRecords(db, site, rids, ts) {
  const sql =
    "INSERT OR IGNORE INTO rum_edge_log (rid, ts, site, page_group, path, status, cache_status, edge_ms, origin_ms, app_ms, country, colo, device, browser) SELECT value, ?2, ?3, 'product', '/p/123', 200, 'MISS', 80, 70, 40, 'XX', 'local', 'mobile', 'chrome' FROM json_each(?1)";
  for (let i = 0; i < rids.length; i += 5000) {
    await db
      .prepare(sql)
      .bind(JSON.stringify(rids.slice(i, i + 5000)), ts, site)
      .run();
  }
}

/** Rids the bench beacons carry: the beacon client's `<prefix>_<i padded to 8>`. */
export function beaconRids(prefix, count) {
  return Array.from({ length: count }, (_, i) => `${prefix}_${String(i).padStart(8, "0")}`);
}

/** Page-view messages with their edge records, as NDJSON queue bodies of at most 120 KB. */
function drainMessages(n, site, ts0) {
  const rnd = seededRandom(14);
  const gauss = () => Math.sqrt(-2 * Math.log(Math.max(rnd(), 1e-12))) * Math.cos(2 * Math.PI * rnd());
  const logn = (median, sigma) => Math.exp(Math.log(median) + sigma * gauss());
  const pick = (list) => list[Math.min(list.length - 1, Math.floor(list.length * rnd() ** 2))];
  const COUNTRIES = ["US", "DE", "GB", "FR", "NL", "IN", "BR", "JP", "CA", "AU"];
  const COLOS = ["IAD", "FRA", "LHR", "CDG", "AMS", "BOM", "GRU", "NRT", "YYZ", "SYD"];
  const bodies = [];
  let lines = [];
  let bytes = 0;
  let sid = "";
  let prev;
  for (let i = 0; i < n; i++) {
    const pvid = `drain_${String(i).padStart(8, "0")}_${Math.floor(rnd() * 1e9).toString(36)}`;
    const group = pick(GROUPS);
    const c = Math.floor(rnd() * COUNTRIES.length);
    const dims = {
      country: COUNTRIES[c],
      colo: COLOS[c],
      asn: 1000 + Math.floor(rnd() * 60000),
      device: pick(["mobile", "desktop", "tablet"]),
      browser: pick(["chrome", "safari", "edge", "firefox", "samsung"]),
    };
    if (i % 5 === 0) {
      sid = `s${Math.floor(rnd() * 1e12).toString(36)}`;
      prev = undefined;
    }
    const lcp = Math.round(logn(1800, 0.6));
    const ts = ts0 + Math.floor((i / n) * 50 * 60_000);
    // Navigation timings that vary as real ones do (DNS, connect, server, download).
    const dns = rnd() < 0.6 ? 0 : logn(20, 0.8);
    const connect = rnd() < 0.5 ? 0 : logn(60, 0.7);
    const server = logn(160, 0.7);
    const base = sampleBeacon();
    const nav = { ...base.nav, type: pick(["navigate", "reload", "back_forward", "back_forward_cache"]) };
    nav.domainLookupStart = 2 + logn(2, 1);
    nav.domainLookupEnd = nav.domainLookupStart + dns;
    nav.connectStart = nav.domainLookupEnd;
    nav.secureConnectionStart = nav.connectStart + connect / 2;
    nav.connectEnd = nav.connectStart + connect;
    nav.requestStart = nav.connectEnd + 1;
    nav.responseStart = nav.requestStart + server;
    nav.responseEnd = nav.responseStart + logn(25, 0.8);
    const beacon = sampleBeacon({
      site,
      pvid,
      rid: pvid,
      url: `https://shop.example/${group}/${Math.floor(rnd() * 50000)}?utm_source=x`,
      nav,
      vitals: {
        lcp,
        inp: Math.round(logn(150, 0.8)),
        cls: Math.round(logn(0.05, 1) * 1e4) / 1e4,
        fcp: Math.round(logn(1100, 0.5)),
        ttfb: nav.responseStart,
      },
      lcpParts: {
        ttfb: nav.responseStart,
        resourceLoadDelay: logn(150, 0.8),
        resourceLoadDuration: logn(300, 0.8),
        elementRenderDelay: logn(200, 0.8),
      },
      viewport: { w: pick([390, 412, 1440, 1920, 768]), h: pick([844, 915, 900, 1080, 1024]) },
      sid,
      prev,
    });
    prev = pvid;
    const m = toPageViewMessage(beacon, dims, ts, [], 1);
    m.pageGroup = group;
    const app = logn(90, 0.7);
    const pair = [
      JSON.stringify({
        kind: "edge",
        ts: ts - 200,
        rid: pvid,
        site,
        pageGroup: group,
        path: m.path,
        status: 200,
        cacheStatus: "MISS",
        edgeMs: Math.round(server * 0.8 * 1000) / 1000,
        originMs: Math.round(server * 0.7 * 1000) / 1000,
        appMs: Math.round(Math.min(app, server * 0.7) * 1000) / 1000,
        country: dims.country,
        colo: dims.colo,
        device: dims.device,
        browser: dims.browser,
      }),
      JSON.stringify(m),
    ];
    const n2 = pair[0].length + pair[1].length + 2;
    // As the intake packs them: one NDJSON message up to the queue's 128 KB (120 KB used).
    if (bytes + n2 > 120_000) {
      bodies.push(lines.join("\n"));
      lines = [];
      bytes = 0;
    }
    lines.push(...pair);
    bytes += n2;
  }
  if (lines.length) bodies.push(lines.join("\n"));
  return bodies;
}

async function r2Bytes(bucket, prefix) {
  let bytes = 0;
  let objects = 0;
  let cursor;
  do {
    const page = await bucket.list({ prefix, cursor, limit: 1000 });
    for (const o of page.objects) {
      bytes += o.size;
      objects++;
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return { bytes, objects };
}

/**
 * Puts `n` page views (with their edge records) on the queue at once and measures how fast the
 * consumer stores them. Returns stored/s and the bytes per page view in D1 and R2.
 */
export async function drainPhase({ mf, db, n, site, ts0, sleep, log }) {
  const bodies = drainMessages(n, site, ts0);
  const producer = await mf.getQueueProducer("RUM_QUEUE");
  const bucket = await mf.getR2Bucket("RUM_ARCHIVE");
  const count = async () =>
    Number(
      (await db.prepare("SELECT COUNT(*) AS n FROM rum_page_views WHERE site = ?1").bind(site).first()).n,
    );
  const sizeBefore = await dbSize(db);
  const rawBefore = await r2Bytes(bucket, "raw/");
  const t0 = performance.now();
  // sendBatch takes at most 256 KB: two full messages a call.
  for (let i = 0; i < bodies.length; i += 2)
    await producer.sendBatch(bodies.slice(i, i + 2).map((body) => ({ body, contentType: "text" })));
  let stored = 0;
  let last = -1;
  let lastChange = performance.now();
  while (stored < n) {
    await sleep(50);
    stored = await count();
    if (stored !== last) {
      last = stored;
      lastChange = performance.now();
    } else if (performance.now() - lastChange > 30_000) break;
  }
  const seconds = (performance.now() - t0) / 1000;
  const sizeAfter = await dbSize(db);
  const rollupRows = Number(
    (await db.prepare("SELECT COUNT(*) AS n FROM rum_rollups WHERE site = ?1").bind(site).first()).n,
  );
  const rawAfter = await r2Bytes(bucket, "raw/");
  // What the raw rows alone take: copy the drain's page-view and edge rows once more (new keys)
  // and measure D1's growth; the rest of the drain's growth is rollup rows.
  const copyRows = async (table, keyCol) => {
    const one = await db.prepare(`SELECT * FROM ${table} WHERE site = ?1 LIMIT 1`).bind(site).first();
    const cols = Object.keys(one ?? {});
    const before = await dbSize(db);
    await db
      .prepare(
        `INSERT INTO ${table} (${cols.join(", ")}) SELECT ${cols.map((c) => (c === keyCol ? `${c} || '~copy'` : c)).join(", ")} FROM ${table} WHERE site = ?1`,
      )
      .bind(site)
      .run();
    const bytes = (await dbSize(db)) - before;
    await db.prepare(`DELETE FROM ${table} WHERE ${keyCol} LIKE '%~copy'`).run();
    return bytes;
  };
  const pvRowBytes = (await copyRows("rum_page_views", "pvid")) / Math.max(1, stored);
  const edgeRowBytes = (await copyRows("rum_edge_log", "rid")) / Math.max(1, stored);
  const pv = await r2Bytes(bucket, `parquet/pageviews/site=${site}/`);
  const edge = await r2Bytes(bucket, `parquet/edge/site=${site}/`);
  log(`drain: ${stored} of ${n} stored in ${seconds.toFixed(1)} s`);
  return {
    n,
    stored,
    seconds,
    storedPerS: stored / seconds,
    d1BytesPerPageView: (sizeAfter - sizeBefore) / Math.max(1, stored),
    d1Bytes: sizeAfter - sizeBefore,
    d1PageViewRowBytes: pvRowBytes,
    d1EdgeRowBytes: edgeRowBytes,
    d1RollupBytesPerRow:
      (sizeAfter - sizeBefore - (pvRowBytes + edgeRowBytes) * stored) / Math.max(1, rollupRows),
    minutesSpanned: 50,
    rollupRows,
    parquetPageViewBytes: pv.bytes,
    parquetEdgeBytes: edge.bytes,
    parquetObjects: pv.objects + edge.objects,
    r2ParquetBytesPerPageView: (pv.bytes + edge.bytes) / Math.max(1, stored),
    ndjsonBytes: rawAfter.bytes - rawBefore.bytes,
    r2NdjsonBytesPerPageView: (rawAfter.bytes - rawBefore.bytes) / Math.max(1, stored),
  };
}

/**
 * Exact p75 of LCP by page group over the Parquet archive of `site` (DuckDB, deduplicated by
 * pvid keeping the highest seq) next to the query API's sketch answer over the same page views.
 */
export async function exactVsSketch({ mf, site, queryUrl, token, from, to }) {
  const dir = mkdtempSync(join(tmpdir(), "bench-rum-parquet-"));
  try {
    const copied = await syncFromBucket(await mf.getR2Bucket("RUM_ARCHIVE"), dir);
    const con = await openArchive(dir);
    // The exact p75 with the sketch's rank definition (the element of rank ⌊0.75·(n−1)⌋).
    const sql = `WITH pv AS (SELECT * FROM pageviews WHERE site = '${site}' QUALIFY row_number() OVER (PARTITION BY site, pvid ORDER BY seq DESC) = 1),
      ranked AS (SELECT page_group, lcp, row_number() OVER (PARTITION BY page_group ORDER BY lcp) - 1 AS r, count(*) OVER (PARTITION BY page_group) AS n FROM pv WHERE lcp IS NOT NULL)
      SELECT page_group, lcp AS p75, n FROM ranked WHERE r = floor(0.75 * (n - 1)) ORDER BY page_group`;
    const t0 = performance.now();
    const exact = await query(con, sql);
    const duckMs = performance.now() - t0;
    const res = await fetch(
      `${queryUrl}/_rum/v1/query?metric=lcp&percentiles=75&groupBy=pageGroup&site=${site}&from=${from}&to=${to}`,
      { headers: { Authorization: `Bearer ${token}` } },
    );
    const body = await res.json();
    const sketch = new Map((body.groups ?? []).map((g) => [g.key, g]));
    let maxErr = 0;
    const rows = exact.map((r) => {
      const s = sketch.get(r.page_group);
      const p = s?.percentiles?.p75 ?? null;
      const err = p === null ? null : Math.abs(p - Number(r.p75)) / Number(r.p75);
      if (err !== null) maxErr = Math.max(maxErr, err);
      return {
        pageGroup: r.page_group,
        n: Number(r.n),
        exactP75: Number(r.p75),
        sketchP75: p,
        sketchCount: s?.count ?? 0,
        relErr: err,
      };
    });
    return { copiedObjects: copied, duckdbMs: duckMs, rows, maxRelErr: maxErr, sql };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
