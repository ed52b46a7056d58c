/**
 * The local stack as a library: demo origin, image service and `wrangler dev` for the Worker,
 * each a detached child process (own process group) that `stop()` ends as a group, so workerd
 * children never outlive the stack. Used by `npm start` (scripts/start.mjs) and by end-to-end
 * tests, which start whole stacks on free ports (port 0) side by side.
 *
 * Types: scripts/stack.d.mts.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import path from "node:path";
import readline from "node:readline";
import { ensureDevVars, SECRET_KEYS } from "./dev-vars.mjs";

export const ROOT = path.resolve(import.meta.dirname, "..");
export const DEFAULT_PORTS = Object.freeze({ edge: 8787, image: 8788, demo: 8000 });
const HOST = "127.0.0.1";
const ALL_SERVICES = ["demo", "image", "edge"];
const TAIL_LINES = 60;

/** Environment that keeps wrangler offline and quiet (TOOLCHAIN pitfall 14). */
export const WRANGLER_ENV = Object.freeze({
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
});

function wranglerBin() {
  // wrangler's exports map hides bin/ (TOOLCHAIN pitfall 12): resolve its package.json instead.
  const pkg = createRequire(import.meta.url).resolve("wrangler/package.json");
  return path.join(path.dirname(pkg), "bin", "wrangler.js");
}

/** Reads `[vars]` string values from wrangler.toml, overridden by `.dev.vars` (as wrangler dev does). */
export function readWorkerVars(root = ROOT) {
  const vars = {};
  const toml = readFileSync(path.join(root, "wrangler.toml"), "utf8");
  const section = /^\[vars\]\s*$([\s\S]*?)(?=^\[|(?![\s\S]))/m.exec(toml)?.[1] ?? "";
  for (const m of section.matchAll(/^\s*([A-Z0-9_]+)\s*=\s*"((?:[^"\\]|\\.)*)"/gm)) vars[m[1]] = m[2];
  const devVars = path.join(root, ".dev.vars");
  if (existsSync(devVars)) {
    for (const m of readFileSync(devVars, "utf8").matchAll(/^\s*([A-Z0-9_]+)\s*=\s*"?([^"\n]*)"?\s*$/gm)) {
      vars[m[1]] = m[2];
    }
  }
  return vars;
}

function listen(port) {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(port, HOST, () => {
      const actual = server.address().port;
      server.close(() => resolve(actual));
    });
  });
}

/** First port of the kernel's ephemeral range, from which outgoing connections take their ports. */
function ephemeralStart() {
  try {
    const lo = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    return Number.isInteger(lo) && lo > 0 ? lo : 32768;
  } catch {
    return 32768;
  }
}

/**
 * A free port below the ephemeral range (from 20000), not one of `taken` (ports already handed
 * to siblings that have not bound them yet). A port the kernel hands out for port 0 lies inside
 * that range, where any outgoing connection (a test's fetch, a browser, workerd) may take it
 * between this check and the child's own bind: a rare EADDRINUSE at start-up. Falls back to
 * port 0 when the range starts too low or 50 random picks are taken. The stack launcher and the
 * benchmarks (bench/lib/procs.mjs) both pick ports here.
 */
export async function freePort(taken = new Set()) {
  const lo = 20000;
  const hi = ephemeralStart() - 1;
  if (hi - lo >= 1000) {
    for (let i = 0; i < 50; i++) {
      const port = lo + Math.floor(Math.random() * (hi - lo + 1));
      if (taken.has(port)) continue;
      try {
        return await listen(port);
      } catch (err) {
        if (err?.code !== "EADDRINUSE" && err?.code !== "EACCES") throw err;
      }
    }
  }
  for (;;) {
    const port = await listen(0);
    if (!taken.has(port)) return port;
  }
}

/**
 * Resolves a port: 0 picks a free one (not in `taken`); a taken port is a clear error naming the
 * service and env key.
 */
