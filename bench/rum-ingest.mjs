/**
 * Collector intake throughput on workerd (Miniflare API, same setup as bench/rum.mjs), with the
 * batched and the unbatched intake next to hello-world Workers, interleaved in rounds so that
 * background load spreads over every row; then the queue is drained and COUNT(*) in D1 is
 * compared with the accepted count for each intake mode.
 *
 * Rows (one workerd per row, all alive for the whole run):
 *  - hello-world: 204 without reading the body (the runtime's ceiling, as in bench/rum.mjs);
 *  - hello-world reading the body: the least any intake has to do (context);
 *  - intake batched: the real Worker bundle, default RUM_INTAKE_BATCH_SIZE 100 / RUM_INTAKE_BATCH_MS 50;
 *  - intake unbatched: the same bundle with RUM_INTAKE_BATCH_SIZE=1 (one awaited send per beacon);
 *  - intake batched without a queue consumer (context: what the consumer's D1/R2 writes cost the
 *    intake when both share one workerd thread, as they do here but not in production).
 * The first two intakes run with the queue consumer attached and write to their own D1; after
 * each of their runs the queue is drained (untimed) so the next row does not share the CPU with
 * the consumer's leftover writes.
 *
 * Standalone: `node bench/rum-ingest.mjs [--rounds 3] [--beacons 3000] [--warmup 1000] [--seconds 5] [--no-bare] [--no-miniflare]`
 * first runs `measureIngestBareWorkerd` (bare workerd + wrk, see there; `--no-bare` skips it).
 * From another script: `import { measureIngest } from "./rum-ingest.mjs"`, pass the path of a
 * `wrangler deploy --dry-run` bundle; it returns the rows (and prints nothing but progress).
 */

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { numberOption } from "./lib/args.mjs";
import { BENCH_USER_AGENT, beaconTemplate, SITE_ORIGIN, sendBeacons } from "./lib/beacon-client.mjs";
import { applyMigrations } from "./lib/d1-migrations.mjs";
import { clockTicksPerSecond, processCpuSeconds } from "./lib/proc-cpu.mjs";
import {
  cleanup,
  installCleanupHandlers,
  makeTempDir,
  runChild,
  sleep,
  startChild,
  startOnFreePorts,
  stopChild,
} from "./lib/procs.mjs";
import { fmt, markdownTable, median } from "./lib/table.mjs";
import { workerdConfig, writePassthroughWorker } from "./lib/workerd-config.mjs";
import { parseWrk } from "./lib/wrk.mjs";

const root = join(import.meta.dirname, "..");

/**
 * Waits until `db` holds `expected` page views, or nothing moved for 20 s; returns the count.
 * Not timed: the rows' req/s cover only the sending.
 */
async function drain(db, expected) {
  let last = -1;
  let lastChange = performance.now();
  for (;;) {
    const n = Number((await db.prepare("SELECT COUNT(*) AS n FROM rum_page_views").first())?.n ?? 0);
    if (n >= expected) {
      // Keep polling a moment: a duplicate would show up as n > expected.
      await sleep(1500);
      return Number((await db.prepare("SELECT COUNT(*) AS n FROM rum_page_views").first())?.n ?? 0);
    }
    if (n !== last) {
      last = n;
      lastChange = performance.now();
    } else if (performance.now() - lastChange > 20_000) return n;
    await sleep(200);
  }
}

/**
 * Measures the rows described at the top of this file. Options: `bundlePath` (required, the
 * dry-run `index.js`), `rounds` 3, `beacons` 3000 per row and round, `warmup` 1000, `concurrency`
 * 16, `log` console.log. Returns { rows: [{ name, rps, p50, p99, ratio, accepted, stored }] }
 * where `ratio` is the median over rounds of row req/s ÷ hello-world req/s of the same round.
 */
