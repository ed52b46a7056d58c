/**
 * Processes of the lab: every child is its own process group (setsid via `detached`), so ending
 * it ends whatever it spawned; stdout is read line by line, stderr kept for error messages.
 * `stopAll()` ends every group still running (SIGTERM, then SIGKILL after a grace period).
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

const running = new Set();
let refusing = false;

/** After this, `startProcess` throws: a run that is being stopped starts nothing new. */
export function refuseNewProcesses() {
  refusing = true;
}

/**
 * Spawns `cmd args` in its own process group with piped stdio. `onLine(line)` gets each stdout
 * line. Returns { name, child, exited, exitInfo, tail(), waitFor(regex, ms), write(text) }.
 */
export function startProcess(name, cmd, args, { env = process.env, cwd, onLine } = {}) {
  if (refusing) throw new Error(`not starting ${name}: the lab is stopping`);
  const child = spawn(cmd, args, { detached: true, stdio: ["pipe", "pipe", "pipe"], env, cwd });
  const lines = [];
  const waiters = new Set();
  const entry = {
    name,
    child,
    exited: false,
    exitInfo: "",
    /** The last `n` lines of stdout and stderr (default 30), for error messages. */
    tail: (n = 30) => lines.slice(-n).join("\n"),
    /** Resolves with the first stdout line (from now on) matching `re`; rejects on exit or timeout. */
    waitFor(re, ms = 20_000) {
      return new Promise((resolve, reject) => {
        const w = {
          test: (line) => {
            if (!re.test(line)) return false;
            clearTimeout(w.timer);
            resolve(line);
            return true;
          },
          fail: (why) => {
            clearTimeout(w.timer);
            reject(new Error(`${name}: ${why} while waiting for ${re}:\n${entry.tail()}`));
          },
        };
        w.timer = setTimeout(() => {
          waiters.delete(w);
          w.fail(`no answer in ${ms} ms`);
        }, ms);
        if (entry.exited) return w.fail(`exited (${entry.exitInfo})`);
        waiters.add(w);
      });
    },
    write(text) {
      if (!entry.exited) child.stdin.write(text);
    },
  };
  child.stdin.on("error", () => {});
  createInterface({ input: child.stdout }).on("line", (line) => {
    lines.push(line);
    if (lines.length > 200) lines.shift();
    for (const w of waiters) if (w.test(line)) waiters.delete(w);
    onLine?.(line);
  });
  createInterface({ input: child.stderr }).on("line", (line) => {
    lines.push(`[stderr] ${line}`);
    if (lines.length > 200) lines.shift();
  });
  child.on("error", (err) => {
    entry.exitInfo = String(err.message);
  });
  child.on("exit", (code, signal) => {
    entry.exited = true;
    entry.exitInfo = entry.exitInfo || (signal ? `signal ${signal}` : `exit code ${code}`);
    running.delete(entry);
    for (const w of waiters) w.fail(`exited (${entry.exitInfo})`);
    waiters.clear();
  });
  running.add(entry);
  return entry;
}

function killGroup(entry, signal) {
  try {
    process.kill(-entry.child.pid, signal);
  } catch {
    // The group is gone already.
  }
}

/** Ends one child's process group: SIGTERM, then SIGKILL after `graceMs` (default 1500). */
export async function stopProcess(entry, graceMs = 1500) {
  if (!entry || entry.child.pid === undefined) return;
  killGroup(entry, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (!entry.exited && Date.now() < deadline) await sleep(20);
  killGroup(entry, "SIGKILL");
  running.delete(entry);
}

/** The last lines of every child still running, for a failed run's report. */
export function runningTails(n = 15) {
  return [...running].map((e) => `--- ${e.name} ---\n${e.tail(n)}`).join("\n");
}

/** Ends every child still running (in parallel). */
export async function stopAll() {
  await Promise.all([...running].map((e) => stopProcess(e)));
}

/** Last resort for `process.on("exit")`: SIGKILL every group still running. */
export function killAllSync() {
  for (const e of running) killGroup(e, "SIGKILL");
  running.clear();
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}
