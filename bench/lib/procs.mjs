/**
 * Child-process bookkeeping for benchmarks: every child runs in its own process group
 * (detached) so that stopping it also stops whatever it spawned; temp dirs are removed on
 * exit; Ctrl-C, SIGTERM and uncaught errors all go through the same cleanup.
 */
import { spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../scripts/stack.mjs";

const children = new Set();
const tempDirs = new Set();
let cleanedUp = false;

/** Makes a temp dir that is removed by `cleanup()` (prefix defaults to "bench-"). */
export function makeTempDir(prefix = "bench-") {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/**
 * Spawns `cmd args` detached (own process group) with stdout/stderr to `<logDir>/<name>.log`
 * (defaults: env inherited, cwd = process.cwd()). Returns the child plus its log path.
 */
export function startChild(name, cmd, args, { logDir, env = process.env, cwd = process.cwd() } = {}) {
  if (cleanedUp) throw new Error(`not starting ${name}: the run is stopping`);
  const logPath = join(logDir ?? makeTempDir("bench-log-"), `${name}.log`);
  const fd = openSync(logPath, "a");
  const child = spawn(cmd, args, { detached: true, stdio: ["ignore", fd, fd], env, cwd });
  closeSync(fd);
  const entry = { name, child, logPath, exited: false };
  child.on("exit", (code, signal) => {
    entry.exited = true;
    entry.exitInfo = signal ? `signal ${signal}` : `exit code ${code}`;
    children.delete(entry);
  });
  children.add(entry);
  return entry;
}

/** Last `lines` lines of a child's log (default 20), for error messages. */
export function logTail(entry, lines = 20) {
  try {
    return readFileSync(entry.logPath, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/** Sends `signal` to the child's whole process group; ignores groups that are already gone. */
function killGroup(entry, signal) {
  try {
    process.kill(-entry.child.pid, signal);
  } catch {
    // Group already gone.
  }
}

/** Stops one child: SIGTERM to its group, SIGKILL after `graceMs` (default 2000). */
export async function stopChild(entry, graceMs = 2000) {
  if (!entry) return;
  killGroup(entry, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (!entry.exited && Date.now() < deadline) await sleep(25);
  // The leader may be gone while grandchildren linger: SIGKILL the group either way.
  killGroup(entry, "SIGKILL");
  children.delete(entry);
}

/** True once `cleanup()` has started (e.g. after Ctrl-C). */
export function isStopping() {
  return cleanedUp;
}

/** Stops every child still running and removes every temp dir; safe to call twice. */
export async function cleanup() {
  if (cleanedUp) return;
  cleanedUp = true;
  await Promise.all([...children].map((c) => stopChild(c)));
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

/** Synchronous last resort for `process.on("exit")`: SIGKILL groups, remove temp dirs. */
function cleanupSync() {
  for (const c of children) killGroup(c, "SIGKILL");
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
}

/** Installs SIGINT/SIGTERM/uncaught-error handlers that clean up before exiting. */
export function installCleanupHandlers() {
  const onSignal = (sig) => {
    process.stderr.write(`\n${sig}: stopping children…\n`);
    cleanup().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  process.once("uncaughtException", (err) => {
    process.stderr.write(`${err?.stack ?? err}\n`);
    cleanup().finally(() => process.exit(1));
  });
  process.on("exit", cleanupSync);
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** A TCP port that was free on 127.0.0.1 a moment ago (the stack launcher's picker). */
export { freePort };

/**
 * `n` distinct TCP ports that were free on 127.0.0.1 a moment ago, picked below the kernel's
 * ephemeral range as the stack launcher picks them. Another process may still take one before
 * we bind it; callers retry with fresh ports (see `isPortInUse`).
 */
export async function freePorts(n) {
  const taken = new Set();
  for (let i = 0; i < n; i++) taken.add(await freePort(taken));
  return [...taken];
}

/** True if an error (e.g. from `waitForHttp` with a child's log) says a port was taken. */
export function isPortInUse(err) {
  return /EADDRINUSE|Address already in use/i.test(String(err?.message ?? err));
}

/**
 * Polls `url` until it answers any HTTP status (default timeout 15 s); throws with the child's
 * log tail if the child exits or time runs out.
 */
export async function waitForHttp(url, entry, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (entry?.exited) throw new Error(`${entry.name} exited (${entry.exitInfo}):\n${logTail(entry)}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      return;
    } catch {
      await sleep(50);
    }
  }
  throw new Error(
    `${entry?.name ?? url} did not answer within ${timeoutMs} ms:\n${entry ? logTail(entry) : ""}`,
  );
}

/**
 * Runs `cmd args` to completion in its own process group (stopped by `cleanup()` if the run
 * is interrupted) and resolves to { code, stdout, stderr }.
 */
export function runChild(name, cmd, args, { env = process.env, cwd = process.cwd() } = {}) {
  return new Promise((resolve, reject) => {
    if (cleanedUp) throw new Error(`not starting ${name}: the run is stopping`);
    const child = spawn(cmd, args, { detached: true, stdio: ["ignore", "pipe", "pipe"], env, cwd });
    const entry = { name, child, logPath: "", exited: false };
    children.add(entry);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("error", (err) => {
      children.delete(entry);
      reject(err);
    });
    child.on("close", (code, signal) => {
      entry.exited = true;
      children.delete(entry);
      // A child stopped by cleanup() must not look like a finished run.
      if (cleanedUp) reject(new Error(`${name} stopped: the run is stopping`));
      else resolve({ code: signal ? `signal ${signal}` : code, stdout, stderr });
    });
  });
}

/**
 * Picks free ports for `names`, calls `start(ports)` → { entry, readyUrl }, and waits until
 * the child answers and is still alive shortly after (so a stranger on a taken port is not
 * mistaken for it). Retries on fresh ports up to 3 times when a port was taken meanwhile
 * (reported through `log`).
 */
export async function startOnFreePorts(name, names, start, log = () => {}) {
  for (let attempt = 1; ; attempt++) {
    const list = await freePorts(names.length);
    const ports = Object.fromEntries(names.map((n, i) => [n, list[i]]));
    const { entry, readyUrl } = start(ports);
    try {
      await waitForHttp(readyUrl, entry);
      await sleep(150);
      if (entry.exited) throw new Error(`${name} exited (${entry.exitInfo}):\n${logTail(entry)}`);
      return { entry, ports };
    } catch (err) {
      await stopChild(entry);
      if (attempt >= 3 || !isPortInUse(err)) throw err;
      log(`${name}: a port was taken meanwhile, retrying on fresh ports`);
    }
  }
}
