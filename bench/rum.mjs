/**
 * `npm run bench:rum`: the RUM data path next to its peers, in one run:
 *  1. beacon size (gzip -9) next to web-vitals alone and web-vitals/attribution
 *     (bench/rum-beacon-size.mjs; "not built" when it is missing or fails);
 *  2. collector ingest on workerd (Miniflare API, the `wrangler deploy --dry-run` bundle with
 *     D1 + Queue + R2 bound). The bundle runs twice, as an intake process (queue producer) and a
 *     consumer process (queue consumer, D1, R2, nice 19) joined by Miniflare's dev registry, since
 *     on Cloudflare the consumer never runs on the intake's thread. Rounds of exactly N valid
 *     beacons POSTed at c=16 (Node keep-alive client) alternate with the same load on a
 *     hello-world Worker (the ceiling, goal ≥ 0.7×); then the queue is drained and COUNT(*) in
 *     D1 compared with the accepted count. Context row: both roles in one workerd process;
 *  3. query latency: p75 of LCP by page group over 1 M synthetic page views (hour and day
 *     rollups built from the page views with the product's sketch, loaded into the same D1),
 *     `GET /_rum/v1/query` timed on workerd (goal ≤ 200 ms); peer: the exact window-function
 *     p75 by page group over the 1 M raw rows in SQLite (node:sqlite), timed in this process.
 *  4. consumer capacity: a backlog of --drain N page views (default 20000) with their edge records
 *     put on the queue at once and drained (stored/s; `ingest.consumerOverIntake` = that ÷ the
 *     intake's accepted/s, goal ≥ 1.0), the D1 and R2 bytes they took, and the exact p75 over the
 *     Parquet archive with DuckDB next to the query API's sketch answer.
 * Options: --beacons N per run (default 5000), --rounds N (5), --pageviews N (default 1000000),
 * --query-runs N (20), --no-json (do not write bench/out/rum-<start time>.json).
 * Stops by itself; all children and temp dirs are cleaned up on exit or Ctrl-C.
 */

import { mkdirSync, writeFileSync } from "node:fs";
import { setPriority } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { convertV4MiniflareOptions, Miniflare, NoOpLog } from "miniflare";
import { seededRandom } from "../common/src/seeded-random.ts";
import { QuantileSketch } from "../common/src/sketch.ts";
import { numberOption } from "./lib/args.mjs";
import { sendBeacons as sendBeaconLoad } from "./lib/beacon-client.mjs";
import { applyMigrations } from "./lib/d1-migrations.mjs";
import { clockTicksPerSecond, processCpuSeconds } from "./lib/proc-cpu.mjs";
import { cleanup, installCleanupHandlers, makeTempDir, runChild, sleep } from "./lib/procs.mjs";
import { beaconRids, drainPhase, exactVsSketch, seedEdgeRecords } from "./lib/rum-store-phase.mjs";
import { rumBenchVars, rumWorkerOptions } from "./lib/rum-worker-options.mjs";
import { withNewWorkerdPid } from "./lib/rum-workerd-pid.mjs";
import { fmt, markdownTable, median } from "./lib/table.mjs";

const root = join(import.meta.dirname, "..");
const args = process.argv.slice(2);
const opt = numberOption(args);
const BEACONS = opt("beacons", 5_000);
const PAGEVIEWS = opt("pageviews", 1_000_000);
const QUERY_RUNS = opt("query-runs", 20);
const ROUNDS = opt("rounds", 5);
const WRITE_JSON = !args.includes("--no-json");
const started = Date.now();
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

const hz = clockTicksPerSecond();

/** Starts one Miniflare (one workerd process); returns its URL and the workerd pid (for CPU time). */
async function startMiniflare(options) {
  return withNewWorkerdPid(async () => {
    // Miniflare 5 takes per-worker `config`; the v4 shape below is converted by its own helper.
    const mf = new Miniflare(
      convertV4MiniflareOptions({ host: "127.0.0.1", port: 0, log: new NoOpLog(), ...options }),
    );
    miniflares.push(mf);
    const url = await mf.ready;
    return { mf, url: url.origin };
  });
}

