/**
 * `npm run bench:rum`: the RUM data path next to its peers, in one run:
 *  1. beacon size (gzip -9) next to web-vitals alone and web-vitals/attribution
 *     (bench/rum-beacon-size.mjs; "not built" when it is missing or fails);
 *  2. collector ingest on workerd (Miniflare API, the `wrangler deploy --dry-run` bundle with
 *     D1 + Queue + R2 bound): exactly N valid beacons POSTed at c=16 (Node keep-alive client), then the queue drained
 *     and COUNT(*) in D1 compared with the accepted count; a hello-world Worker on the same
 *     runtime is the ceiling (goal ≥ 0.7×);
 *  3. query latency: p75 of LCP by page group over 1 M synthetic page views (hour and day
 *     rollups built from the page views with the product's sketch, loaded into the same D1),
 *     `GET /_rum/v1/query` timed on workerd (goal ≤ 200 ms); peer: the exact window-function
 *     p75 by page group over the 1 M raw rows in SQLite (node:sqlite), timed in this process.
 * Options: --beacons N (default 5000), --pageviews N (default 1000000), --query-runs N (20).
 * Stops by itself; all children and temp dirs are cleaned up on exit or Ctrl-C.
 */
import { dirname, join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { QuantileSketch } from "../common/src/sketch.ts";
import { sendBeacons as sendBeaconLoad } from "./lib/beacon-client.mjs";
import { applyMigrations } from "./lib/d1-migrations.mjs";
import { cleanup, installCleanupHandlers, makeTempDir, runChild, sleep } from "./lib/procs.mjs";
import { fmt, markdownTable, median } from "./lib/table.mjs";

const root = join(import.meta.dirname, "..");
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? dflt : Number(args[i + 1]);
};
const BEACONS = opt("beacons", 5_000);
const PAGEVIEWS = opt("pageviews", 1_000_000);
const QUERY_RUNS = opt("query-runs", 20);
const QUERY_TOKEN = "bench-query-token";
const HOUR = 3_600_000;
const DAY = 86_400_000;

const log = (s) => console.log(`[bench:rum] ${s}`);
installCleanupHandlers();
const tmp = makeTempDir("bench-rum-");
const wranglerEnv = {
  ...process.env,
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
};
const miniflares = [];

async function startMiniflare(options) {
  // Miniflare 5 takes per-worker `config`; the v4 shape below is converted by its own helper.
  const mf = new Miniflare(convertV4MiniflareOptions({ host: "127.0.0.1", port: 0, ...options }));
  miniflares.push(mf);
  const url = await mf.ready;
  return { mf, url: url.origin };
}

// ---------------------------------------------------------------- 1. beacon size
async function beaconSizes() {
  try {
    const mod = await import("./rum-beacon-size.mjs");
    return await mod.measureBeaconSizes();
  } catch (err) {
    log(`beacon size: not built (${String(err?.message ?? err).split("\n")[0]})`);
    return null;
  }
}

// ---------------------------------------------------------------- 2. ingest
/** Exactly `quota` beacons at c=16 (bench/lib/beacon-client.mjs), latencies formatted for the table. */
async function sendBeacons(url, quota, prefix) {
  const r = await sendBeaconLoad({ baseUrl: url, count: quota, prefix });
  const ms = (x) => `${x.toFixed(2)}ms`;
  return { ...r, p50: ms(r.p50), p99: ms(r.p99) };
}

async function countRows(db) {
  const r = await db.prepare("SELECT COUNT(*) AS n FROM rum_page_views").first();
  return Number(r?.n ?? 0);
}

/** Waits until D1 holds `expected` page views (or nothing moved for 20 s). */
async function drain(db, expected) {
  const t0 = performance.now();
  let last = -1;
  let lastChange = performance.now();
  for (;;) {
    const n = await countRows(db);
    if (n >= expected) return { n, seconds: (performance.now() - t0) / 1000 };
    if (n !== last) {
      last = n;
      lastChange = performance.now();
    } else if (performance.now() - lastChange > 20_000)
      return { n, seconds: (performance.now() - t0) / 1000 };
    await sleep(200);
  }
}

async function buildWorker() {
  const out = join(tmp, "dist");
  log("building the Worker (wrangler deploy --dry-run) …");
  const { code, stdout, stderr } = await runChild(
    "wrangler-build",
    join(root, "node_modules/.bin/wrangler"),
    ["deploy", "--dry-run", "--outdir", out],
    { env: wranglerEnv, cwd: root },
  );
  if (code !== 0) throw new Error(`wrangler build failed:\n${stderr}${stdout}`);
  return join(out, "index.js");
}

