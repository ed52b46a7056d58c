/**
 * `npm run bench:edge`: cache-HIT throughput/latency of the edge Worker on bare workerd next
 * to nginx `proxy_cache` and a hello-world Worker on the same workerd (the runtime's ceiling),
 * plus the MISS (pass-through) overhead over the origin. Everything runs on loopback; all
 * children are stopped and temp dirs removed on exit, Ctrl-C or error. See bench/README.md.
 *
 * Options: --rounds N (5) --duration S (5) --warmup S (2) --connections C (16)
 *          --quartets N (24) --slice S (1) --gap-ms MS (1000): interleaved HIT ÷ ceiling (lib/interleave.mjs)
 *          --var KEY=VALUE (extra/overriding Worker var, repeatable)
 *          --bundle DIR (measure an already bundled Worker, DIR/index.js, instead of building) --no-json
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { inclusiveProfile, startCpuProfile, summariseProfile } from "./lib/cpu-profile.mjs";
import { quartetOrder, summariseQuartets } from "./lib/interleave.mjs";
import { startNginx } from "./lib/nginx.mjs";
import { requirePeersOrSkip } from "./lib/peers.mjs";
import { clockTicksPerSecond, processCpuSeconds } from "./lib/proc-cpu.mjs";
import {
  cleanup,
  installCleanupHandlers,
  isStopping,
  logTail,
  makeTempDir,
  runChild,
  sleep,
  startChild,
  startOnFreePorts,
} from "./lib/procs.mjs";
import { fmt, markdownTable, median } from "./lib/table.mjs";
import {
  workerdConfig,
  writeHelloHeadersWorker,
  writeHelloWorker,
  writePassthroughWorker,
} from "./lib/workerd-config.mjs";
import { runWrk } from "./lib/wrk.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const BIN = join(ROOT, "node_modules", ".bin");
const NODE = process.execPath;

const { values: opts } = parseArgs({
  options: {
    rounds: { type: "string", default: "5" },
    duration: { type: "string", default: "5" },
    warmup: { type: "string", default: "2" },
    connections: { type: "string", default: "16" },
    quartets: { type: "string", default: "24" },
    slice: { type: "string", default: "1" },
    "gap-ms": { type: "string", default: "1000" },
    var: { type: "string", multiple: true, default: [] },
    bundle: { type: "string" },
    only: { type: "string" },
    profile: { type: "string" },
    "no-json": { type: "boolean", default: false },
  },
});
const ROUNDS = positiveInt("rounds", opts.rounds);
const DURATION = positiveInt("duration", opts.duration);
const WARMUP = positiveInt("warmup", opts.warmup);
const CONNS = positiveInt("connections", opts.connections);
const QUARTETS = positiveInt("quartets", opts.quartets);
const SLICE = positiveInt("slice", opts.slice);
const GAP_MS = positiveInt("gap-ms", opts["gap-ms"], 0);

function positiveInt(key, raw, min = 1) {
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isInteger(n) || n < min)
    throw new Error(
      `Invalid option --${key}: expected ${min === 1 ? "a positive integer" : `an integer ≥ ${min}`} (got "${raw}")`,
    );
  return n;
}

const log = (msg) => process.stderr.write(`[bench:edge] ${msg}\n`);
const startOnFree = (name, names, start) => startOnFreePorts(name, names, start, log);

function versionOf(cmd, args) {
  // nginx -v and wrk -v print to stderr and wrk exits non-zero: read both streams.
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return `${r.stdout ?? ""}${r.stderr ?? ""}`.trim().split("\n")[0] || "unknown";
}

async function getJson(url) {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return res.json();
}

/** One request; returns status, body size and the headers the checks look at. */
async function probe(url) {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const body = await res.arrayBuffer();
  return {
    headers: [...res.headers],
    text: new TextDecoder().decode(body),
    status: res.status,
    bytes: body.byteLength,
    serverTiming: res.headers.get("server-timing") ?? "",
    xCache: res.headers.get("x-cache-status") ?? "",
  };
}

/** The cache status the edge reports in `Server-Timing: cdn-cache;desc=…` ("" if none). */
function cdnCache(serverTiming) {
  return /cdn-cache;\s*desc="?([A-Za-z]+)/.exec(serverTiming)?.[1]?.toUpperCase() ?? "";
}

/** The median entry of a row that was not measured. */
const NOT_MEASURED = Object.freeze({
  rps: Number.NaN,
  p50: Number.NaN,
  p99: Number.NaN,
  cpuUs: Number.NaN,
  requests: 0,
  errors: 0,
  valid: false,
  perRequest: {},
});

