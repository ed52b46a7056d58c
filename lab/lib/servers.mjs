/**
 * The lab's servers, each started inside its namespace at real-time priority:
 * - origin namespace: the demo origin (lab/servers/origin.mjs) on 198.51.100.2:80;
 * - edge namespace: the real Worker bundle (`wrangler deploy --dry-run`) on bare workerd on
 *   192.0.2.2:80, with the benchmark harness's binding services (bench/lib/bindings-server.mjs)
 *   and the queue capture (lab/servers/queue-capture.mjs) on the namespace's own loopback.
 */
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { workerdConfig, writeHelloWorker, writePassthroughWorker } from "../../bench/lib/workerd-config.mjs";
import { startProcess } from "./children.mjs";
import { ADDR, inNamespace } from "./netns.mjs";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const BIN = join(ROOT, "node_modules", ".bin");
const NODE = process.execPath;
/** Loopback ports inside the edge namespace (its own network stack: nothing else binds there). */
const EDGE_PORTS = Object.freeze({
  cache: 7001,
  kv: 7002,
  d1: 7003,
  queue: 7004,
  r2: 7005,
  control: 7006,
  capture: 7007,
  hello: 7008,
  passthrough: 7009,
});
export const EDGE_URL = `http://${ADDR.edge}`;
export const ORIGIN_URL = `http://${ADDR.origin}`;

const WRANGLER_ENV = {
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
};

/** Builds the Worker exactly as deployed into `outDir` (wrangler deploy --dry-run). */
export async function buildWorker(outDir) {
  const entry = startProcess(
    "wrangler build",
    join(BIN, "wrangler"),
    ["deploy", "--dry-run", "--outdir", outDir],
    {
      cwd: ROOT,
      env: { ...process.env, ...WRANGLER_ENV, PATH: `${BIN}:${process.env.PATH}` },
    },
  );
  await new Promise((r) => entry.child.once("exit", r));
  if (entry.child.exitCode !== 0) throw new Error(`wrangler deploy --dry-run failed:\n${entry.tail()}`);
}

function spawnIn(name, ns, cmd, args, { rt, env, onLine }) {
  const [c, a] = inNamespace(ns, cmd, args, { rt });
  return startProcess(name, c, a, { cwd: ROOT, env: { ...process.env, ...env }, onLine });
}

/** Starts the demo origin in `ns`; returns { restart(backendMs), entry }. */
export async function startOrigin(ns, { rt }) {
  const entry = spawnIn("origin", ns, NODE, [join(ROOT, "lab/servers/origin.mjs")], {
    rt,
    env: { LAB_ORIGIN_HOST: ADDR.origin, LAB_ORIGIN_PORT: "80" },
  });
  let current = null;
  return {
    entry,
    /** (Re)starts the origin with `backendMs`: every open connection to it is closed. */
    async restart(backendMs) {
      const ready = entry.waitFor(new RegExp(`^(ready ${backendMs}|error .*)$`), 30_000);
      entry.write(`restart ${backendMs}\n`);
      const line = await ready;
      if (line.startsWith("error")) throw new Error(`origin: ${line}`);
      current = backendMs;
    },
    get backendMs() {
      return current;
    },
  };
}

/**
 * Starts binding services, queue capture and workerd with the bundle in `bundleDir` in `ns`.
 * `vars` override the lab's Worker vars; `onPageView(msg)` gets every page-view message the
 * collector queues. Returns
 * { workerd, bindings, capture, described }.
 */
export async function startEdge(ns, { rt, bundleDir, tmp, vars: extraVars = {}, onPageView }) {
  const { unstable_readConfig } = await import("wrangler");
  const wrangler = unstable_readConfig({ config: join(ROOT, "wrangler.toml") });
  const migrations = wrangler.d1_databases?.[0]?.migrations_dir;
  const bindingPorts = { ...EDGE_PORTS };
  const bindings = spawnIn(
    "bindings",
    ns,
    NODE,
    [
      "--disable-warning=ExperimentalWarning",
      join(ROOT, "bench/lib/bindings-server.mjs"),
      JSON.stringify(bindingPorts),
      ...(migrations ? [resolve(ROOT, migrations)] : []),
    ],
    { rt },
  );
  await bindings.waitFor(/^binding services listening/, 15_000);
  const capture = spawnIn(
    "queue capture",
    ns,
    NODE,
    [join(ROOT, "lab/servers/queue-capture.mjs"), String(EDGE_PORTS.capture)],
    {
      rt,
      onLine: (line) => {
        if (line.startsWith("pageview ")) onPageView(JSON.parse(line.slice(9)), Date.now());
      },
    },
  );
  await capture.waitFor(/^ready /, 15_000);

  // Secrets the Worker requires (wrangler.toml [secrets]) get random values: the lab uses none of them.
  const secrets = Object.fromEntries(
    (wrangler.secrets?.required ?? ["EDGE_ADMIN_TOKEN", "RUM_QUERY_TOKEN", "DASH_TOKEN"]).map((k) => [
      k,
      randomBytes(24).toString("hex"),
    ]),
  );
  const vars = {
    ...secrets,
    ORIGIN_URL,
    ENVIRONMENT: "development",
    RUM_SITES: `demo=${EDGE_URL}`,
    RUM_RATE_LIMIT: "off",
    RUM_INTAKE_BATCH_MS: "20",
    ...extraVars,
  };
  const cfg = workerdConfig({
    configDir: tmp,
    bundleDir,
    helloPath: writeHelloWorker(tmp),
    passthroughPath: writePassthroughWorker(tmp),
    wrangler,
    vars,
    // The collector's queue goes to the capture; every other binding to the harness services.
    ports: { ...EDGE_PORTS, queue: EDGE_PORTS.capture, edge: 80 },
  });
  // The edge listens on its last-mile address; the origin sits in a documentation range.
  const edgeSocket = 'address = "127.0.0.1:80"';
  const internet = 'allow = ["public", "private"]';
  if (!cfg.text.includes(edgeSocket) || !cfg.text.includes(internet)) {
    throw new Error("bench/lib/workerd-config.mjs changed shape: the lab cannot place the edge socket");
  }
  const text = cfg.text
    .replace(edgeSocket, `address = "${ADDR.edge}:80"`)
    .replace(internet, 'allow = ["public", "private", "198.51.100.0/24"]');
  const configPath = join(tmp, "config.capnp");
  writeFileSync(configPath, text);
  const workerd = spawnIn(
    "workerd",
    ns,
    join(BIN, "workerd"),
    ["serve", configPath, "--experimental", "--verbose"],
    {
      rt,
    },
  );
  return { workerd, bindings, capture, described: cfg.described };
}
