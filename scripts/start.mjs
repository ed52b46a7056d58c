/**
 * `npm start`: the whole product on localhost — demo origin (DEMO_PORT, 8000), image service
 * (IMAGE_PORT, 8788, when image-service/src/main.ts exists) and the Worker under `wrangler dev`
 * (EDGE_PORT, 8787) — then a minute of demo traffic, until Ctrl-C / SIGTERM stops every child.
 * `ORIGIN_URL=<url> npm start` points the edge at another origin and skips the demo origin.
 * `--no-traffic` (or DEMO_TRAFFIC=0) skips the traffic; `--no-browser` keeps it HTTP-only;
 * `--verbose` also shows wrangler's line per request. The Worker's tokens come from `.dev.vars`,
 * written with random values on the first run (or from EDGE_ADMIN_TOKEN, RUM_QUERY_TOKEN and
 * DASH_TOKEN in the environment) and printed below.
 */
import { DEFAULT_PORTS, startStack } from "./stack.mjs";

function portFromEnv(key, fallback) {
  const raw = process.env[key];
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) > 65535) {
    throw new Error(`Invalid config ${key}: expected a port number (got "${raw}")`);
  }
  return Number(raw);
}

function table(rows) {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join("\n");
}

const startup = new AbortController();

async function main() {
  const args = new Set(process.argv.slice(2));
  const known = new Set(["--no-traffic", "--no-browser", "--verbose"]);
  for (const a of args) {
    if (!known.has(a))
      throw new Error(`Unknown option ${a} (expected --no-traffic, --no-browser, --verbose)`);
  }
  // wrangler logs every request; with demo traffic that buries everything else unless asked for.
  const accessLine = /^edge\s*\| \[wrangler:info\] (GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) /;
  const log = (line) => {
    if (args.has("--verbose") || !accessLine.test(line)) console.log(line);
  };
  const traffic = !args.has("--no-traffic") && process.env.DEMO_TRAFFIC !== "0";
  const originUrl = process.env.ORIGIN_URL || undefined;

  // Signals during start-up abort it (startStack then stops what it already started).
  let shutdown = (why) => {
    console.log(`\n${why}: aborting start-up…`);
    startup.abort();
  };
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(sig, () => shutdown(sig, 0));

  console.log("Starting the local stack (Ctrl-C stops everything)…");
  const stack = await startStack({
    signal: startup.signal,
    log,
    edgePort: portFromEnv("EDGE_PORT", DEFAULT_PORTS.edge),
    imagePort: portFromEnv("IMAGE_PORT", DEFAULT_PORTS.image),
    demoPort: portFromEnv("DEMO_PORT", DEFAULT_PORTS.demo),
    originUrl,
    traffic: traffic && { durationMs: 60_000, rps: 4, browser: !args.has("--no-browser") },
  });

  let stopping = false;
  shutdown = async (why, code) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${why}: stopping every service…`);
    await stack.stop();
    console.log("stopped.");
    process.exit(code);
  };
  stack.exited.then(({ name, code, signal }) =>
    shutdown(`${name} exited unexpectedly (${signal ?? `code ${code}`})`, 1),
  );

  const { urls, tokens } = stack;
  const edge = urls.edge ?? "";
  const rows = [
    ["Shop through the edge", `${edge}/`],
    ["Origin (direct)", `${urls.origin}/${originUrl ? "  (ORIGIN_URL)" : ""}`],
  ];
  if (urls.image) rows.push(["Image service", `${urls.image}/`]);
  else rows.push(["Image service", "not started (image-service/src/main.ts not found)"]);
  rows.push(
    ["Dashboards", `${urls.dashboards}  (token: ${tokens.dash ?? "DASH_TOKEN"})`],
    ["Query API", `${urls.queryApi}  (Authorization: Bearer ${tokens.query ?? "<RUM_QUERY_TOKEN>"})`],
    ["Live page views", `${urls.pageviews}?limit=20  (same bearer token)`],
    ["Image example", `${urls.imageExample}`],
    [
      "Purge example",
      `curl -X POST -H 'Authorization: Bearer ${tokens.admin ?? "<EDGE_ADMIN_TOKEN>"}' -H 'Content-Type: application/json' -d '{"tags":["product-1"]}' ${urls.purge}`,
    ],
  );
  if (urls.originStats) rows.push(["Origin request counts", urls.originStats]);
  rows.push(["Tokens", ".dev.vars (random on first run, git-ignored; edit or delete it to change them)"]);
  console.log(`\nReady. Everything runs locally:\n\n${table(rows)}\n`);

  if (traffic) {
    console.log(
      "Demo traffic: a minute of simulated shoppers through the edge (lines prefixed 'traffic').\n",
    );
    stack.traffic?.then((code) => {
      if (!stopping)
        console.log(`Demo traffic finished${code ? ` (exit code ${code})` : ""}; the stack keeps running.`);
    });
  }
}

main().catch((err) => {
  if (startup.signal.aborted) {
    console.log("stopped.");
    process.exit(0);
  }
  console.error(`\nnpm start failed: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});
