/**
 * The benchmarks' peers (programs measured next to the product): which Debian package provides
 * each, finding them on PATH, and installing the missing ones with apt-get when that is allowed
 * (root, apt-get present, BENCH_INSTALL_PEERS not "0"), with progress output. Never throws:
 * callers get the list of peers still missing and skip what needs them, with one clear line: the
 * row that needs it (ROW_PEERS), or the whole benchmark when every row does (wrk).
 */
import { spawn, spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/** Peer program → Debian package (bookworm/trixie names). */
export const PEER_PACKAGES = Object.freeze({
  nginx: "nginx-light",
  wrk: "wrk",
  vipsthumbnail: "libvips-tools",
  convert: "imagemagick",
});

/**
 * Peers whose name alone proves nothing (another program can be called `convert`): the output of
 * the version probe must match.
 */
const PROBES = Object.freeze({ convert: { args: ["-version"], expect: /^Version: ImageMagick/m } });

/** True when `bin` is on PATH and, for probed peers, answers its version probe as expected. */
export function hasPeer(bin) {
  const path = which(bin);
  if (!path) return false;
  const probe = PROBES[bin];
  if (!probe) return true;
  const r = spawnSync(path, probe.args, { encoding: "utf8", timeout: 10_000 });
  return probe.expect.test(`${r.stdout ?? ""}${r.stderr ?? ""}`);
}

/** Peers each benchmark spawns. */
export const BENCH_PEERS = Object.freeze({
  "bench:edge": ["nginx", "wrk"],
  // bench:rum drives its load with its own client (bench/lib/beacon-client.mjs), not wrk.
  "bench:rum": [],
  "bench:images": ["vipsthumbnail", "convert"],
});

/** Path of executable `bin` (a path, or a name looked up on PATH, /usr/sbin and /sbin), or null. */
export function which(bin, path = process.env.PATH ?? "") {
  if (bin.includes("/")) {
    try {
      accessSync(bin, constants.X_OK);
      return bin;
    } catch {
      return null;
    }
  }
  const dirs = [...path.split(delimiter), "/usr/local/sbin", "/usr/sbin", "/sbin"].filter(Boolean);
  for (const dir of dirs) {
    const file = join(dir, bin);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // Not here.
    }
  }
  return null;
}

/** Why peers cannot be installed here, or null when apt-get may be used. */
export function installBlockedReason(env = process.env) {
  if (env.BENCH_INSTALL_PEERS === "0") return "BENCH_INSTALL_PEERS=0";
  if (typeof process.getuid === "function" && process.getuid() !== 0) return "not root";
  if (!which("apt-get")) return "no apt-get";
  return null;
}

/** Runs `cmd args`, printing each output line with `prefix`; resolves to the exit code. */
function runWithProgress(cmd, args, log, timeoutMs) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const timer = setTimeout(() => {
      log(`  ${cmd}: no result in ${timeoutMs / 1000} s, stopping it`);
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {}
    }, timeoutMs);
    const onData = (d) => {
      for (const line of String(d).split("\n")) if (line.trim()) log(`  ${cmd} | ${line.trimEnd()}`);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("error", (err) => {
      clearTimeout(timer);
      log(`  ${cmd}: ${err.message}`);
      resolve(127);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve(code ?? 1);
    });
  });
}

let updated = false;

/**
 * Makes sure the peers `bins` are on PATH: installs the missing ones' packages when allowed
 * (`apt-get install`, after one `apt-get update` per process if the first try fails). Returns
 * { missing: [{ bin, pkg, why }] } for the peers still missing; logs through `log`.
 */
