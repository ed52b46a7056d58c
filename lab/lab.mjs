/**
 * `npm run lab`: the latency lab. Checks the collector's attribution of each page view's TTFB
 * (last mile connect + wire, middle mile, backend) against delays injected by userspace delay
 * links between three network namespaces (client: headless Chromium; edge: the real Worker on
 * workerd with the collector; origin: the demo origin). Needs root that may create namespaces,
 * /dev/net/tun, Chromium, `chrt` and a C compiler (lib/probe.mjs tries each). See lab/README.md.
 *
 * Options: --quick (two scenarios, for CI), --views N (measured views per scenario, default 5,
 * after one throw-away), --only TEXT (scenarios whose name contains TEXT), --timeout S (whole run,
 * default 900; quick 180), --out DIR (default lab/out: latest.json, latest.md, link-events.json),
 * --var KEY=VALUE (a Worker var for this run, repeatable; e.g. to switch a feature off).
 * A scenario off by more than the tolerance is re-measured once; both results are printed.
 * Exit: 0 all parts within tolerance (or explained), 1 a part off or the run failed, 2 bad
 * option, 3 cannot run here (printed reason), 130 interrupted.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launchInNamespace } from "./lib/browser.mjs";
import {
  killAllSync,
  refuseNewProcesses,
  runningTails,
  sleep,
  startProcess,
  stopAll,
} from "./lib/children.mjs";
import { buildDelayLink, startDelayLink } from "./lib/link.mjs";
import {
  ADDR,
  configureLinks,
  createNamespaces,
  DEV,
  deleteNamespaces,
  inNamespace,
  labUnavailableReason,
  realtimeAllowed,
  removeStaleNamespaces,
} from "./lib/netns.mjs";
import { measureWithRetry, offParts, REMEASURED_HEAD } from "./lib/remeasure.mjs";
import { closingLine, formatTable, markdownTable, tableRows } from "./lib/report.mjs";
import { runScenario } from "./lib/scenario-runner.mjs";
import { buildWorker, EDGE_URL, ROOT, startEdge, startOrigin } from "./lib/servers.mjs";
import { explain, fullGrid, quickGrid } from "./lib/truth.mjs";

const started = Date.now();
const log = (msg) => console.log(`[lab ${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${msg}`);

function parseArgs(argv) {
  const opts = { quick: false, views: 5, only: "", timeout: 0, out: join(ROOT, "lab", "out"), vars: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`Invalid option ${a}: expected a value`);
      return v;
    };
    if (a === "--quick") opts.quick = true;
    else if (a === "--views") opts.views = Number(value());
    else if (a === "--only") opts.only = value();
    else if (a === "--timeout") opts.timeout = Number(value());
    else if (a === "--out") opts.out = value();
    else if (a === "--var") {
      const kv = value();
      const i = kv.indexOf("=");
      if (i < 1) throw new Error(`Invalid option --var: expected KEY=VALUE (got "${kv}")`);
      opts.vars[kv.slice(0, i)] = kv.slice(i + 1);
    } else
      throw new Error(
        `Invalid option ${a}: expected --quick, --views N, --only TEXT, --timeout S, --out DIR or --var KEY=VALUE`,
      );
  }
  if (!Number.isInteger(opts.views) || opts.views < 1 || opts.views > 50) {
    throw new Error(`Invalid option --views: expected an integer between 1 and 50 (got ${opts.views})`);
  }
  if (!Number.isFinite(opts.timeout) || opts.timeout < 0) {
    throw new Error(`Invalid option --timeout: expected seconds ≥ 0 (got ${opts.timeout})`);
  }
  if (opts.timeout === 0) opts.timeout = opts.quick ? 180 : 900;
  return opts;
}

/** Page-view messages from the collector by the edge's request id, with a wait for one. */
function pageViewBox() {
  const byRid = new Map();
  return {
    add(msg) {
      if (typeof msg.beacon?.rid === "string") byRid.set(msg.beacon.rid, msg);
    },
    async waitFor(rid, timeoutMs = 20_000) {
      if (!rid) throw new Error("the page carried no Server-Timing rid: cannot find its beacon");
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const msg = byRid.get(rid);
        if (msg) return msg;
        if (Date.now() > deadline)
          throw new Error(`no page view with rid ${rid} from the collector in ${timeoutMs} ms`);
        await sleep(25);
      }
    },
  };
}