export async function measureIngest({
  bundlePath,
  rounds = 3,
  beacons = 3000,
  warmup = 1000,
  concurrency = 16,
  log = console.log,
}) {
  const instances = [];
  const start = async (options) => {
    const mf = new Miniflare(convertV4MiniflareOptions({ host: "127.0.0.1", port: 0, ...options }));
    instances.push(mf);
    return { mf, url: (await mf.ready).origin };
  };
  try {
    const vars = {
      ENVIRONMENT: "development", // local tokens below are accepted only here
      ORIGIN_URL: "http://127.0.0.1:9",
      IMAGE_SERVICE_URL: "http://127.0.0.1:9",
      EDGE_ADMIN_TOKEN: "bench-admin",
      RUM_QUERY_TOKEN: "bench-query-token",
      RUM_SITES: `demo=${SITE_ORIGIN}`,
      RUM_RATE_LIMIT: "off",
      DASH_TOKEN: "bench-dash",
    };
    const worker = (extraVars, consumer = true) => ({
      modules: true,
      scriptPath: bundlePath,
      modulesRoot: dirname(bundlePath),
      compatibilityDate: "2026-11-01",
      compatibilityFlags: ["nodejs_compat"],
      bindings: { ...vars, ...extraVars },
      d1Databases: { DB: "bench-d1" },
      kvNamespaces: ["EDGE_KV"],
      r2Buckets: ["RUM_ARCHIVE"],
      queueProducers: { RUM_QUEUE: { queueName: "rum-events" } },
      ...(consumer ? { queueConsumers: { "rum-events": { maxBatchSize: 100, maxBatchTimeout: 1 } } } : {}),
    });
    const hello = (script) => ({ modules: true, script, compatibilityDate: "2026-11-01" });
    log("starting 5 workerd instances (Miniflare) …");
    const rows = [
      {
        name: "hello-world, 204 without reading the body (ceiling)",
        ...(await start(
          hello("export default { fetch() { return new Response(null, { status: 204 }); } };"),
        )),
      },
      {
        name: "hello-world reading the body (context)",
        ...(await start(
          hello(
            "export default { async fetch(r) { await r.text(); return new Response(null, { status: 204 }); } };",
          ),
        )),
      },
      { name: "intake batched (100 / 50 ms, default)", ...(await start(worker({}))), db: true },
      {
        name: "intake unbatched (RUM_INTAKE_BATCH_SIZE=1)",
        ...(await start(worker({ RUM_INTAKE_BATCH_SIZE: "1" }))),
        db: true,
      },
      {
        name: "intake batched, no queue consumer in the process (context)",
        ...(await start(worker({}, false))),
      },
    ];
    for (const row of rows) {
      row.runs = [];
      row.accepted = 0;
      if (row.db) {
        row.d1 = await row.mf.getD1Database("DB");
        await applyMigrations(row.d1);
      }
    }
    for (const [i, row] of rows.entries()) {
      const w = await sendBeacons({ baseUrl: row.url, count: warmup, prefix: `warm${i}`, concurrency });
      if (w.ok === 0 || w.bad > 0)
        throw new Error(`${row.name}: warm-up rejected (${w.bad}): ${w.firstError}`);
      row.accepted += w.ok;
      // Let the consumer catch up, so that its leftover writes do not slow the next row down.
      if (row.db) await drain(row.d1, row.accepted);
    }
    for (let r = 0; r < rounds; r++) {
      for (const [i, row] of rows.entries()) {
        const run = await sendBeacons({
          baseUrl: row.url,
          count: beacons,
          prefix: `r${r}w${i}`,
          concurrency,
        });
        row.runs.push(run);
        row.accepted += run.ok;
        if (run.bad > 0) log(`  ${row.name}: ${run.bad} rejected (${run.firstError})`);
        if (row.db) row.stored = await drain(row.d1, row.accepted);
      }
      log(`round ${r + 1}/${rounds}: ${rows.map((row) => fmt(row.runs[r].rps)).join(" / ")} req/s`);
    }
    for (const row of rows) {
      if (!row.db) continue;
      log(`draining ${row.name} …`);
      row.stored = await drain(row.d1, row.accepted);
    }
    const ceiling = rows[0];
    return {
      rows: rows.map((row) => ({
        name: row.name,
        rps: median(row.runs.map((x) => x.rps)),
        p50: median(row.runs.map((x) => x.p50)),
        p99: median(row.runs.map((x) => x.p99)),
        ratio: median(row.runs.map((x, r) => x.rps / ceiling.runs[r].rps)),
        rejected: row.runs.reduce((n, x) => n + x.bad, 0),
        accepted: row.db ? row.accepted : null,
        stored: row.db ? row.stored : null,
      })),
    };
  } finally {
    for (const mf of instances) await mf.dispose().catch(() => {});
  }
}