export async function ensurePeers(bins, { log = console.log, timeoutMs = 600_000 } = {}) {
  const absent = bins.filter((b) => !hasPeer(b));
  if (absent.length === 0) return { missing: [] };
  const pkgs = [...new Set(absent.map((b) => PEER_PACKAGES[b] ?? b))];
  const blocked = installBlockedReason();
  if (blocked) {
    return {
      missing: absent.map((bin) => ({ bin, pkg: PEER_PACKAGES[bin], why: `not installed (${blocked})` })),
    };
  }
  log(`installing ${pkgs.join(", ")} for ${absent.join(", ")} (apt-get)…`);
  const install = () =>
    runWithProgress("apt-get", ["install", "-y", "--no-install-recommends", "-q", ...pkgs], log, timeoutMs);
  let code = await install();
  if (code !== 0 && !updated) {
    updated = true;
    log("apt-get install failed; refreshing the package lists (apt-get update) and trying again…");
    await runWithProgress("apt-get", ["update", "-q"], log, timeoutMs);
    code = await install();
  }
  const missing = absent
    .filter((b) => !hasPeer(b))
    .map((bin) => ({ bin, pkg: PEER_PACKAGES[bin], why: `apt-get install failed (exit ${code})` }));
  if (missing.length === 0) log(`installed ${pkgs.join(", ")}`);
  return { missing };
}

/** One line naming the missing peers and their packages. */
export function missingLine(missing) {
  return missing.map((m) => `${m.bin} (Debian package ${m.pkg}: ${m.why})`).join(", ");
}

/**
 * Peers only some rows of a benchmark need, with the rows' label: when one is missing, those rows
 * are skipped (one line each) and the rest of the benchmark runs. Every other peer in BENCH_PEERS
 * is one the whole benchmark needs (wrk drives every edge and RUM row).
 */
export const ROW_PEERS = Object.freeze({
  "bench:edge": { nginx: "nginx proxy_cache / proxy_pass" },
  "bench:images": { vipsthumbnail: "vipsthumbnail", convert: "ImageMagick convert" },
});

/** Env var through which `npm run bench` tells a benchmark the peers it found missing. */
export const MISSING_ENV = "BENCH_MISSING_PEERS";

/**
 * What a benchmark does with its `missing` peers ([{ bin, pkg, why }]): { skipLine } when a peer
 * the whole benchmark needs is missing (one line, the benchmark is skipped), else { rowLines,
 * available } (one line per skipped row; `available` = the row peers present).
 */
export function peerPlan(bench, missing) {
  const rows = ROW_PEERS[bench] ?? {};
  const whole = missing.filter((m) => !(m.bin in rows));
  if (whole.length > 0) return { skipLine: `${bench}: skipped — missing ${missingLine(whole)}` };
  const gone = new Set(missing.map((m) => m.bin));
  return {
    skipLine: null,
    rowLines: missing.map((m) => `${bench}: row "${rows[m.bin]}" skipped — missing ${missingLine([m])}`),
    available: new Set(Object.keys(rows).filter((b) => !gone.has(b))),
  };
}

/** The missing peers `npm run bench` passed in `value` (comma-separated names), null when unset. */
export function parseMissingEnv(value) {
  if (value === undefined) return null;
  return value
    .split(",")
    .map((b) => b.trim())
    .filter(Boolean)
    .map((bin) => ({ bin, pkg: PEER_PACKAGES[bin] ?? bin, why: "not found by npm run bench" }));
}

/**
 * For a benchmark: its missing peers (from `npm run bench` through BENCH_MISSING_PEERS, or found
 * and installed here when run on its own). A missing peer the whole benchmark needs: prints one
 * line and exits with code 3 (the runner reports the benchmark as skipped). A missing row peer:
 * prints one line per skipped row. Returns the set of row peers that are available.
 */
export async function requirePeersOrSkip(bench, log = console.log) {
  const missing =
    parseMissingEnv(process.env[MISSING_ENV])?.filter((m) => BENCH_PEERS[bench]?.includes(m.bin)) ??
    (await ensurePeers(BENCH_PEERS[bench] ?? [], { log })).missing;
  const plan = peerPlan(bench, missing);
  if (plan.skipLine) {
    console.log(plan.skipLine);
    process.exit(SKIPPED_EXIT);
  }
  for (const line of plan.rowLines) console.log(line);
  return plan.available;
}

/** Exit code of a benchmark that skipped itself for a missing peer. */
export const SKIPPED_EXIT = 3;