let ns = null;
let tmp = null;
let browser = null;
let cleaning = null;

async function cleanup() {
  refuseNewProcesses();
  cleaning ??= (async () => {
    await browser?.close().catch(() => {});
    await stopAll();
    if (ns) deleteNamespaces(ns);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  })();
  return cleaning;
}

function installHandlers() {
  const onSignal = (sig) => {
    console.error(`\n${sig}: cleaning up namespaces, links and processes…`);
    cleanup().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  process.on("exit", () => {
    killAllSync();
    if (ns) deleteNamespaces(ns);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });
}

async function waitForEdge(edgeNs, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  const probe = `fetch(${JSON.stringify(`${EDGE_URL}/_rum/beacon.js`)}).then(r=>{console.log("status "+r.status)},e=>{console.log("error "+e.message)})`;
  for (;;) {
    const [cmd, args] = inNamespace(edgeNs, process.execPath, ["-e", probe]);
    const p = startProcess("edge probe", cmd, args);
    const line = await p.waitFor(/^(status|error) /, 5000).catch((e) => `error ${e.message}`);
    if (line === "status 200") return;
    if (Date.now() > deadline) throw new Error(`the edge did not answer on ${EDGE_URL}: ${line}`);
    await sleep(200);
  }
}

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(err.message);
    return 2;
  }
  const reason = labUnavailableReason();
  if (reason) {
    console.log(`lab: SKIPPED — ${reason}`);
    return 3;
  }
  installHandlers();
  const timer = setTimeout(() => {
    console.error(`lab: FAIL — the run took longer than its ${opts.timeout} s limit; cleaning up`);
    cleanup().finally(() => process.exit(1));
  }, opts.timeout * 1000);
  timer.unref();

  let scenarios = opts.quick ? quickGrid() : fullGrid();
  if (opts.only) scenarios = scenarios.filter((s) => s.name.includes(opts.only));
  if (scenarios.length === 0) {
    console.error(`Invalid option --only: no scenario name contains "${opts.only}"`);
    return 2;
  }
  const rt = realtimeAllowed();
  log(
    `${scenarios.length} scenarios × (1 throw-away + ${opts.views} views); real-time priority ${rt ? "on" : "NOT available"}`,
  );
  for (const name of removeStaleNamespaces()) log(`removed namespace ${name} left by an earlier run`);

  tmp = mkdtempSync(join(tmpdir(), "edgerum-lab-"));
  const bin = buildDelayLink();
  log("building the Worker (wrangler deploy --dry-run)…");
  const bundleDir = join(tmp, "bundle");
  await buildWorker(bundleDir);
  if (cleaning) return 130;
  ns = createNamespaces();
  log(`namespaces ${Object.values(ns).join(", ")}`);
  const lastLink = await startDelayLink("last-mile link", bin, {
    nsA: ns.client,
    devA: DEV.client,
    nsB: ns.edge,
    devB: DEV.edgeLast,
    rt,
  });
  const middleLink = await startDelayLink("middle-mile link", bin, {
    nsA: ns.edge,
    devA: DEV.edgeMiddle,
    nsB: ns.origin,
    devB: DEV.origin,
    rt,
  });
  configureLinks(ns);
  log(
    `links up: client ${ADDR.client} ⇄ edge ${ADDR.edge}, edge ${ADDR.edgeToOrigin} ⇄ origin ${ADDR.origin}`,
  );

  const pageViews = pageViewBox();
  const origin = await startOrigin(ns.origin, { rt });
  const edge = await startEdge(ns.edge, {
    rt,
    bundleDir,
    tmp,
    vars: opts.vars,
    onPageView: (m) => pageViews.add(m),
  });
  await origin.restart(scenarios[0].backend);
  await waitForEdge(ns.edge);
  log(`demo origin on http://${ADDR.origin}, Worker on workerd at ${EDGE_URL}`);
  browser = await launchInNamespace(tmp, ns.client, { rt });
  log(`Chromium ${browser.version()} in ${ns.client}`);

  const results = [];
  for (const [i, s] of scenarios.entries()) {
    const t0 = Date.now();
    const lab = { browser, lastLink, middleLink, origin, pageViews, views: opts.views, index: i };
    const step = `[${i + 1}/${scenarios.length}] ${s.name}`;
    const r = await measureWithRetry(() => runScenario(s, lab), {
      judge: (row) => (row.ok ? "ok" : explain(s, row) ? "explained" : "OFF"),
      stopping: () => cleaning !== null,
      onRetry: (first) => log(`${step}: ${offParts(first).join(", ")} OFF; re-measuring the scenario once`),
    });
    results.push(r);
    const off = offParts(r).length;
    log(
      `${step}: ${r.views.length} views, ${off ? `${off} part(s) OFF` : "all parts in tolerance"}${r.firstAttempt ? " (re-measured)" : ""} (${((Date.now() - t0) / 1000).toFixed(1)} s)${r.notes.length ? `; ${r.notes.join("; ")}` : ""}`,
    );
  }
  const stats = { last: await lastLink.stats(), middle: await middleLink.stats() };
  if (edge.workerd.exited) throw new Error(`workerd exited during the run (${edge.workerd.exitInfo})`);

  const rows = tableRows(results);
  const remeasured = results.filter((r) => r.firstAttempt);
  const firstRows = tableRows(remeasured.map((r) => r.firstAttempt));
  const count = (v) => results.flatMap((r) => r.rows).filter((x) => x.verdict === v).length;
  const seconds = (Date.now() - started) / 1000;
  const summary = {
    scenarios: results.length,
    ok: count("ok"),
    explained: count("explained"),
    off: count("OFF"),
    remeasured: remeasured.length,
    seconds,
  };
  console.log(`\n${formatTable(rows)}\n`);
  if (remeasured.length > 0) {
    console.log(`${REMEASURED_HEAD}\n\n${formatTable(firstRows)}\n`);
  }
  for (const r of results) {
    for (const n of r.firstAttempt?.notes ?? [])
      console.log(`note: ${r.scenario.name} (first attempt): ${n}`);
    for (const n of r.notes) console.log(`note: ${r.scenario.name}: ${n}`);
  }
  console.log(`links: ${JSON.stringify(stats)}`);
  console.log(closingLine(summary));

  mkdirSync(opts.out, { recursive: true });
  // Every SYN, request and response line the links saw, for looking into a surprising row.
  const events = { last: lastLink.events(), middle: middleLink.events() };
  writeFileSync(join(opts.out, "link-events.json"), `${JSON.stringify(events)}\n`);
  const stamp = new Date().toISOString();
  writeFileSync(
    join(opts.out, "latest.json"),
    `${JSON.stringify({ stamp, opts, summary, results, stats }, null, 2)}\n`,
  );
  writeFileSync(
    join(opts.out, "latest.md"),
    `Lab run ${stamp} (${opts.quick ? "--quick" : "full grid"}, ${opts.views} views per scenario, took ${seconds.toFixed(0)} s):\n\n${markdownTable(rows)}\n\n${remeasured.length > 0 ? `${REMEASURED_HEAD}\n\n${markdownTable(firstRows)}\n\n` : ""}${closingLine(summary)}\n`,
  );
  return summary.off === 0 ? 0 : 1;
}

let code;
try {
  code = await main();
} catch (err) {
  if (cleaning) {
    // Stopped by a signal or the time limit: what failed was only the step that was cut short.
    await cleanup();
    process.exit(130);
  }
  console.error(`lab: FAIL — ${err?.stack ?? err}`);
  console.error(`last output of the lab's processes:\n${runningTails()}`);
  code = 1;
}
await cleanup();
process.exit(code);
