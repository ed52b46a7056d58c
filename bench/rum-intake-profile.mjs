/**
 * Development aid (not part of `npm run bench`): a V8 CPU profile of the collector intake on
 * workerd, set up as `npm run bench:rum` runs it (the `wrangler deploy --dry-run` bundle as an
 * intake process with the queue producer, a second process as consumer, joined by Miniflare's dev
 * registry), printed as self and total time per function. Options: --beacons N (default 10000),
 * --top N (40). Usage: `node bench/rum-intake-profile.mjs`.
 */

import { join } from "node:path";
import { convertV4MiniflareOptions, Miniflare, NoOpLog } from "miniflare";
import { numberOption } from "./lib/args.mjs";
import { sendBeacons } from "./lib/beacon-client.mjs";
import { inclusiveProfile, startCpuProfile, summariseProfile } from "./lib/cpu-profile.mjs";
import { applyMigrations } from "./lib/d1-migrations.mjs";
import { clockTicksPerSecond, processCpuSeconds } from "./lib/proc-cpu.mjs";
import { cleanup, freePort, installCleanupHandlers, makeTempDir, runChild, sleep } from "./lib/procs.mjs";
import { drainPhase } from "./lib/rum-store-phase.mjs";
import { rumBenchVars, rumWorkerOptions } from "./lib/rum-worker-options.mjs";
import { withNewWorkerdPid } from "./lib/rum-workerd-pid.mjs";

const root = join(import.meta.dirname, "..");
const args = process.argv.slice(2);
const opt = numberOption(args);
const BEACONS = opt("beacons", 10_000);
const TOP = opt("top", 40);
const CONSUMER = args.includes("--consumer");
installCleanupHandlers();
const tmp = makeTempDir("bench-rum-profile-");
const miniflares = [];

async function start(options) {
  return withNewWorkerdPid(async () => {
    const mf = new Miniflare(
      convertV4MiniflareOptions({ host: "127.0.0.1", port: 0, log: new NoOpLog(), ...options }),
    );
    miniflares.push(mf);
    return { mf, url: (await mf.ready).origin };
  });
}

function report(profile, units, label) {
  const spanUs = profile.endTime - profile.startTime;
  const per = (share) => ((share * spanUs) / units).toFixed(1);
  console.log(`\nself time (µs per ${label} of isolate time; idle/program shown for scale):`);
  for (const x of summariseProfile(profile, TOP + 3)) console.log(`  ${per(x.share).padStart(7)}  ${x.fn}`);
  console.log("\ntotal time (self + callees):");
  for (const x of inclusiveProfile(profile, TOP)) console.log(`  ${per(x.share).padStart(7)}  ${x.fn}`);
}

/** --consumer: profiles the consumer process while it drains a backlog (bench/lib/rum-store-phase.mjs). */
async function profileDrain(consumer, db, inspector) {
  const n = opt("drain", 20_000);
  const profiler = await startCpuProfile(inspector, "core:user:edge-rum-consumer");
  const hz = clockTicksPerSecond();
  const cpu0 = processCpuSeconds(consumer.pid, hz);
  const ts0 = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000;
  const run = await drainPhase({ mf: consumer.mf, db, n, site: "drain", ts0, sleep, log: () => {} });
  const cpuUs = ((processCpuSeconds(consumer.pid, hz) - cpu0) * 1e6) / run.stored;
  const profile = await profiler.stop();
  console.log(
    `${run.stored} stored, ${Math.round(run.storedPerS)}/s, workerd CPU ${Math.round(cpuUs)} µs/page view (profiler on)`,
  );
  report(profile, run.stored, "page view");
}

async function main() {
  const out = join(tmp, "dist");
  const built = await runChild(
    "wrangler-build",
    join(root, "node_modules/.bin/wrangler"),
    ["deploy", "--dry-run", "--outdir", out],
    {
      cwd: root,
      env: {
        ...process.env,
        CLOUDFLARE_CF_FETCH_ENABLED: "false",
        WRANGLER_SEND_METRICS: "false",
        WRANGLER_SEND_ERROR_REPORTS: "false",
      },
    },
  );
  if (built.code !== 0) throw new Error(`wrangler build failed:\n${built.stderr}`);
  const script = join(out, "index.js");
  const workerOptions = rumWorkerOptions(script, rumBenchVars("bench-query-token"));
  const registry = join(tmp, "dev-registry");
  const inspectorPort = await freePort();
  const consumer = await start({
    ...workerOptions,
    queueConsumers: { "rum-events": { maxBatchSize: 100, maxBatchTimeout: 1 } },
    name: "edge-rum-consumer",
    unsafeDevRegistryPath: registry,
    ...(CONSUMER ? { inspectorPort } : {}),
  });
  const db = await consumer.mf.getD1Database("DB");
  await applyMigrations(db);
  if (CONSUMER) return profileDrain(consumer, db, `http://127.0.0.1:${inspectorPort}`);
  const intakeInspector = await freePort();
  const intake = await start({
    ...workerOptions,
    name: "edge-rum",
    unsafeDevRegistryPath: registry,
    // Without Miniflare's inspector proxy, workerd's own inspector listens on this port.
    inspectorPort: intakeInspector,
  });
  console.error("warming up …");
  await sendBeacons({ baseUrl: intake.url, count: 3000, prefix: "warm" });
  console.error("profiling …");
  const hz = clockTicksPerSecond();
  const inspector = `http://127.0.0.1:${intakeInspector}`;
  const targets = await (await fetch(`${inspector}/json/list`)).json();
  console.error(`inspector targets: ${targets.map((t) => t.id).join(", ")}`);
  const profiler = await startCpuProfile(inspector, process.env.PROFILE_TARGET ?? "core:user:edge-rum");
  const cpu0 = processCpuSeconds(intake.pid, hz);
  const r = await sendBeacons({ baseUrl: intake.url, count: BEACONS, prefix: "prof" });
  const cpuUs = ((processCpuSeconds(intake.pid, hz) - cpu0) * 1e6) / r.ok;
  const profile = await profiler.stop();
  console.log(
    `${r.ok} accepted, ${r.bad} rejected, ${Math.round(r.rps)} beacons/s, workerd CPU ${Math.round(cpuUs)} µs/beacon (profiler on)`,
  );
  report(profile, r.ok, "beacon");
}

try {
  await main();
} catch (err) {
  console.error(`[rum-intake-profile] failed: ${err?.stack ?? err}`);
  process.exitCode = 1;
} finally {
  for (const mf of miniflares) await mf.dispose().catch(() => {});
  await cleanup();
}