// ---------------------------------------------------------------- 3. query data
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Zipf-like pick from a list (early entries far more likely), as real traffic is. */
function skewed(rnd, list) {
  return list[Math.min(list.length - 1, Math.floor(list.length * rnd() ** 2.5))];
}

const GROUPS = [
  "product",
  "category",
  "home",
  "search",
  "cart",
  "checkout",
  "account",
  "blog",
  "help",
  "brand",
  "sale",
  "store-locator",
];
const DEVICES = ["mobile", "desktop", "tablet"];
const COUNTRIES = ["US", "DE", "GB", "FR", "NL", "IN", "BR", "JP", "CA", "AU"];
const CONNECTIONS = ["4g", "3g", "unknown", "2g"];
const CACHE = ["HIT", "MISS", "STALE"];
const METRIC_COLUMNS = ["lcp", "inp", "cls", "fcp", "ttfb", "backend"];

/**
 * Generates `n` page views over day `day0`, fills hour and day rollups (the rows cron would
 * produce) and the raw (page_group, lcp) table of the SQLite peer.
 */
function synthesize(n, day0, peer) {
  const rnd = mulberry32(2026);
  const gauss = () => Math.sqrt(-2 * Math.log(Math.max(rnd(), 1e-12))) * Math.cos(2 * Math.PI * rnd());
  const hours = new Map();
  const insert = peer.prepare("INSERT INTO pv (page_group, lcp) VALUES (?, ?)");
  peer.exec("BEGIN");
  for (let i = 0; i < n; i++) {
    const ts = day0 + Math.floor(rnd() * DAY);
    const dims = [
      skewed(rnd, GROUPS),
      skewed(rnd, DEVICES),
      skewed(rnd, COUNTRIES),
      skewed(rnd, CONNECTIONS),
      skewed(rnd, CACHE),
    ];
    const ttfb = Math.exp(Math.log(dims[4] === "MISS" ? 450 : 120) + 0.6 * gauss());
    const lcp = ttfb + Math.exp(Math.log(1400) + 0.7 * gauss());
    const values = [
      lcp,
      Math.exp(Math.log(120) + 0.9 * gauss()),
      rnd() < 0.5 ? 0 : Math.exp(Math.log(0.04) + gauss()),
      ttfb + Math.exp(Math.log(500) + 0.5 * gauss()),
      ttfb,
      dims[4] === "MISS" ? ttfb * 0.4 : 0,
    ];
    const key = `${Math.floor(ts / HOUR) * HOUR}|${dims.join("|")}`;
    let row = hours.get(key);
    if (!row) {
      row = { views: 0, sketches: METRIC_COLUMNS.map(() => new QuantileSketch()) };
      hours.set(key, row);
    }
    row.views++;
    for (let m = 0; m < values.length; m++) row.sketches[m].add(values[m]);
    insert.run(dims[0], lcp);
    if (i % 200_000 === 199_999) log(`  generated ${fmt(i + 1)} page views`);
  }
  peer.exec("COMMIT");
  const days = new Map();
  for (const [key, row] of hours) {
    const dkey = key.replace(/^\d+/, String(day0));
    let d = days.get(dkey);
    if (!d) {
      d = { views: 0, sketches: METRIC_COLUMNS.map(() => new QuantileSketch()) };
      days.set(dkey, d);
    }
    d.views += row.views;
    for (let m = 0; m < row.sketches.length; m++) d.sketches[m].merge(row.sketches[m]);
  }
  return { hours, days };
}

const hex = (bytes) => Buffer.from(bytes).toString("hex");

async function loadRollups(db, granularity, rows) {
  const sql = `INSERT INTO rum_rollups (granularity, ts, site, page_group, device, country, connection, cache_status, views, version, ${METRIC_COLUMNS.join(", ")})
    SELECT '${granularity}', value->>'ts', 'demo', value->>'g', value->>'d', value->>'c', value->>'n', value->>'s', value->>'v', 0,
    ${METRIC_COLUMNS.map((c) => `unhex(value->>'${c}')`).join(", ")} FROM json_each(?1)`;
  const entries = [...rows.entries()];
  const chunk = 250;
  let stmts = [];
  for (let i = 0; i < entries.length; i += chunk) {
    const json = entries.slice(i, i + chunk).map(([key, row]) => {
      const [ts, g, d, c, n, s] = key.split("|");
      const o = { ts: Number(ts), g, d, c, n, s, v: row.views };
      for (let m = 0; m < METRIC_COLUMNS.length; m++) o[METRIC_COLUMNS[m]] = hex(row.sketches[m].toBytes());
      return o;
    });
    stmts.push(db.prepare(sql).bind(JSON.stringify(json)));
    if (stmts.length === 4) {
      await db.batch(stmts);
      stmts = [];
    }
  }
  if (stmts.length) await db.batch(stmts);
}