/** wrk Lua script POSTing the beacon with a unique page-view id per request (`<prefix>_<n>`). */
function wrkScript(prefix) {
  return `local n = 0
local tmpl = ${JSON.stringify(beaconTemplate())}
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/plain;charset=UTF-8"
wrk.headers["Origin"] = "${SITE_ORIGIN}"
wrk.headers["User-Agent"] = "${BENCH_USER_AGENT}"
request = function()
  n = n + 1
  local body = string.gsub(tmpl, "PVID", "${prefix}_" .. n)
  return wrk.format(nil, "/_rum/v1/beacon", nil, body)
end
`;
}

/**
 * The same comparison on bare workerd (the bench:edge harness: bench/lib/workerd-config.mjs and
 * bindings-server.mjs, whose Queue service counts and drops messages; no consumer) with
 * `wrk -t1 -c16`: a hello-world that reads the body and answers 204, in the same workerd process
 * as the batched intake, and a second workerd with RUM_INTAKE_BATCH_SIZE=1. Options: `bundleDir`
 * (required), `rounds` 3, `seconds` 5, `warmup` 2, `connections` 16. Returns { rows }.
 */
export async function measureIngestBareWorkerd({
  bundleDir,
  rounds = 3,
  seconds = 5,
  warmup = 2,
  connections = 16,
  log = console.log,
}) {
  const tmp = makeTempDir("bench-rum-bare-");
  const logDir = join(tmp, "logs");
  mkdirSync(logDir);
  const bin = join(root, "node_modules", ".bin");
  const started = [];
  try {
    const { unstable_readConfig } = await import("wrangler");
    const wrangler = unstable_readConfig({ config: join(root, "wrangler.toml") });
    const services = await startOnFreePorts(
      "bindings",
      ["cache", "kv", "d1", "queue", "r2", "control"],
      (p) => ({
        entry: startChild(
          "bindings",
          process.execPath,
          [
            "--disable-warning=ExperimentalWarning",
            join(root, "bench/lib/bindings-server.mjs"),
            JSON.stringify(p),
            join(root, "migrations"),
          ],
          { logDir },
        ),
        readyUrl: `http://127.0.0.1:${p.control}/`,
      }),
    );
    started.push(services.entry);
    const queueStats = async () =>
      (await (await fetch(`http://127.0.0.1:${services.ports.control}/__stats`)).json()).queue;

    const helloPath = join(tmp, "hello-body.js");
    writeFileSync(
      helloPath,
      "// Ceiling for a POST beacon: read the body, answer 204.\n" +
        "export default { async fetch(r) { await r.arrayBuffer(); return new Response(null, { status: 204 }); } };\n",
    );
    const passthroughPath = writePassthroughWorker(tmp);
    const vars = {
      ORIGIN_URL: "http://127.0.0.1:9",
      RUM_SITES: `demo=${SITE_ORIGIN}`,
      RUM_RATE_LIMIT: "off",
      RUM_QUERY_TOKEN: "bench-query-token",
    };
    const startWorkerd = async (name, extraVars) => {
      const w = await startOnFreePorts("workerd", ["edge", "hello", "passthrough"], (p) => {
        const cfg = workerdConfig({
          configDir: tmp,
          bundleDir,
          helloPath,
          passthroughPath,
          wrangler,
          vars: { ...vars, ...extraVars },
          ports: { ...services.ports, ...p },
        });
        const configPath = join(tmp, `${name}.capnp`);
        writeFileSync(configPath, cfg.text);
        return {
          entry: startChild(name, join(bin, "workerd"), ["serve", configPath, "--experimental"], { logDir }),
          readyUrl: `http://127.0.0.1:${p.hello}/`,
        };
      });
      started.push(w.entry);
      return { ...w.ports, pid: w.entry.child.pid };
    };
    log("bare workerd: starting 2 workerd processes + binding services …");
    const a = await startWorkerd("workerd-batched", {});
    const b = await startWorkerd("workerd-unbatched", { RUM_INTAKE_BATCH_SIZE: "1" });
    const rows = [
      {
        name: "hello-world reading the body, 204 (ceiling, same workerd)",
        port: a.hello,
        pid: a.pid,
        intake: false,
      },
      { name: "intake batched (100 / 50 ms, default)", port: a.edge, pid: a.pid, intake: true },
      { name: "intake unbatched (RUM_INTAKE_BATCH_SIZE=1)", port: b.edge, pid: b.pid, intake: true },
    ];
    let runNo = 0;
    const hz = clockTicksPerSecond();
    const cpuMs = (pid) => processCpuSeconds(pid, hz) * 1000;
    const wrk = async (row, secs) => {
      const script = join(tmp, `run${++runNo}.lua`);
      writeFileSync(script, wrkScript(`bare${runNo}x${Date.now().toString(36)}`));
      const before = await queueStats();
      const cpu0 = cpuMs(row.pid);
      const args = [
        "-t1",
        `-c${connections}`,
        `-d${secs}s`,
        "--latency",
        "-s",
        script,
        `http://127.0.0.1:${row.port}/`,
      ];
      const { code, stdout, stderr } = await runChild("wrk", "wrk", args);
      if (code !== 0) throw new Error(`wrk failed (${code}): ${stderr}${stdout}`);
      const r = parseWrk(stdout);
      await sleep(500); // the last open batch leaves after RUM_INTAKE_BATCH_MS
      const after = await queueStats();
      // workerd CPU per answered request (includes the deferred batch sends): robust to the
      // CPU other processes take, unlike req/s.
      const cpuUsPerReq = ((cpuMs(row.pid) - cpu0) * 1000) / Math.max(1, r.requests);
      return {
        ...r,
        cpuUsPerReq,
        // Page views, not queue messages: a batched intake packs a batch into one NDJSON message.
        records: after.records - before.records,
        calls: after.calls - before.calls,
      };
    };
    for (const row of rows) {
      row.runs = [];
      await wrk(row, warmup);
    }
    for (let r = 0; r < rounds; r++) {
      for (const row of rows) row.runs.push(await wrk(row, seconds));
      log(
        `bare round ${r + 1}/${rounds}: ${rows.map((row) => `${fmt(row.runs[r].rps)} req/s ${fmt(row.runs[r].cpuUsPerReq)} µs`).join(" | ")}`,
      );
    }
    const ceiling = rows[0];
    return {
      rows: rows.map((row) => ({
        name: row.name,
        rps: median(row.runs.map((x) => x.rps)),
        p50: median(row.runs.map((x) => x.p50)),
        p99: median(row.runs.map((x) => x.p99)),
        ratio: median(row.runs.map((x, i) => x.rps / ceiling.runs[i].rps)),
        cpuUs: median(row.runs.map((x) => x.cpuUsPerReq)),
        cpuRatio: median(row.runs.map((x, i) => ceiling.runs[i].cpuUsPerReq / x.cpuUsPerReq)),
        errors: row.runs.reduce((n, x) => n + x.non2xx + x.socketErrors, 0),
        answered204: row.runs.reduce((n, x) => n + x.requests - x.non2xx, 0),
        queued: row.intake ? row.runs.reduce((n, x) => n + x.records, 0) : null,
        queueCalls: row.intake ? row.runs.reduce((n, x) => n + x.calls, 0) : null,
      })),
    };
  } finally {
    for (const entry of started.reverse()) await stopChild(entry).catch(() => {});
  }
}

