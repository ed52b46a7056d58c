/**
 * Finds the workerd process a Miniflare instance started, so the RUM benchmark can read its CPU
 * time from /proc (bench/lib/proc-cpu.mjs). Miniflare spawns workerd as a direct child of this
 * Node process; comparing the children before and after `mf.ready` identifies the new one.
 */
import { readdirSync, readFileSync } from "node:fs";

/** PIDs of this process's direct children named `name` (default "workerd"); empty when /proc is unreadable. */
export function childPids(name = "workerd", parent = process.pid) {
  const out = new Set();
  let entries;
  try {
    entries = readdirSync("/proc");
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${e}/stat`, "utf8");
    } catch {
      continue; // exited meanwhile
    }
    const open = stat.indexOf("(");
    const close = stat.lastIndexOf(")");
    if (open === -1 || close === -1) continue;
    const comm = stat.slice(open + 1, close);
    const ppid = Number(stat.slice(close + 2).split(" ")[1]);
    if (ppid === parent && comm === name) out.add(Number(e));
  }
  return out;
}

/** Runs `start()` and returns its result with `pid`: the one workerd child it added (NaN if not exactly one). */
export async function withNewWorkerdPid(start) {
  const before = childPids();
  const result = await start();
  const added = [...childPids()].filter((p) => !before.has(p));
  return { ...result, pid: added.length === 1 ? added[0] : Number.NaN };
}