async function timeQuery(url, path, runs) {
  const times = [];
  let body;
  for (let i = 0; i < runs + 3; i++) {
    const t0 = performance.now();
    const res = await fetch(`${url}${path}`, { headers: { Authorization: `Bearer ${QUERY_TOKEN}` } });
    body = await res.json();
    const ms = performance.now() - t0;
    if (res.status !== 200) throw new Error(`query failed ${res.status}: ${JSON.stringify(body)}`);
    if (i >= 3) times.push(ms);
  }
  times.sort((a, b) => a - b);
  return {
    p50: median(times),
    p99: times[Math.min(times.length - 1, Math.ceil(times.length * 0.99) - 1)],
    body,
  };
}

// ---------------------------------------------------------------- main
async function main() {
  const sizes = await beaconSizes();
  const script = await buildWorker();

  log("starting the hello-world Worker (runtime ceiling) …");
  const hello = await startMiniflare({
    modules: true,
    script: "export default { fetch() { return new Response(null, { status: 204 }); } };",
    compatibilityDate: "2026-11-01",
  });
  await sendBeacons(hello.url, 2000, "warmhello");
  const ceiling = await sendBeacons(hello.url, BEACONS, "hello");
  log(`hello-world: ${fmt(ceiling.rps)} req/s`);
  await hello.mf.dispose();
  miniflares.splice(miniflares.indexOf(hello.mf), 1);

  log("starting the Worker with D1 + Queue + R2 …");
  const vars = {
    ORIGIN_URL: "http://127.0.0.1:9",
    IMAGE_SERVICE_URL: "http://127.0.0.1:9",
    EDGE_ADMIN_TOKEN: "bench-admin",
    RUM_QUERY_TOKEN: QUERY_TOKEN,
    RUM_SITES: "demo=http://127.0.0.1:8787",
    RUM_RATE_LIMIT: "off",
    DASH_TOKEN: "bench-dash",
  };
  const workerOptions = {
    modules: true,
    scriptPath: script,
    modulesRoot: dirname(script),
    compatibilityDate: "2026-11-01",
    compatibilityFlags: ["nodejs_compat"],
    bindings: vars,
    d1Databases: { DB: "bench-d1" },
    kvNamespaces: ["EDGE_KV"],
    r2Buckets: ["RUM_ARCHIVE"],
    queueProducers: { RUM_QUEUE: { queueName: "rum-events" } },
  };

  // Same Worker without the queue consumer: how much of the intake's cost is the consumer's.
  log("intake alone (queue consumer detached) …");
  const alone = await startMiniflare(workerOptions);
  await sendBeacons(alone.url, 2000, "warmalone");
  const intakeOnly = await sendBeacons(alone.url, BEACONS, "alone");
  await alone.mf.dispose();
  miniflares.splice(miniflares.indexOf(alone.mf), 1);

  const prod = await startMiniflare({
    ...workerOptions,
    queueConsumers: { "rum-events": { maxBatchSize: 100, maxBatchTimeout: 1 } },
  });
  const db = await prod.mf.getD1Database("DB");
  await applyMigrations(db);

  const warm = await sendBeacons(prod.url, 2000, "warm");
  if (warm.bad > 0 || warm.ok === 0)
    throw new Error(`beacons rejected during warm-up (${warm.bad}): ${warm.firstError}`);
  await drain(db, warm.ok);
  log(`sending ${fmt(BEACONS)} beacons at c=16 …`);
  const ingest = await sendBeacons(prod.url, BEACONS, "beacon");
  log(`intake: ${fmt(ingest.rps)} beacons/s accepted; draining the queue …`);
  const expected = warm.ok + ingest.ok;
  const drained = await drain(db, expected);
  const stored = drained.n - warm.ok;
  const endToEnd = stored / (ingest.seconds + drained.seconds);
  log(`stored ${fmt(stored)} of ${fmt(ingest.ok)} accepted (drain ${drained.seconds.toFixed(1)} s)`);

  log(`synthesizing ${fmt(PAGEVIEWS)} page views for the query benchmark …`);
  const day0 = Math.floor(Date.now() / DAY) * DAY - 2 * DAY;
  const peer = new DatabaseSync(":memory:");
  peer.exec("CREATE TABLE pv (page_group TEXT NOT NULL, lcp REAL NOT NULL)");
  const { hours, days } = synthesize(PAGEVIEWS, day0, peer);
  log(`loading ${fmt(hours.size)} hour rows and ${fmt(days.size)} day rows into D1 …`);
  await loadRollups(db, "hour", hours);
  await loadRollups(db, "day", days);
  await db.batch([
    db
      .prepare(
        "INSERT INTO rum_rollup_state (granularity, done_until) VALUES ('hour', ?1) ON CONFLICT DO UPDATE SET done_until = excluded.done_until",
      )
      .bind(day0 + DAY),
    db
      .prepare(
        "INSERT INTO rum_rollup_state (granularity, done_until) VALUES ('day', ?1) ON CONFLICT DO UPDATE SET done_until = excluded.done_until",
      )
      .bind(day0 + DAY),
  ]);

  const range = `from=${new Date(day0).toISOString()}&to=${new Date(day0 + DAY).toISOString()}`;
  log("timing GET /_rum/v1/query (p75 LCP by page group) …");
  const qDay = await timeQuery(
    prod.url,
    `/_rum/v1/query?metric=lcp&percentiles=75&groupBy=pageGroup&${range}`,
    QUERY_RUNS,
  );
  const unaligned = `from=${new Date(day0 + 30 * 60_000).toISOString()}&to=${new Date(day0 + DAY).toISOString()}`;
  // day0 is past the 2-day minute retention: the planner widens 00:30 to 00:00 and reads day rows.
  const qUnaligned = await timeQuery(
    prod.url,
    `/_rum/v1/query?metric=lcp&percentiles=75&groupBy=pageGroup&${unaligned}`,
    QUERY_RUNS,
  );
  // 23 whole hours cannot use the day row: every hour row of them is read (what the 23.5 h query
  // read before the planner widened edges first).
  const hourAligned = `from=${new Date(day0 + HOUR).toISOString()}&to=${new Date(day0 + DAY).toISOString()}`;
  const qHours = await timeQuery(
    prod.url,
    `/_rum/v1/query?metric=lcp&percentiles=75&groupBy=pageGroup&${hourAligned}`,
    QUERY_RUNS,
  );
  const hourRowsRead = [...hours.keys()].filter((k) => Number(k.split("|")[0]) >= day0 + HOUR).length;
  // Three metrics in one call vs three single-metric calls.
  const qMulti = await timeQuery(
    prod.url,
    `/_rum/v1/query?metric=lcp,inp,ttfb&percentiles=75&groupBy=pageGroup&${range}`,
    QUERY_RUNS,
  );
  const threeSingles = [];
  for (let i = 0; i < QUERY_RUNS; i++) {
    const t0 = performance.now();
    for (const m of ["lcp", "inp", "ttfb"]) {
      const res = await fetch(
        `${prod.url}/_rum/v1/query?metric=${m}&percentiles=75&groupBy=pageGroup&${range}`,
        { headers: { Authorization: `Bearer ${QUERY_TOKEN}` } },
      );
      await res.arrayBuffer();
    }
    threeSingles.push(performance.now() - t0);
  }
  threeSingles.sort((a, b) => a - b);

  log("timing the exact window-function p75 by page group in SQLite (peer) …");
  const exactSql = `WITH r AS (SELECT page_group, lcp, ROW_NUMBER() OVER (PARTITION BY page_group ORDER BY lcp) AS rn, COUNT(*) OVER (PARTITION BY page_group) AS n FROM pv)
    SELECT page_group, lcp FROM r WHERE rn = CAST(0.75 * (n - 1) AS INTEGER) + 1`;
  const peerTimes = [];
  let exact = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    exact = peer.prepare(exactSql).all();
    peerTimes.push(performance.now() - t0);
  }
  const exactBy = new Map(exact.map((r) => [r.page_group, r.lcp]));
  let maxErr = 0;
  for (const g of qDay.body.groups) {
    const e = exactBy.get(g.key);
    maxErr = Math.max(maxErr, Math.abs(g.percentiles.p75 - e) / e);
  }
  const totalViews = qDay.body.total.views;

  // ---------------------------------------------------------------- report
  console.log("\n## Beacon size (esbuild --bundle --minify, gzip -9)\n");
  if (sizes) {
    const ours = sizes[0]?.gzBytes ?? Number.NaN;
    console.log(
      markdownTable(
        ["bundle", "gz bytes", "× ours"],
        sizes.map((s) => [s.name, fmt(s.gzBytes), (s.gzBytes / ours).toFixed(2)]),
      ),
    );
    console.log(`\nbudget 4,608 B: ${ours <= 4608 ? "within" : "OVER"}`);
  } else console.log("| our beacon | not built |");

  console.log(
    "\n## Collector ingest on workerd (Miniflare; Node keep-alive client, c=16, POST /_rum/v1/beacon)\n",
  );
  console.log(
    markdownTable(
      ["system", "req/s", "p50", "p99", "× ceiling"],
      [
        ["hello-world Worker (ceiling)", fmt(ceiling.rps), ceiling.p50, ceiling.p99, "1.00"],
        [
          "collector intake (accepted 204)",
          fmt(ingest.rps),
          ingest.p50,
          ingest.p99,
          (ingest.rps / ceiling.rps).toFixed(2),
        ],
        ["collector end-to-end (stored in D1)", fmt(endToEnd), "", "", (endToEnd / ceiling.rps).toFixed(2)],
        [
          "intake alone (no queue consumer, context)",
          fmt(intakeOnly.rps),
          intakeOnly.p50,
          intakeOnly.p99,
          (intakeOnly.rps / ceiling.rps).toFixed(2),
        ],
      ],
    ),
  );
  console.log(
    `\naccepted ${fmt(ingest.ok)}, rejected ${fmt(ingest.bad)}, stored ${fmt(stored)} → ${stored === ingest.ok ? "nothing dropped, no duplicates" : `MISMATCH (${stored - ingest.ok})`}; queue drained ${drained.seconds.toFixed(1)} s after the load; goal intake ≥ 0.70× ceiling: ${ingest.rps / ceiling.rps >= 0.7 ? "met" : "not met"}`,
  );

  console.log(`\n## Query: p75 LCP by page group over ${fmt(totalViews)} page views\n`);
  console.log(
    markdownTable(
      ["system", "p50 ms", "p99 ms", "× peer time"],
      [
        [
          `GET /_rum/v1/query, one UTC day (${fmt(days.size)} day rows)`,
          fmt(qDay.p50, 1),
          fmt(qDay.p99, 1),
          (qDay.p50 / median(peerTimes)).toFixed(3),
        ],
        [
          `same, 23.5 h unaligned past minute retention (${qUnaligned.body.sources.map((x) => x.granularity).join("+")} rows, widened to ${qUnaligned.body.from.slice(11, 16)})`,
          fmt(qUnaligned.p50, 1),
          fmt(qUnaligned.p99, 1),
          (qUnaligned.p50 / median(peerTimes)).toFixed(3),
        ],
        [
          `same, 23 whole hours (${fmt(hourRowsRead)} hour rows)`,
          fmt(qHours.p50, 1),
          fmt(qHours.p99, 1),
          (qHours.p50 / median(peerTimes)).toFixed(3),
        ],
        [
          "one UTC day, metric=lcp,inp,ttfb in one call",
          fmt(qMulti.p50, 1),
          fmt(qMulti.p99, 1),
          (qMulti.p50 / median(peerTimes)).toFixed(3),
        ],
        [
          "one UTC day, lcp + inp + ttfb as three calls",
          fmt(median(threeSingles), 1),
          fmt(threeSingles[threeSingles.length - 1], 1),
          (median(threeSingles) / median(peerTimes)).toFixed(3),
        ],
        [
          "SQLite exact window-function p75 over raw rows (peer)",
          fmt(median(peerTimes), 1),
          fmt(Math.max(...peerTimes), 1),
          "1.000",
        ],
      ],
    ),
  );
  console.log(
    `\nmax relative error of the sketch p75 vs exact: ${(maxErr * 100).toFixed(2)} %; goal ≤ 200 ms: ${qDay.p50 <= 200 ? "met" : "not met"}`,
  );
}

try {
  await main();
} catch (err) {
  console.error(`[bench:rum] failed: ${err?.stack ?? err}`);
  process.exitCode = 1;
} finally {
  for (const mf of miniflares) await mf.dispose().catch(() => {});
  await cleanup();
}