/** The bare-workerd result as a markdown table. */
export function bareReport({ rows }) {
  return markdownTable(
    [
      "system",
      "req/s",
      "p50 ms",
      "p99 ms",
      "× ceiling",
      "workerd CPU µs/req",
      "ceiling CPU ÷ this",
      "204s read by wrk",
      "page views queued",
      "queue calls",
    ],
    rows.map((r) => [
      r.name,
      fmt(r.rps),
      fmt(r.p50, 2),
      fmt(r.p99, 1),
      r.ratio.toFixed(2),
      fmt(r.cpuUs),
      r.cpuRatio.toFixed(2),
      `${fmt(r.answered204)}${r.errors ? ` (+${fmt(r.errors)} errors)` : ""}`,
      r.queued === null ? "" : fmt(r.queued),
      r.queueCalls === null ? "" : fmt(r.queueCalls),
    ]),
  );
}

/** The result as a markdown table plus the stored-vs-accepted verdict lines. */
export function ingestReport({ rows }) {
  const table = markdownTable(
    ["system", "req/s", "p50 ms", "p99 ms", "× ceiling", "accepted", "stored in D1"],
    rows.map((r) => [
      r.name,
      fmt(r.rps),
      fmt(r.p50, 2),
      fmt(r.p99, 1),
      r.ratio.toFixed(2),
      r.accepted === null ? "" : fmt(r.accepted),
      r.stored === null ? "" : `${fmt(r.stored)}${r.stored === r.accepted ? " (=)" : " (MISMATCH)"}`,
    ]),
  );
  const batched = rows[2];
  const verdict = batched
    ? `goal intake ≥ 0.70× ceiling: ${batched.ratio >= 0.7 ? "met" : "not met"} (batched ${batched.ratio.toFixed(2)}×)`
    : "";
  return `${table}\n\n${verdict}`;
}