async function stopMiniflare(instance) {
  await instance.mf.dispose();
  miniflares.splice(miniflares.indexOf(instance.mf), 1);
}

/** Runs a load against `instance` and adds `cpuUs`: its workerd's CPU µs per 204 answer. */
async function measured(instance, load) {
  const cpu0 = processCpuSeconds(instance.pid, hz);
  const r = await load();
  const cpuUs = ((processCpuSeconds(instance.pid, hz) - cpu0) * 1e6) / Math.max(1, r.ok);
  return { ...r, cpuUs };
}

/**
 * Sends one probe beacon (always the same page-view id, so repeats are stored once) until the
 * consumer process stored it: the dev registry needs a moment to see the consumer.
 */
async function waitForDelivery(url, db) {
  const until = performance.now() + 20_000;
  while (performance.now() < until) {
    const r = await sendBeacons(url, 1, "probe");
    if (r.ok !== 1) throw new Error(`probe beacon rejected: ${r.firstError}`);
    const t = performance.now() + 2_000;
    while (performance.now() < t) {
      if ((await countRows(db)) >= 1) return;
      await sleep(100);
    }
  }
  throw new Error("the consumer process never stored the probe beacon (dev registry delivery failed)");
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
/** Exactly `quota` beacons at c=16 (bench/lib/beacon-client.mjs); latencies in ms. */
async function sendBeacons(url, quota, prefix) {
  return sendBeaconLoad({ baseUrl: url, count: quota, prefix });
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
  const rnd = seededRandom(2026);
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
    // Each page view lands in its full-dimension row and in its page group's totals row ('*').
    for (const key of [
      `${Math.floor(ts / HOUR) * HOUR}|${dims.join("|")}|unknown`,
      `${Math.floor(ts / HOUR) * HOUR}|${dims[0]}|*|*|*|*|*`,
    ]) {
      let row = hours.get(key);
      if (!row) {
        row = { views: 0, sketches: METRIC_COLUMNS.map(() => new QuantileSketch()) };
        hours.set(key, row);
      }
      row.views++;
      for (let m = 0; m < values.length; m++) row.sketches[m].add(values[m]);
    }
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
  const sql = `INSERT INTO rum_rollups (granularity, ts, site, page_group, device, country, connection, cache_status, colo, views, version, ${METRIC_COLUMNS.join(", ")})
    SELECT '${granularity}', value->>'ts', 'demo', value->>'g', value->>'d', value->>'c', value->>'n', value->>'s', value->>'o', value->>'v', 0,
    ${METRIC_COLUMNS.map((c) => `unhex(value->>'${c}')`).join(", ")} FROM json_each(?1)`;
  const entries = [...rows.entries()];
  const chunk = 250;
  let stmts = [];
  for (let i = 0; i < entries.length; i += chunk) {
    const json = entries.slice(i, i + chunk).map(([key, row]) => {
      const [ts, g, d, c, n, s, colo] = key.split("|");
      const o = { ts: Number(ts), g, d, c, n, s, o: colo, v: row.views };
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

  const vars = rumBenchVars(QUERY_TOKEN);
  const workerOptions = rumWorkerOptions(script, vars);
  const consumerOptions = { queueConsumers: { "rum-events": { maxBatchSize: 100, maxBatchTimeout: 1 } } };

  // Production model: on Cloudflare the queue consumer runs as its own invocations, never on the
  // thread that answers beacons. Here the same bundle runs twice, as two dev sessions joined by
  // Miniflare's dev registry (what two `wrangler dev` processes use): the intake process has only
  // the queue producer; its queue broker, finding no local consumer, forwards every sendBatch to
  // the consumer process's broker, whose `queue()` handler writes D1 + R2 there.
  log("starting the consumer process (queue consumer, D1, R2) and the intake process (producer) …");
  const registry = join(tmp, "dev-registry");
  const consumer = await startMiniflare({
    ...workerOptions,
    ...consumerOptions,
    name: "edge-rum-consumer",
    unsafeDevRegistryPath: registry,
  });
  // On Cloudflare the consumer runs on other machines; here the 2 cores are shared by the load
  // client, the intake and the consumer. At nice 19 the consumer gets the CPU the other two leave
  // idle, so the intake row measures the intake, and the consumer row how fast the queue drains.
  setPriority(consumer.pid, 19);
  const db = await consumer.mf.getD1Database("DB");
  await applyMigrations(db);
  // The edge logs every page view before its beacon arrives: seed those records, so the consumer
  // joins each beacon to its edge record and rolls it up (the production path, not the pending one).
  const seedTs = Date.now();
  await seedEdgeRecords(db, "demo", ["probe_00000000", ...beaconRids("warm", 2000)], seedTs);
  for (let r = 0; r < ROUNDS; r++)
    await seedEdgeRecords(db, "demo", beaconRids(`beacon${r}`, BEACONS), seedTs);
  const intake = await startMiniflare({
    ...workerOptions,
    name: "edge-rum",
    unsafeDevRegistryPath: registry,
  });
  await waitForDelivery(intake.url, db);

  const warm = await sendBeacons(intake.url, 2000, "warm");
  if (warm.bad > 0 || warm.ok === 0)
    throw new Error(`beacons rejected during warm-up (${warm.bad}): ${warm.firstError}`);
  const storedBefore = await drain(db, 1 + warm.ok);
  if (storedBefore.n !== 1 + warm.ok)
    throw new Error(
      `warm-up: ${storedBefore.n - 1} of ${warm.ok} stored (delivery to the consumer process failed)`,
    );
  // Rounds interleave the ceiling and the intake (same background load on this shared machine);
  // the ratio is the median of the per-round ratios.
  const consumerCpu0 = processCpuSeconds(consumer.pid, hz);
  const loadStart = performance.now();
  const ceilingRuns = [];
  const ingestRuns = [];
  for (let r = 0; r < ROUNDS; r++) {
    ceilingRuns.push(await measured(hello, () => sendBeacons(hello.url, BEACONS, `hello${r}`)));
    ingestRuns.push(await measured(intake, () => sendBeacons(intake.url, BEACONS, `beacon${r}`)));
    log(
      `round ${r + 1}/${ROUNDS}: hello-world ${fmt(ceilingRuns[r].rps)} req/s, intake ${fmt(ingestRuns[r].rps)} beacons/s`,
    );
  }
  const loadSeconds = (performance.now() - loadStart) / 1000;
  const summary = (runs) => ({
    rps: median(runs.map((x) => x.rps)),
    p50: median(runs.map((x) => x.p50)),
    p99: median(runs.map((x) => x.p99)),
    cpuUs: median(runs.map((x) => x.cpuUs)),
    ok: runs.reduce((n, x) => n + x.ok, 0),
    bad: runs.reduce((n, x) => n + x.bad, 0),
  });
  const ceiling = summary(ceilingRuns);
  const ingest = summary(ingestRuns);
  const ratio = median(ingestRuns.map((x, r) => x.rps / ceilingRuns[r].rps));
  log("waiting for the consumer process …");
  const drained = await drain(db, storedBefore.n + ingest.ok);
  const stored = drained.n - storedBefore.n;
  const consumerCpuUs = ((processCpuSeconds(consumer.pid, hz) - consumerCpu0) * 1e6) / Math.max(1, stored);
  // The consumer ran concurrently with the rounds: its rate is stored ÷ (rounds + time until the
  // last write); the ceiling runs in between send it nothing, so this is a lower bound.
  const storedPerS = stored / (loadSeconds + drained.seconds);
  log(
    `stored ${fmt(stored)} of ${fmt(ingest.ok)} accepted (last write ${drained.seconds.toFixed(1)} s after the load)`,
  );
  await stopMiniflare(intake);
  await stopMiniflare(hello);

  // The consumer's capacity: a backlog put on the queue at once, drained with the machine to itself.
  setPriority(consumer.pid, 0);
  const DRAIN = opt("drain", 20_000);
  const drainTs0 = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
  log(`consumer drain: ${fmt(DRAIN)} page views (with their edge records) on the queue at once …`);
  const drainCpu0 = processCpuSeconds(consumer.pid, hz);
  const drainRun = await drainPhase({
    mf: consumer.mf,
    db,
    n: DRAIN,
    site: "drain",
    ts0: drainTs0,
    sleep,
    log,
  });
  // CPU the consumer's workerd spent per stored page view (the bytes measurement's row copies included).
  drainRun.cpuUsPerPageView =
    ((processCpuSeconds(consumer.pid, hz) - drainCpu0) * 1e6) / Math.max(1, drainRun.stored);
  const consumerOverIntake = drainRun.storedPerS / ingest.rps;
  log("exact p75 over the Parquet archive (DuckDB) vs the sketch …");
  const parquetCheck = await exactVsSketch({
    mf: consumer.mf,
    site: "drain",
    queryUrl: consumer.url,
    token: QUERY_TOKEN,
    from: new Date(drainTs0).toISOString(),
    to: new Date(drainTs0 + 2 * HOUR).toISOString(),
  });

  // Context: the same bundle with producer and consumer in ONE workerd process (one thread), as a
  // single `wrangler dev` session runs it; the consumer's D1/R2 work then competes with the intake.
  log("context: intake and consumer in one workerd process …");
  const single = await startMiniflare({
    ...workerOptions,
    ...consumerOptions,
    d1Databases: { DB: "bench-d1-single" },
  });
  const singleDb = await single.mf.getD1Database("DB");
  await applyMigrations(singleDb);
  const singleWarm = await sendBeacons(single.url, 2000, "swarm");
  await drain(singleDb, singleWarm.ok);
  const oneProcess = await measured(single, () => sendBeacons(single.url, BEACONS, "single"));
  const singleDrained = await drain(singleDb, singleWarm.ok + oneProcess.ok);
  const singleStored = singleDrained.n - singleWarm.ok;
  await stopMiniflare(single);

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
    consumer.url,
    `/_rum/v1/query?metric=lcp&percentiles=75&groupBy=pageGroup&${range}`,
    QUERY_RUNS,
  );
  const unaligned = `from=${new Date(day0 + 30 * 60_000).toISOString()}&to=${new Date(day0 + DAY).toISOString()}`;
  // day0 is past the 2-day minute retention: the planner widens 00:30 to 00:00 and reads day rows.
  const qUnaligned = await timeQuery(
    consumer.url,
    `/_rum/v1/query?metric=lcp&percentiles=75&groupBy=pageGroup&${unaligned}`,
    QUERY_RUNS,
  );
  // 23 whole hours cannot use the day row: every hour row of them is read (what the 23.5 h query
  // read before the planner widened edges first).
  const hourAligned = `from=${new Date(day0 + HOUR).toISOString()}&to=${new Date(day0 + DAY).toISOString()}`;
  const qHours = await timeQuery(
    consumer.url,
    `/_rum/v1/query?metric=lcp&percentiles=75&groupBy=pageGroup&${hourAligned}`,
    QUERY_RUNS,
  );
  const hourRowsRead = [...hours.keys()].filter(
    (k) => Number(k.split("|")[0]) >= day0 + HOUR && k.includes("|*|"),
  ).length;
  // Three metrics in one call vs three single-metric calls.
  const qMulti = await timeQuery(
    consumer.url,
    `/_rum/v1/query?metric=lcp,inp,ttfb&percentiles=75&groupBy=pageGroup&${range}`,
    QUERY_RUNS,
  );
  const threeSingles = [];
  for (let i = 0; i < QUERY_RUNS; i++) {
    const t0 = performance.now();
    for (const m of ["lcp", "inp", "ttfb"]) {
      const res = await fetch(
        `${consumer.url}/_rum/v1/query?metric=${m}&percentiles=75&groupBy=pageGroup&${range}`,
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
  const ms = (x) => `${x.toFixed(2)}ms`;
  console.log(
    markdownTable(
      ["system", "beacons/s", "p50", "p99", "× ceiling", "workerd CPU µs/beacon"],
      [
        [
          "hello-world Worker, 204 (ceiling)",
          fmt(ceiling.rps),
          ms(ceiling.p50),
          ms(ceiling.p99),
          "1.00",
          fmt(ceiling.cpuUs),
        ],
        [
          "intake process: beacons accepted (204), consumer in a 2nd workerd process",
          fmt(ingest.rps),
          ms(ingest.p50),
          ms(ingest.p99),
          ratio.toFixed(2),
          fmt(ingest.cpuUs),
        ],
        [
          "consumer process (nice 19): stored in D1 + R2 per s, first round to last write (lower bound)",
          fmt(storedPerS),
          "",
          "",
          (storedPerS / ceiling.rps).toFixed(2),
          fmt(consumerCpuUs),
        ],
        [
          "context: intake + consumer in ONE workerd process (accepted 204)",
          fmt(oneProcess.rps),
          ms(oneProcess.p50),
          ms(oneProcess.p99),
          (oneProcess.rps / ceiling.rps).toFixed(2),
          fmt(oneProcess.cpuUs),
        ],
      ],
    ),
  );
  const verdict = (acc, st) =>
    st === acc ? "nothing dropped, no duplicates" : `MISMATCH (${st - acc > 0 ? "+" : ""}${st - acc})`;
  console.log(
    `\ntwo processes: accepted ${fmt(ingest.ok)}, rejected ${fmt(ingest.bad)}, stored ${fmt(stored)} → ${verdict(ingest.ok, stored)}; last write ${drained.seconds.toFixed(1)} s after the load`,
  );
  console.log(
    `one process: accepted ${fmt(oneProcess.ok)}, stored ${fmt(singleStored)} → ${verdict(oneProcess.ok, singleStored)}`,
  );
  console.log(
    `goal intake ≥ 0.90× ceiling (two-process row): ${ratio >= 0.9 && stored === ingest.ok ? "met" : "not met"} (${ratio.toFixed(2)}×)`,
  );

  console.log("\n## Consumer: stored page views per second next to the intake\n");
  console.log(
    markdownTable(
      ["system", "page views/s", "× intake", "workerd CPU µs/page view"],
      [
        [
          "intake process: beacons accepted (median round, above)",
          fmt(ingest.rps),
          "1.00",
          fmt(ingest.cpuUs),
        ],
        [
          `consumer process: a backlog of ${fmt(drainRun.n)} page views + edge records drained (D1 join + rollups + R2 Parquet/NDJSON)`,
          fmt(drainRun.storedPerS),
          consumerOverIntake.toFixed(2),
          fmt(drainRun.cpuUsPerPageView),
        ],
      ],
    ),
  );
  console.log(
    `\ngoal consumer ≥ 1.0× intake: ${consumerOverIntake >= 1 ? "met" : "not met"} (${consumerOverIntake.toFixed(2)}×); stored ${fmt(drainRun.stored)} of ${fmt(drainRun.n)}`,
  );
  console.log("\n## Store bytes (measured in the drain)\n");
  console.log(
    markdownTable(
      ["what", "value"],
      [
        [
          "D1 growth per page view (raw row + edge record + indexes + rollup rows)",
          `${fmt(drainRun.d1BytesPerPageView)} B`,
        ],
        ["of which: raw page-view row + its indexes", `${fmt(drainRun.d1PageViewRowBytes)} B`],
        ["of which: edge log row + its index", `${fmt(drainRun.d1EdgeRowBytes)} B`],
        [
          `rollup rows written (minute, full + page-group totals, ${drainRun.minutesSpanned} minutes)`,
          fmt(drainRun.rollupRows),
        ],
        ["D1 bytes per rollup row (16 sketch columns)", `${fmt(drainRun.d1RollupBytesPerRow)} B`],
        [
          "R2 Parquet per page view (page-view row + edge row)",
          `${fmt(drainRun.r2ParquetBytesPerPageView, 1)} B`,
        ],
        ["R2 Parquet objects", fmt(drainRun.parquetObjects)],
        [
          "R2 NDJSON replay log per page view (page view + edge record lines)",
          `${fmt(drainRun.r2NdjsonBytesPerPageView, 1)} B`,
        ],
      ],
    ),
  );
  console.log("\n## p75 LCP by page group: exact over the Parquet archive (DuckDB) vs the sketch\n");
  console.log(
    markdownTable(
      ["page group", "page views", "exact p75 (DuckDB)", "sketch p75 (/v1/query)", "rel. error"],
      parquetCheck.rows.map((r) => [
        r.pageGroup,
        fmt(r.n),
        fmt(r.exactP75, 1),
        r.sketchP75 === null ? "–" : fmt(r.sketchP75, 1),
        r.relErr === null ? "–" : `${(r.relErr * 100).toFixed(2)} %`,
      ]),
    ),
  );
  console.log(
    `\nDuckDB over ${parquetCheck.copiedObjects} Parquet objects: ${fmt(parquetCheck.duckdbMs, 1)} ms; max relative error ${(parquetCheck.maxRelErr * 100).toFixed(2)} %`,
  );

  console.log(`\n## Query: p75 LCP by page group over ${fmt(totalViews)} page views\n`);
  console.log(
    markdownTable(
      ["system", "p50 ms", "p99 ms", "× peer time"],
      [
        [
          `GET /_rum/v1/query, one UTC day (${fmt([...days.keys()].filter((k) => k.includes("|*|")).length)} page-group totals day rows of ${fmt(days.size)})`,
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
          `same, 23 whole hours (${fmt(hourRowsRead)} page-group totals hour rows)`,
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
    `\nmax relative error of the sketch p75 vs exact: ${(maxErr * 100).toFixed(2)} %; goal one day ≤ 100 ms: ${qDay.p50 <= 100 ? "met" : "not met"}; goal 23 whole hours ≤ 200 ms: ${qHours.p50 <= 200 ? "met" : "not met"}`,
  );

  if (WRITE_JSON) {
    const outDir = join(root, "bench", "out");
    mkdirSync(outDir, { recursive: true });
    const file = join(outDir, `rum-${new Date(started).toISOString().replace(/[:.]/g, "-")}.json`);
    const timing = (q) => ({ p50Ms: q.p50, p99Ms: q.p99 });
    writeFileSync(
      file,
      JSON.stringify(
        {
          startedAt: new Date(started).toISOString(),
          durationS: (Date.now() - started) / 1000,
          options: { beacons: BEACONS, rounds: ROUNDS, pageviews: PAGEVIEWS, queryRuns: QUERY_RUNS },
          beaconSize: sizes ?? null,
          ingest: {
            ceiling,
            intake: ingest,
            intakeOverCeiling: ratio,
            rounds: { ceiling: ceilingRuns, intake: ingestRuns },
            stored,
            consumer: { storedPerS, cpuUsPerBeacon: consumerCpuUs, lastWriteS: drained.seconds },
            consumerDrain: drainRun,
            consumerOverIntake,
            oneProcess: { ...oneProcess, stored: singleStored },
          },
          query: {
            pageViews: totalViews,
            day: timing(qDay),
            unaligned: timing(qUnaligned),
            wholeHours: { ...timing(qHours), hourRows: hourRowsRead },
            threeMetricsOneCall: timing(qMulti),
            threeCallsMs: threeSingles,
            peerExactMs: peerTimes,
            sketchMaxRelativeError: maxErr,
          },
          parquet: parquetCheck,
          goals: {
            beaconWithinBudget: sizes ? (sizes[0]?.gzBytes ?? Number.POSITIVE_INFINITY) <= 4608 : null,
            intakeAtLeast09xCeiling: ratio >= 0.9 && stored === ingest.ok,
            consumerAtLeast1xIntake: consumerOverIntake >= 1,
            queryDayP50AtMost100Ms: qDay.p50 <= 100,
            query23HoursP50AtMost200Ms: qHours.p50 <= 200,
          },
        },
        null,
        2,
      ),
    );
    log(`results written to ${file}`);
  }
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