async function claimPort(port, service, envKey, taken) {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(
      `Invalid ${service} port ${envKey}: expected an integer between 0 and 65535 (got "${port}")`,
    );
  }
  if (port === 0) return freePort(taken);
  try {
    return await listen(port);
  } catch (err) {
    if (err?.code === "EADDRINUSE") {
      throw new Error(
        `Port ${port} (${service}) on ${HOST} is already in use. Stop whatever holds it (e.g. another npm start) or choose another port with ${envKey}=<port>.`,
      );
    }
    throw err;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts the local stack. Defaults: edgePort 8787, imagePort 8788, demoPort 8000 (0 = a free
 * port), every service, no traffic, output printed with a service prefix unless `quiet`.
 * @param {import("./stack.d.mts").StackOptions} [opts]
 * @returns {Promise<import("./stack.d.mts").Stack>}
 */
export async function startStack(opts = {}) {
  const quiet = opts.quiet === true;
  const log = opts.log ?? ((line) => console.log(line));
  const say = (line) => {
    if (!quiet) log(line);
  };
  const services = new Set(opts.services ?? ALL_SERVICES);
  for (const s of services) {
    if (!ALL_SERVICES.includes(s))
      throw new Error(`Unknown service "${s}" (expected one of ${ALL_SERVICES.join(", ")})`);
  }
  const originUrl = opts.originUrl?.replace(/\/$/, "");
  if (originUrl !== undefined && !/^https?:\/\/[^/]+/.test(originUrl)) {
    throw new Error(`Invalid ORIGIN_URL: expected an http(s) URL (got "${opts.originUrl}")`);
  }
  const runDemo = services.has("demo") && !originUrl;
  const secrets = runEdgeSecrets(services.has("edge"), opts.vars, say);
  const imageMain = path.join(ROOT, "image-service", "src", "main.ts");
  const runImage = services.has("image") && existsSync(imageMain);
  const runEdge = services.has("edge");

  // Claim every port before spawning anything: a taken port fails fast with nothing to clean up.
  const ports = {};
  // Auto-picked ports are released before the children bind them: keep siblings apart.
  const taken = new Set();
  const claim = async (port, service, envKey) => {
    const p = await claimPort(port, service, envKey, taken);
    taken.add(p);
    return p;
  };
  if (runDemo) ports.demo = await claim(opts.demoPort ?? DEFAULT_PORTS.demo, "demo origin", "DEMO_PORT");
  if (runImage)
    ports.image = await claim(opts.imagePort ?? DEFAULT_PORTS.image, "image service", "IMAGE_PORT");
  if (runEdge) {
    ports.edge = await claim(opts.edgePort ?? DEFAULT_PORTS.edge, "edge (wrangler dev)", "EDGE_PORT");
    // A distinct inspector port lets two wrangler dev instances run at once (TOOLCHAIN pitfall 13).
    ports.inspector = await claim(opts.inspectorPort ?? 0, "wrangler inspector", "inspectorPort");
  }
  const origin = originUrl ?? `http://${HOST}:${ports.demo ?? opts.demoPort ?? DEFAULT_PORTS.demo}`;
  const imageUrl = `http://${HOST}:${ports.image ?? opts.imagePort ?? DEFAULT_PORTS.image}`;
  const edgeUrl = ports.edge !== undefined ? `http://${HOST}:${ports.edge}` : undefined;

  const children = [];
  let stopping = false;
  let resolveExited;
  const exited = new Promise((r) => {
    resolveExited = r;
  });
  const baseEnv = {
    ...process.env,
    ...WRANGLER_ENV,
    FORCE_COLOR: "0",
    // Children that look up `node` on PATH must get Node 22, not the system's.
    PATH: [
      path.join(ROOT, "node_modules", ".bin"),
      path.dirname(process.execPath),
      process.env.PATH ?? "",
    ].join(path.delimiter),
  };

  const killGroup = (child, signal) => {
    try {
      process.kill(-child.proc.pid, signal);
    } catch {
      // Already gone.
    }
  };
  const onProcessExit = () => {
    for (const c of children) if (c.code === undefined) killGroup(c, "SIGKILL");
  };
  process.on("exit", onProcessExit);

  /** Spawns a child in its own process group; `expectedExit` children (jobs) may end by themselves. */
  const run = (name, args, { env = {}, expectedExit = false } = {}) => {
    // A start-up step still in flight when stop() ran must not leave a new child behind.
    if (stopping) throw new Error(`${name}: not started, the stack is stopping`);
    const proc = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...baseEnv, ...env },
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const child = { name, proc, tail: [], code: undefined, signal: undefined };
    child.done = new Promise((resolve) => {
      proc.once("exit", (code, signal) => {
        child.code = code;
        child.signal = signal;
        resolve(code);
        if (!expectedExit && !stopping) {
          say(`${name.padEnd(7)}| exited (${signal ?? `code ${code}`})`);
          resolveExited({ name, code, signal });
        }
      });
      proc.once("error", (err) => {
        child.tail.push(String(err));
        child.code = -1;
        resolve(-1);
      });
    });
    for (const stream of [proc.stdout, proc.stderr]) {
      readline.createInterface({ input: stream }).on("line", (line) => {
        child.tail.push(line);
        if (child.tail.length > TAIL_LINES) child.tail.shift();
        say(`${name.padEnd(7)}| ${line}`);
      });
    }
    children.push(child);
    return child;
  };

  const failure = (child, what) => {
    const tail = child.tail.slice(-25).join("\n");
    return new Error(
      `${child.name}: ${what}${tail ? `\n--- last output of ${child.name} ---\n${tail}` : ""}`,
    );
  };

  /** Polls `url` until it answers (`accept(status)`), the child exits, or the time runs out. */
  const waitHealthy = async (child, url, accept, timeoutMs) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (child.code !== undefined)
        throw failure(child, `exited (code ${child.code}) before it was ready at ${url}`);
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
        await res.arrayBuffer();
        if (accept(res.status)) return;
      } catch {
        // Not listening yet.
      }
      await sleep(150);
    }
    throw failure(child, `not ready at ${url} after ${Math.round(timeoutMs / 1000)} s`);
  };

  const job = async (name, args, timeoutMs) => {
    const child = run(name, args, { expectedExit: true });
    const timer = setTimeout(() => killGroup(child, "SIGKILL"), timeoutMs);
    const code = await child.done;
    clearTimeout(timer);
    if (code !== 0) throw failure(child, `failed (${child.signal ?? `exit code ${code}`})`);
  };

  let stopped;
  const stop = () => {
    stopped ??= stopChildren();
    return stopped;
  };
  const stopChildren = async () => {
    stopping = true;
    const alive = children.filter((c) => c.code === undefined);
    for (const c of alive) killGroup(c, "SIGTERM");
    await Promise.race([Promise.all(alive.map((c) => c.done)), sleep(5000)]);
    // Whatever ignored SIGTERM (or left grandchildren behind) goes now.
    for (const c of alive) killGroup(c, "SIGKILL");
    await Promise.race([Promise.all(alive.map((c) => c.done)), sleep(2000)]);
    process.off("exit", onProcessExit);
    if (scratchState && persistTo) rmSync(persistTo, { recursive: true, force: true });
  };

  // A stack on a non-default edge port (tests) gets its own scratch state, removed again by stop().
  const scratchState =
    opts.persistTo === undefined && ports.edge !== undefined && ports.edge !== DEFAULT_PORTS.edge;
  const persistTo =
    opts.persistTo ?? (scratchState ? path.join(ROOT, ".state", `wrangler-${ports.edge}`) : undefined);

  const readyMs = opts.readyTimeoutMs ?? 90_000;
  const startDemo = async () => {
    if (!runDemo) return;
    say(`stack  | demo origin → ${origin}`);
    const env = { DEMO_PORT: String(ports.demo), DEMO_HOST: HOST };
    if (opts.demoBackendMs !== undefined) env.DEMO_BACKEND_MS = String(opts.demoBackendMs);
    if (opts.demoJitterMs !== undefined) env.DEMO_JITTER_MS = String(opts.demoJitterMs);
    const child = run("demo", [path.join(ROOT, "demo", "src", "main.ts")], { env });
    await waitHealthy(child, `${origin}/__demo/health`, (s) => s === 200, Math.min(readyMs, 30_000));
  };
  const startImage = async () => {
    if (!runImage) {
      if (services.has("image")) say("stack  | image service: image-service/src/main.ts not found, skipped");
      return;
    }
    say(`stack  | image service → ${imageUrl}`);
    const child = run("image", [imageMain], {
      env: { IMAGE_PORT: String(ports.image), IMAGE_ORIGINS: [origin, edgeUrl].filter(Boolean).join(",") },
    });
    // Any HTTP answer means it is listening; its own routes are its business.
    await waitHealthy(child, `${imageUrl}/`, () => true, Math.min(readyMs, 30_000));
  };
  const startEdge = async () => {
    if (!runEdge) return;
    const wrangler = wranglerBin();
    const persistArgs = persistTo ? ["--persist-to", persistTo] : [];
    if (persistTo) {
      // Scratch state starts empty; an explicit persistTo is kept as given.
      if (scratchState) rmSync(persistTo, { recursive: true, force: true });
      mkdirSync(persistTo, { recursive: true });
    }
    const migrationsDir = path.join(ROOT, "migrations");
    const hasMigrations =
      existsSync(migrationsDir) && readdirSync(migrationsDir).some((f) => f.endsWith(".sql"));
    if (hasMigrations) {
      say("stack  | applying D1 migrations (local)");
      await job("d1", [wrangler, "d1", "migrations", "apply", "DB", "--local", ...persistArgs], 120_000);
    } else {
      say("stack  | no D1 migrations yet (migrations/ has no .sql files)");
    }
    const beaconBuild = path.join(ROOT, "rum-collector", "beacon", "build.mjs");
    if (existsSync(beaconBuild)) {
      say("stack  | building the RUM beacon");
      await job("beacon", [beaconBuild], 120_000);
    }
    const vars = { ...varsFor({ origin, imageUrl, edgePort: ports.edge }), ...secrets, ...opts.vars };
    const varArgs = Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
    say(`stack  | wrangler dev → ${edgeUrl} (origin ${origin})`);
    const child = run("edge", [
      wrangler,
      "dev",
      "--ip",
      HOST,
      "--port",
      String(ports.edge),
      "--inspector-port",
      String(ports.inspector),
      "--show-interactive-dev-session=false",
      ...persistArgs,
      ...varArgs,
    ]);
    // /_rum/ goes to the collector, so polling never touches the origin (whose request count tests assert).
    await waitHealthy(child, `${edgeUrl}/_rum/__ready`, () => true, readyMs);
  };

  const onAbort = () => {
    stop();
  };
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    if (opts.signal?.aborted) throw new Error("aborted");
    await Promise.all([startDemo(), startImage(), startEdge()]);
  } catch (err) {
    await stop();
    throw opts.signal?.aborted ? new Error("stack start-up aborted") : err;
  } finally {
    opts.signal?.removeEventListener("abort", onAbort);
  }

  let traffic;
  if (opts.traffic) {
    const t = opts.traffic === true ? {} : opts.traffic;
    const args = [
      path.join(ROOT, "demo", "src", "traffic.ts"),
      "--base-url",
      t.baseUrl ?? edgeUrl ?? origin,
      "--duration-ms",
      String(t.durationMs ?? 60_000),
      "--rps",
      String(t.rps ?? 4),
    ];
    if (t.browser === false) args.push("--no-browser");
    const child = run("traffic", args, { expectedExit: true });
    traffic = child.done;
  }

  const vars = readWorkerVars();
  const effective = { ...vars, ...secrets, ...opts.vars };
  const result = {
    urls: {
      origin,
      edge: edgeUrl,
      image: runImage ? imageUrl : undefined,
      dashboards: edgeUrl && `${edgeUrl}/_dash/`,
      queryApi: edgeUrl && `${edgeUrl}/_rum/v1/query`,
      pageviews: edgeUrl && `${edgeUrl}/_rum/v1/pageviews`,
      purge: edgeUrl && `${edgeUrl}/_edge/purge`,
      imageExample: edgeUrl && `${edgeUrl}/cdn-cgi/image/width=400,format=auto/images/p/1.jpg`,
      originStats: runDemo ? `${origin}/__demo/stats` : undefined,
    },
    ports,
    tokens: {
      dash: effective.DASH_TOKEN,
      query: effective.RUM_QUERY_TOKEN,
      admin: effective.EDGE_ADMIN_TOKEN,
    },
    persistTo,
    services: [runDemo && "demo", runImage && "image", runEdge && "edge"].filter(Boolean),
    pids: Object.fromEntries(children.filter((c) => c.code === undefined).map((c) => [c.name, c.proc.pid])),
    exited,
    traffic,
    stop,
  };
  return result;
}