async function main() {
  const args = process.argv.slice(2);
  const opt = numberOption(args);
  installCleanupHandlers();
  const tmp = makeTempDir("bench-rum-ingest-");
  const log = (s) => console.log(`[bench:rum-ingest] ${s}`);
  log(
    `load average before the run: ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`,
  );
  log("building the Worker (wrangler deploy --dry-run) …");
  const out = join(tmp, "dist");
  const { code, stdout, stderr } = await runChild(
    "wrangler-build",
    join(root, "node_modules/.bin/wrangler"),
    ["deploy", "--dry-run", "--outdir", out],
    {
      env: {
        ...process.env,
        CLOUDFLARE_CF_FETCH_ENABLED: "false",
        WRANGLER_SEND_METRICS: "false",
        WRANGLER_SEND_ERROR_REPORTS: "false",
      },
      cwd: root,
    },
  );
  if (code !== 0) throw new Error(`wrangler build failed:\n${stderr}${stdout}`);
  const rounds = opt("rounds", 3);
  if (!args.includes("--no-bare")) {
    const secs = opt("seconds", 5);
    const bare = await measureIngestBareWorkerd({ bundleDir: out, rounds, seconds: secs, log });
    console.log(
      `\n## Collector intake on bare workerd (wrk -t1 -c16 -d${secs}s, median of ${rounds} interleaved rounds)\n`,
    );
    console.log(bareReport(bare));
    console.log(
      "\nwrk counts only the responses it read before it stopped: requests still in flight at the end of a run (up to -c) are queued but not counted.",
    );
  }
  if (args.includes("--no-miniflare")) return;
  const result = await measureIngest({
    bundlePath: join(out, "index.js"),
    rounds,
    beacons: opt("beacons", 3000),
    warmup: opt("warmup", 1000),
    log,
  });
  console.log(
    `\n## Collector intake on workerd (Miniflare; Node keep-alive client, c=16, median of ${rounds} interleaved rounds)\n`,
  );
  console.log(ingestReport(result));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  try {
    await main();
  } catch (err) {
    console.error(`[bench:rum-ingest] failed: ${err?.stack ?? err}`);
    process.exitCode = 1;
  } finally {
    await cleanup();
  }
}