async function main() {
  // Without nginx its two rows are skipped (one line each) and the rest is measured.
  const withNginx = (await requirePeersOrSkip("bench:edge")).has("nginx");
  installCleanupHandlers();
  const started = Date.now();
  const machine = {
    nproc: os.availableParallelism(),
    cpu: os.cpus()[0]?.model ?? "unknown",
    loadavg: os.loadavg().map((l) => Number(l.toFixed(2))),
    memGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
  };
  const workerdPkg = JSON.parse(
    readFileSync(join(ROOT, "node_modules", "workerd", "package.json"), "utf8"),
  ).version;
  const versions = {
    workerd: `${versionOf(join(BIN, "workerd"), ["--version"])} (npm workerd ${workerdPkg})`,
    nginx: versionOf("nginx", ["-v"]),
    wrk: versionOf("wrk", ["-v"]).replace(/\s+Copyright.*$/, ""),
    node: process.version,
  };
  log(
    `machine: ${machine.nproc} cores, load ${machine.loadavg.join(" ")}; ${Object.values(versions).join("; ")}`,
  );

  const tmp = makeTempDir("bench-edge-");
  const logDir = join(tmp, "logs");
  mkdirSync(logDir);

  // 1. Origin and binding services. Every server that binds a port retries on fresh ports if
  // another process took its port between picking and binding.
  // A larger young generation means fewer scavenges in the hot loop of the Node servers.
  const origin = await startOnFree("origin", ["origin"], (p) => ({
    entry: startChild(
      "origin",
      NODE,
      ["--max-semi-space-size=32", join(ROOT, "bench/lib/origin.mjs"), String(p.origin)],
      {
        logDir,
      },
    ),
    readyUrl: `http://127.0.0.1:${p.origin}/__stats`,
  }));
  const originUrl = `http://127.0.0.1:${origin.ports.origin}`;
  log(`origin on ${originUrl}`);

  const { unstable_readConfig } = await import("wrangler");
  const wrangler = unstable_readConfig({ config: join(ROOT, "wrangler.toml") });
  const migrations = wrangler.d1_databases?.[0]?.migrations_dir;
  const services = await startOnFree("bindings", ["cache", "kv", "d1", "queue", "r2", "control"], (p) => ({
    entry: startChild(
      "bindings",
      NODE,
      [
        "--max-semi-space-size=32",
        "--disable-warning=ExperimentalWarning",
        join(ROOT, "bench/lib/bindings-server.mjs"),
        JSON.stringify(p),
        ...(migrations ? [resolve(ROOT, migrations)] : []),
      ],
      { logDir },
    ),
    readyUrl: `http://127.0.0.1:${p.control}/`,
  }));
  const controlUrl = `http://127.0.0.1:${services.ports.control}/`;

  // 2. Build the Worker exactly as deployed and run it on bare workerd.
  const bundleDir = opts.bundle ? resolve(opts.bundle) : join(tmp, "bundle");
  const env = {
    ...process.env,
    PATH: `${BIN}:${process.env.PATH}`,
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_SEND_ERROR_REPORTS: "false",
  };
  if (opts.bundle) {
    log(`using the prebuilt bundle ${bundleDir}/index.js`);
  } else {
    log("building the Worker (wrangler deploy --dry-run)…");
    const args = ["deploy", "--dry-run", "--outdir", bundleDir];
    const build = await runChild("wrangler", join(BIN, "wrangler"), args, { env, cwd: ROOT });
    if (build.code !== 0) throw new Error(`wrangler build failed:\n${build.stdout}${build.stderr}`);
  }

  const vars = { ORIGIN_URL: originUrl, ...readDevVars() };
  for (const kv of opts.var) {
    const i = kv.indexOf("=");
    if (i < 1) throw new Error(`Invalid option --var: expected KEY=VALUE (got "${kv}")`);
    vars[kv.slice(0, i)] = kv.slice(i + 1);
  }
  const helloPath = writeHelloWorker(tmp);
  const helloHeadersPath = writeHelloHeadersWorker(tmp);
  const passthroughPath = writePassthroughWorker(tmp);
  const configPath = join(tmp, "config.capnp");
  let described = [];
  const workerdPorts = ["edge", "hello", "hellohdrs", "passthrough", ...(opts.profile ? ["inspector"] : [])];
  const workerd = await startOnFree("workerd", workerdPorts, (p) => {
    const cfg = workerdConfig({
      configDir: tmp,
      bundleDir,
      helloPath,
      helloHeadersPath,
      passthroughPath,
      wrangler,
      vars,
      ports: { ...services.ports, ...p },
    });
    described = cfg.described;
    writeFileSync(configPath, cfg.text);
    return {
      entry: startChild(
        "workerd",
        join(BIN, "workerd"),
        [
          "serve",
          configPath,
          "--experimental",
          ...(p.inspector ? [`--inspector-addr=127.0.0.1:${p.inspector}`] : []),
        ],
        { logDir },
      ),
      readyUrl: `http://127.0.0.1:${p.hello}/`,
    };
  });
  const edgeUrl = `http://127.0.0.1:${workerd.ports.edge}`;
  const helloUrl = `http://127.0.0.1:${workerd.ports.hello}`;
  const helloHeadersUrl = `http://127.0.0.1:${workerd.ports.hellohdrs}`;
  const passthroughUrl = `http://127.0.0.1:${workerd.ports.passthrough}`;
  log(`workerd: edge on ${edgeUrl}, hello-world on ${helloUrl}`);
  for (const d of described) log(`  binding ${d}`);

  // 3. nginx proxy_cache peer in front of the same origin.
  const nginx = withNginx
    ? await startOnFree("nginx", ["nginx"], (p) => ({
        entry: startNginx({
          prefix: join(tmp, "nginx"),
          port: p.nginx,
          originPort: origin.ports.origin,
          logDir,
        }),
        readyUrl: `http://127.0.0.1:${p.nginx}/__stats`,
      }))
    : null;
  const nginxUrl = nginx ? `http://127.0.0.1:${nginx.ports.nginx}` : "";
  log(nginx ? `nginx on ${nginxUrl}` : "nginx not started (its rows are skipped)");

  // 4. Probes: every target answers what it should before it is measured.
  const probes = {};
  probes.originCached = await probe(`${originUrl}/cached`);
  probes.originNocache = await probe(`${originUrl}/nocache`);
  if (nginx) {
    await probe(`${nginxUrl}/cached`);
    probes.nginxHit = await probe(`${nginxUrl}/cached`);
  }
  probes.hello = await probe(`${helloUrl}/`);
  probes.edgeFirst = await probe(`${edgeUrl}/cached`);
  // The store may finish in waitUntil after the first response: give it a few tries.
  for (let i = 0; i < 10; i++) {
    probes.edgeHit = await probe(`${edgeUrl}/cached`);
    if (cdnCache(probes.edgeHit.serverTiming) === "HIT") break;
    await sleep(100);
  }
  // The hello-world with the HIT's headers and bytes: every header of the HIT but the ones the
  // runtime writes itself; Server-Timing and X-Request-Id are set per request as the edge does.
  const own = new Set([
    "content-length",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "server-timing",
    "x-request-id",
  ]);
  const setup = await fetch(`${helloHeadersUrl}/`, {
    method: "POST",
    body: JSON.stringify({
      headers: probes.edgeHit.headers.filter(([k]) => !own.has(k)),
      body: probes.edgeHit.text,
    }),
  });
  if (setup.status !== 204) throw new Error(`hello-world with headers: setup answered ${setup.status}`);
  probes.helloHeaders = await probe(`${helloHeadersUrl}/`);
  probes.edgeMiss = await probe(`${edgeUrl}/nocache`);
  probes.passthrough = await probe(`${passthroughUrl}/nocache`);
  for (const [k, p] of Object.entries(probes)) {
    const cs = cdnCache(p.serverTiming) || p.xCache;
    log(`  probe ${k}: ${p.status}, ${p.bytes} B${cs ? `, cache ${cs}` : ""}`);
  }
  if (logTail(workerd.entry, 5).includes("Error")) log(`workerd log tail:\n${logTail(workerd.entry, 10)}`);

  const checks = {
    ...(nginx ? { nginxHit: probes.nginxHit.status === 200 && probes.nginxHit.xCache === "HIT" } : {}),
    hello: probes.hello.status === 200 && probes.hello.bytes === probes.originCached.bytes,
    edgeHit:
      probes.edgeHit.status === 200 &&
      probes.edgeHit.bytes >= probes.originCached.bytes &&
      cdnCache(probes.edgeHit.serverTiming) === "HIT",
    helloHeaders:
      probes.helloHeaders.status === 200 &&
      probes.helloHeaders.bytes === probes.edgeHit.bytes &&
      probes.helloHeaders.headers.map(([k]) => k).join() === probes.edgeHit.headers.map(([k]) => k).join(),
    edgeMiss: probes.edgeMiss.status === 200 && probes.edgeMiss.bytes >= probes.originNocache.bytes,
    passthrough: probes.passthrough.status === 200 && probes.passthrough.bytes === probes.originNocache.bytes,
  };

  // Rows served by the workerd process: their CPU time per request is read from /proc (steadier
  // than req/s on a busy machine: other processes slow workerd down but do not add to its CPU time).
  const ON_WORKERD = new Set([
    "hello",
    "edge-hit",
    "hello-headers",
    "edge-miss",
    "edge-miss-c1",
    "bare-fetch-c1",
  ]);
  const targets = [
    {
      id: "nginx-hit",
      label: "nginx proxy_cache HIT (2 workers)",
      url: `${nginxUrl}/cached`,
      c: CONNS,
      check: "nginxHit",
      hit: true,
    },
    {
      id: "hello",
      label: "workerd hello-world, 10 KB from memory (ceiling)",
      url: `${helloUrl}/`,
      c: CONNS,
      check: "hello",
      hit: true,
    },
    {
      id: "edge-hit",
      label: "edge Worker cache HIT",
      url: `${edgeUrl}/cached`,
      c: CONNS,
      check: "edgeHit",
      edge: true,
      hit: true,
    },
    {
      id: "hello-headers",
      label: "workerd hello-world with the HIT's headers and bytes (context)",
      url: `${helloHeadersUrl}/`,
      c: CONNS,
      check: "helloHeaders",
      hit: true,
    },
    { id: "origin", label: "origin direct, uncacheable page", url: `${originUrl}/nocache`, c: CONNS },
    {
      id: "edge-miss",
      label: "edge Worker MISS (pass-through)",
      url: `${edgeUrl}/nocache`,
      c: CONNS,
      check: "edgeMiss",
      edge: true,
    },
    { id: "origin-c1", label: "origin direct, uncacheable page", url: `${originUrl}/nocache`, c: 1 },
    {
      id: "edge-miss-c1",
      label: "edge Worker MISS (pass-through)",
      url: `${edgeUrl}/nocache`,
      c: 1,
      check: "edgeMiss",
      edge: true,
    },
    {
      id: "bare-fetch-c1",
      label: "workerd bare fetch() pass-through (reference)",
      url: `${passthroughUrl}/nocache`,
      c: 1,
      check: "passthrough",
    },
    { id: "nginx-pass-c1", label: "nginx proxy_pass (no cache)", url: `${nginxUrl}/nocache`, c: 1 },
  ];
  if (!nginx) targets.splice(0, targets.length, ...targets.filter((t) => !t.id.startsWith("nginx-")));
  if (opts.only !== undefined) {
    // Development aid: measure a subset (goal rows whose inputs were skipped print as n/a).
    const keep = new Set(opts.only.split(","));
    const unknown = [...keep].filter((id) => !targets.some((t) => t.id === id));
    if (unknown.length > 0)
      throw new Error(
        `Invalid option --only: unknown target ${unknown.join(", ")} (known: ${targets.map((t) => t.id).join(", ")})`,
      );
    targets.splice(0, targets.length, ...targets.filter((t) => keep.has(t.id)));
  }
  if (opts.profile !== undefined && !targets.some((t) => t.id === opts.profile && ON_WORKERD.has(t.id)))
    throw new Error(`Invalid option --profile: expected a measured workerd target (got "${opts.profile}")`);
  const HZ = clockTicksPerSecond();
  const workerdCpu = (t) =>
    ON_WORKERD.has(t.id) ? processCpuSeconds(workerd.entry.child.pid, HZ) : Number.NaN;
  const helloTarget = targets.find((t) => t.id === "hello");
  const hitTarget = targets.find((t) => t.id === "edge-hit");
  const interleave = helloTarget !== undefined && hitTarget !== undefined;
  // wrk needs about 0.1 s to start and stop per slice.
  const estimate =
    targets.length * (WARMUP + ROUNDS * DURATION) +
    (interleave ? QUARTETS * 4 * (SLICE + GAP_MS / 1000 + 0.1) : 0);
  log(
    `measuring ${targets.length} targets × ${ROUNDS} rounds × ${DURATION} s (+${WARMUP} s warm-up each)` +
      (interleave
        ? `, then ${QUARTETS} interleaved quartets of ${SLICE} s slices (${GAP_MS} ms apart)`
        : "") +
      `, about ${Math.ceil(estimate / 60)} min`,
  );

  for (const t of targets) {
    log(`  warm-up ${t.id} (${WARMUP} s)`);
    await runWrk(t.url, { connections: t.c, seconds: WARMUP });
  }
  const results = Object.fromEntries(targets.map((t) => [t.id, []]));
  // Rounds interleave the targets so that background noise spreads over all of them.
  for (let r = 1; r <= ROUNDS; r++) {
    for (const t of targets) {
      const o0 = await getJson(`${originUrl}/__stats`);
      const s0 = await getJson(controlUrl);
      const cpu0 = workerdCpu(t);
      const prof =
        r === 1 && t.id === opts.profile
          ? await startCpuProfile(
              `http://127.0.0.1:${workerd.ports.inspector}`,
              t.id === "hello"
                ? "hello"
                : t.id === "hello-headers"
                  ? "hellohdrs"
                  : t.id.startsWith("bare")
                    ? "passthrough"
                    : "edge",
            )
          : null;
      const w = await runWrk(t.url, { connections: t.c, seconds: DURATION });
      if (prof !== null) {
        const profile = await prof.stop();
        log(`  CPU profile of ${t.id} (inspector target ${prof.target}), round 1 (profiling slows it down):`);
        const self = summariseProfile(profile);
        const incl = inclusiveProfile(profile);
        for (let k = 0; k < Math.max(self.length, incl.length); k++) {
          const a = self[k] ? `${(self[k].share * 100).toFixed(1).padStart(5)} %  ${self[k].fn}` : "";
          const b = incl[k] ? `${(incl[k].share * 100).toFixed(1).padStart(5)} %  ${incl[k].fn}` : "";
          log(`    ${a.padEnd(50)} | ${b}`);
        }
      }
      w.cpuUsPerReq = ((workerdCpu(t) - cpu0) * 1e6) / Math.max(1, w.requests);
      const o1 = await getJson(`${originUrl}/__stats`);
      const s1 = await getJson(controlUrl);
      w.originRequests = o1.cached + o1.nocache - (o0.cached + o0.nocache);
      w.cacheLookups = s1.cache.lookups - s0.cache.lookups;
      w.cacheStores = s1.cache.stores - s0.cache.stores;
      w.kvOps = sum(s1.kv) - sum(s0.kv);
      w.d1Queries = s1.d1.queries - s0.d1.queries;
      w.queueMessages = s1.queue.messages - s0.queue.messages;
      w.queueRecords = s1.queue.records - s0.queue.records;
      w.queueCalls = s1.queue.calls - s0.queue.calls;
      results[t.id].push(w);
      log(
        `  round ${r}/${ROUNDS} ${t.id.padEnd(14)} ${fmt(w.rps).padStart(7)} req/s  p50 ${fmt(w.p50, 2)} ms  p99 ${fmt(w.p99, 2)} ms` +
          (Number.isFinite(w.cpuUsPerReq) ? `  workerd CPU ${fmt(w.cpuUsPerReq)} µs/req` : "") +
          (w.non2xx || w.socketErrors ? `  (${w.non2xx} non-2xx, ${w.socketErrors} socket errors)` : ""),
      );
    }
  }
  // HIT ÷ ceiling from short interleaved slices (bench/lib/interleave.mjs): A = hello-world,
  // B = edge HIT, in ABBA / BAAB order, so that both see the same machine.
  let interleaved = null;
  if (interleave) {
    log(
      `interleaving hello-world (A) and edge HIT (B): ${QUARTETS} quartets of ${SLICE} s slices, ABBA / BAAB`,
    );
    const o0 = await getJson(`${originUrl}/__stats`);
    const quartets = [];
    let errors = 0;
    for (let q = 0; q < QUARTETS; q++) {
      const measured = { a: [], b: [] };
      for (const side of quartetOrder(q)) {
        const t = side === "a" ? helloTarget : hitTarget;
        // A pause first: work a target leaves behind (its log batch being sent, its isolate's
        // garbage collection when the load stops) must not land in the other target's slice.
        await sleep(GAP_MS);
        const cpu0 = workerdCpu(t);
        const w = await runWrk(t.url, { connections: t.c, seconds: SLICE });
        errors += w.non2xx + w.socketErrors;
        measured[side].push({
          requests: w.requests,
          seconds: w.rps > 0 ? w.requests / w.rps : Number.NaN,
          cpuSeconds: workerdCpu(t) - cpu0,
        });
      }
      quartets.push(measured);
      const r = summariseQuartets([measured]);
      const rate = (side) => fmt((measured[side][0].requests + measured[side][1].requests) / (2 * SLICE));
      log(
        `  quartet ${q + 1}/${QUARTETS} ${quartetOrder(q).join("").toUpperCase()}  hello ${rate("a").padStart(7)} req/s` +
          `  edge-hit ${rate("b").padStart(7)} req/s  B÷A ${fmt(r.median, 3)}`,
      );
    }
    const o1 = await getJson(`${originUrl}/__stats`);
    const hitRequests = quartets.reduce((n, q) => n + q.b[0].requests + q.b[1].requests, 0);
    const originPerReq = (o1.cached + o1.nocache - (o0.cached + o0.nocache)) / Math.max(1, hitRequests);
    interleaved = {
      ...summariseQuartets(quartets),
      quartets,
      errors,
      originPerReq,
      // Same validity rules as the rounds: no errors, and a HIT never reaches the origin.
      valid: errors === 0 && originPerReq <= 0.01,
    };
    log(
      `  interleaved HIT ÷ ceiling: median ${fmt(interleaved.median, 3)} (quartiles ${fmt(interleaved.q1, 3)}–${fmt(interleaved.q3, 3)}), ` +
        `pooled ${fmt(interleaved.pooled, 3)}; workerd CPU per request ${fmt(interleaved.cpuPooled, 2)}× hello-world` +
        (interleaved.valid
          ? ""
          : `  INVALID (${errors} errors, ${fmt(originPerReq, 3)} origin requests per HIT)`),
    );
  }
  if (workerd.entry.exited)
    throw new Error(`workerd exited during the run (${workerd.entry.exitInfo}):\n${logTail(workerd.entry)}`);

  if (opts.only !== undefined) {
    log("--only: subset run, per-round numbers above; the report and goals need every target");
    return;
  }

  // 5. Medians, ratios, goals.
  const med = {};
  for (const t of targets) {
    const rs = results[t.id];
    const requests = rs.reduce((a, w) => a + w.requests, 0);
    const per = (k) => rs.reduce((a, w) => a + w[k], 0) / Math.max(1, requests);
    // A HIT row that reached the origin, or a MISS row that did not, measured something else.
    const originPerReq = per("originRequests");
    const originOk = t.hit ? originPerReq <= 0.01 : originPerReq >= 0.99;
    if (!originOk) log(`  ${t.id}: ${fmt(originPerReq, 3)} origin requests per request: row is INVALID`);
    med[t.id] = {
      rps: median(rs.map((w) => w.rps)),
      p50: median(rs.map((w) => w.p50)),
      p99: median(rs.map((w) => w.p99)),
      cpuUs: median(rs.map((w) => w.cpuUsPerReq)),
      requests,
      errors: rs.reduce((a, w) => a + w.non2xx + w.socketErrors, 0),
      valid:
        (t.check ? checks[t.check] : true) &&
        originOk &&
        rs.every((w) => w.non2xx === 0 && w.socketErrors === 0),
      perRequest: {
        origin: per("originRequests"),
        cacheLookups: per("cacheLookups"),
        cacheStores: per("cacheStores"),
        kvOps: per("kvOps"),
        d1Queries: per("d1Queries"),
        queueMessages: per("queueMessages"),
        queueRecords: per("queueRecords"),
        queueCalls: per("queueCalls"),
      },
    };
  }
  // A row not measured (its peer missing, or left out by --only) reads as n/a and is not valid.
  const m = (id) => med[id] ?? NOT_MEASURED;
  // Ratios and differences are taken per round (the two runs are seconds apart, so they share
  // the same background load) and then the median over rounds.
  const paired = (a, b, f) =>
    results[a] && results[b] ? median(results[a].map((wa, i) => f(wa, results[b][i]))) : Number.NaN;
  // The goal reads the interleaved measurement; the per-round ratio is kept for comparison.
  const ceilingRatioRounds = paired("edge-hit", "hello", (e, h) => e.rps / h.rps);
  const ceilingRatio = interleaved.median;
  // Context: the edge HIT against a hello-world that sends the HIT's own headers and bytes (what
  // the runtime allows for that answer with no cache logic), and that hello-world against the plain one.
  const hitOverHeadersCeiling = paired("edge-hit", "hello-headers", (e, h) => e.rps / h.rps);
  const headersCeilingOverCeiling = paired("hello-headers", "hello", (h, c) => h.rps / c.rps);
  const nginxRatio = paired("edge-hit", "nginx-hit", (e, n) => e.rps / n.rps);
  const missOverheadC1 = paired("edge-miss-c1", "origin-c1", (e, o) => e.p50 - o.p50);
  const missOverheadLoaded = paired("edge-miss", "origin", (e, o) => e.p50 - o.p50);
  const nginxPassOverhead = paired("nginx-pass-c1", "origin-c1", (n, o) => n.p50 - o.p50);
  const bareFetchOverhead = paired("bare-fetch-c1", "origin-c1", (b, o) => b.p50 - o.p50);
  // The MISS goal: the edge's overhead beyond a bare fetch() pass-through's, per round (both
  // minus the same origin p50, so the origin cancels out).
  const missOverBareFetch = paired("edge-miss-c1", "bare-fetch-c1", (e, b) => e.p50 - b.p50);
  // CPU per request, paired per round like the other ratios.
  const cpuHitOverHello = paired("edge-hit", "hello", (e, h) => e.cpuUsPerReq / h.cpuUsPerReq);
  const cpuMissOverBareFetch = paired(
    "edge-miss-c1",
    "bare-fetch-c1",
    (e, b) => e.cpuUsPerReq - b.cpuUsPerReq,
  );
  const hitValid = m("edge-hit").valid && m("hello").valid && interleaved.valid;
  const missValid = m("edge-miss-c1").valid;
  // met: true/false, or null when a row it depends on is invalid (nothing honest to compare).
  const goal = (name, value, unit, target, valid, ok) => ({
    goal: name,
    value,
    unit,
    target,
    met: valid ? ok : null,
  });
  const goals = [
    goal(
      "edge HIT ≥ 0.9× workerd ceiling (req/s, interleaved)",
      ceilingRatio,
      "×",
      0.9,
      hitValid,
      ceilingRatio >= 0.9,
    ),
    goal(
      "edge HIT ≥ 0.3× nginx proxy_cache (context)",
      nginxRatio,
      "×",
      0.3,
      hitValid && m("nginx-hit").valid,
      nginxRatio >= 0.3,
    ),
    goal(
      "MISS overhead ≤ bare fetch() overhead + 0.3 ms (p50, c=1)",
      missOverBareFetch,
      "ms",
      0.3,
      missValid && m("origin-c1").valid && m("bare-fetch-c1").valid,
      missOverBareFetch <= 0.3,
    ),
    goal(
      "MISS overhead ≤ 1 ms p50 (c=1, earlier goal)",
      missOverheadC1,
      "ms",
      1,
      missValid && m("origin-c1").valid,
      missOverheadC1 <= 1,
    ),
  ];
  const goalRows = goals.map((g) => [
    g.goal,
    // Three decimals so that a value just under the target never prints as the target.
    g.unit === "ms" ? `${fmt(g.value, 3)} ms` : `${fmt(g.value, 3)}×`,
    g.met === null
      ? Number.isNaN(g.value)
        ? "not measured (a row it needs was skipped)"
        : "not measured (a row is INVALID, see checks)"
      : g.met
        ? "met"
        : "NOT met",
  ]);

  // 6. Report.
  const rowsFor = (list) =>
    list.map((t) => {
      const x = m(t.id);
      const ratio = t.hit ? `${fmt(x.rps / m("hello").rps, 2)}×` : "";
      return [
        t.label + (x.valid ? "" : " ⚠ INVALID"),
        String(t.c),
        fmt(x.rps),
        fmt(x.p50, 2),
        fmt(x.p99, 2),
        ratio,
        t.id === "hello" ? "" : fmt(x.perRequest.origin, 3),
        fmt(x.cpuUs),
      ];
    });
  const header = [
    "system",
    "conns",
    "req/s",
    "p50 ms",
    "p99 ms",
    "× ceiling",
    "origin req/req",
    "workerd CPU µs/req",
  ];
  const out = [];
  out.push("");
  out.push(
    `## Edge benchmark: 10 KB HTML, wrk -t1 -c<conns> -d${DURATION}s --latency, median of ${ROUNDS} rounds`,
  );
  out.push("");
  out.push(`machine: ${machine.nproc} cores (${machine.cpu}), load before run ${machine.loadavg.join(" ")}`);
  // Our own processes are not running yet when the load is sampled: any load is someone else's.
  if ((machine.loadavg[0] ?? 0) > machine.nproc / 2) {
    out.push(
      `⚠ busy machine (1-min load ${fmt(machine.loadavg[0] ?? 0, 1)} on ${machine.nproc} cores before the run): other ` +
        "processes compete for CPU, so throughput is low and latencies inflated; compare ratios from this run only.",
    );
  }
  out.push(`versions: ${versions.workerd}; ${versions.nginx}; ${versions.wrk}; node ${versions.node}`);
  out.push("");
  out.push(markdownTable(header, rowsFor(targets)));
  out.push("");
  out.push(markdownTable(["goal", "measured", "verdict"], goalRows, ["l", "r", "l"]));
  out.push("");
  out.push(
    `context: MISS overhead under load (c=${CONNS}) ${fmt(missOverheadLoaded, 2)} ms p50; bare workerd fetch() overhead (c=1) ${fmt(bareFetchOverhead, 2)} ms p50; nginx proxy_pass overhead (c=1) ${fmt(nginxPassOverhead, 2)} ms p50`,
  );
  // The spread behind the medians: on a shared machine one round can differ from the next by more
  // than the margin to a goal.
  const perRound = (a, b, f, digits) =>
    results[a] && results[b]
      ? results[a].map((wa, i) => f(wa, results[b][i]).toFixed(digits)).join(", ")
      : "n/a";
  out.push(
    `HIT ÷ ceiling, interleaved (${QUARTETS} ABBA/BAAB quartets of ${SLICE} s slices): median ${fmt(interleaved.median, 3)}, ` +
      `quartiles ${fmt(interleaved.q1, 3)}–${fmt(interleaved.q3, 3)}, pooled ${fmt(interleaved.pooled, 3)}; ` +
      `workerd CPU per request ${fmt(interleaved.cpuPooled, 2)}× hello-world; per quartet ${interleaved.ratios.map((r) => r.toFixed(2)).join(", ")}`,
  );
  out.push(
    `per round: HIT ÷ ceiling ${perRound("edge-hit", "hello", (e, h) => e.rps / h.rps, 2)} (median ${fmt(ceilingRatioRounds, 3)}); ` +
      `MISS overhead c=1 ${perRound("edge-miss-c1", "origin-c1", (e, o) => e.p50 - o.p50, 2)} ms`,
  );
  out.push(
    `context: a hello-world sending the HIT's ${probes.helloHeaders.headers.length} headers and ${probes.helloHeaders.bytes} bytes ` +
      `(Server-Timing and X-Request-Id set per request) runs at ${fmt(headersCeilingOverCeiling, 3)}× the plain hello-world ` +
      `(${perRound("hello-headers", "hello", (h, c) => h.rps / c.rps, 2)}); edge HIT ÷ that: ${fmt(hitOverHeadersCeiling, 3)} ` +
      `(${perRound("edge-hit", "hello-headers", (e, h) => e.rps / h.rps, 2)}); workerd CPU ${fmt(m("hello-headers").cpuUs)} µs/req`,
  );
  out.push(
    `workerd CPU per request (µs, /proc utime+stime ÷ requests, median of rounds): hello-world ${fmt(m("hello").cpuUs)}, ` +
      `edge HIT ${fmt(m("edge-hit").cpuUs)} (${fmt(cpuHitOverHello, 2)}× hello-world), bare fetch() c=1 ${fmt(m("bare-fetch-c1").cpuUs)}, ` +
      `edge MISS c=1 ${fmt(m("edge-miss-c1").cpuUs)} (+${fmt(cpuMissOverBareFetch)} over bare fetch()), edge MISS c=${CONNS} ${fmt(m("edge-miss").cpuUs)}`,
  );
  const e = (id) => m(id).perRequest;
  out.push(
    `edge binding calls per request — HIT: cache lookups ${fmt(e("edge-hit").cacheLookups, 3)}, origin ${fmt(e("edge-hit").origin, 3)}, ` +
      `KV ${fmt(e("edge-hit").kvOps, 3)}, D1 ${fmt(e("edge-hit").d1Queries, 3)}, page-view records ${fmt(e("edge-hit").queueRecords, 3)} in ${fmt(e("edge-hit").queueMessages, 3)} queue msgs, ${fmt(e("edge-hit").queueCalls, 3)} sends; ` +
      `MISS: cache lookups ${fmt(e("edge-miss").cacheLookups, 3)}, stores ${fmt(e("edge-miss").cacheStores, 3)}, origin ${fmt(e("edge-miss").origin, 3)}, ` +
      `page-view records ${fmt(e("edge-miss").queueRecords, 3)} in ${fmt(e("edge-miss").queueMessages, 3)} queue msgs, ${fmt(e("edge-miss").queueCalls, 3)} sends`,
  );
  const failed = Object.entries(checks).filter(([, ok]) => !ok);
  if (failed.length > 0) {
    out.push("");
    out.push("checks failed (rows marked INVALID do not count toward goals):");
    for (const [k] of failed) {
      const p =
        k === "edgeHit"
          ? probes.edgeHit
          : k === "edgeMiss"
            ? probes.edgeMiss
            : k === "nginxHit"
              ? probes.nginxHit
              : probes.hello;
      out.push(
        `  ${k}: status ${p.status}, ${p.bytes} B, Server-Timing "${p.serverTiming}"${p.xCache ? `, X-Cache-Status ${p.xCache}` : ""}`,
      );
    }
  }
  out.push("");
  out.push(`Worker bindings on workerd: ${described.join("; ")}`);
  console.log(out.join("\n"));

  if (!opts["no-json"]) {
    const outDir = join(ROOT, "bench", "out");
    mkdirSync(outDir, { recursive: true });
    const file = join(outDir, `edge-${new Date(started).toISOString().replace(/[:.]/g, "-")}.json`);
    writeFileSync(
      file,
      JSON.stringify(
        {
          startedAt: new Date(started).toISOString(),
          durationS: (Date.now() - started) / 1000,
          machine,
          versions,
          options: {
            rounds: ROUNDS,
            durationS: DURATION,
            warmupS: WARMUP,
            connections: CONNS,
            quartets: QUARTETS,
            sliceS: SLICE,
            gapMs: GAP_MS,
            vars: opts.var,
          },
          bindings: described,
          probes,
          checks,
          targets: targets.map((t) => ({ ...t, median: m(t.id), rounds: results[t.id] })),
          ratios: {
            hitOverCeiling: ceilingRatio,
            hitOverCeilingRounds: ceilingRatioRounds,
            hitOverNginx: nginxRatio,
            hitOverHelloWithHitHeaders: hitOverHeadersCeiling,
            helloWithHitHeadersOverCeiling: headersCeilingOverCeiling,
          },
          interleaved,
          missOverheadMs: {
            c1: missOverheadC1,
            loaded: missOverheadLoaded,
            bareFetchC1: bareFetchOverhead,
            nginxPassC1: nginxPassOverhead,
          },
          workerdCpu: {
            clockTicksPerSecond: HZ,
            hitOverHello: cpuHitOverHello,
            missMinusBareFetchC1UsPerReq: cpuMissOverBareFetch,
          },
          goals,
        },
        null,
        2,
      ),
    );
    log(`results written to ${file}`);
  }
  log(`done in ${Math.round((Date.now() - started) / 1000)} s`);
}

function sum(obj) {
  return Object.values(obj).reduce((a, b) => a + b, 0);
}

/** Secrets from `.dev.vars` (KEY=VALUE lines), which `wrangler dev` would also bind. */
function readDevVars() {
  let text;
  try {
    text = readFileSync(join(ROOT, ".dev.vars"), "utf8");
  } catch {
    return {};
  }
  const vars = {};
  for (const line of text.split("\n")) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) vars[m[1]] = m[2].replace(/^"(.*)"$/, "$1");
  }
  return vars;
}

main()
  .then(() => cleanup())
  .catch(async (err) => {
    // After Ctrl-C the signal handler reports and exits; the interrupted step's error is noise.
    if (isStopping()) return;
    process.stderr.write(`bench:edge failed: ${err?.stack ?? err}\n`);
    await cleanup();
    process.exitCode = 1;
  });