/**
 * The Worker's secrets for this stack: each from `opts.vars`, else the environment (the e2e
 * project sets them in its vitest config), else `.dev.vars`, which is created with random tokens
 * when it is missing or lacks a key (first `npm start`). Passed to wrangler dev as `--var`.
 */
function runEdgeSecrets(runEdge, given = {}, say = () => {}) {
  if (!runEdge) return {};
  const out = {};
  for (const k of SECRET_KEYS) {
    const v = given[k] ?? process.env[k];
    if (v) out[k] = v;
  }
  if (Object.keys(out).length === SECRET_KEYS.length) return out;
  const dev = ensureDevVars(ROOT);
  if (dev.added.length > 0) say(`stack  | wrote ${dev.added.join(", ")} (random) to ${dev.file}`);
  return { ...dev.tokens, ...out };
}

/**
 * Worker vars that depend on where things run: the origin, the image service and the sites the
 * collector accepts (RUM_SITES from wrangler.toml with the default edge/demo ports swapped for
 * the actual ones).
 */
function varsFor({ origin, imageUrl, edgePort }) {
  const vars = { ORIGIN_URL: origin, IMAGE_SERVICE_URL: imageUrl };
  const sites = readWorkerVars().RUM_SITES;
  if (sites && edgePort !== undefined) {
    vars.RUM_SITES = sites
      .replaceAll(`127.0.0.1:${DEFAULT_PORTS.edge}`, `127.0.0.1:${edgePort}`)
      .replaceAll(`localhost:${DEFAULT_PORTS.edge}`, `localhost:${edgePort}`)
      .replaceAll(`http://127.0.0.1:${DEFAULT_PORTS.demo}`, origin)
      .replaceAll(`http://localhost:${DEFAULT_PORTS.demo}`, origin.replace("127.0.0.1", "localhost"));
  }
  return vars;
}
