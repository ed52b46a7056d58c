/**
 * CPU time of a process from `/proc/<pid>/stat` (Linux): user + system time of all its threads.
 * Sampled before and after a fixed load, it gives CPU µs per request, which is far steadier than
 * req/s or latency on a shared, busy machine (other processes slow us down but do not add to
 * our CPU time).
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** Clock ticks per second for /proc times (`getconf CLK_TCK`; default 100, the Linux USER_HZ). */
export function clockTicksPerSecond() {
  const r = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" });
  const n = Number((r.stdout ?? "").trim());
  return Number.isInteger(n) && n > 0 ? n : 100;
}

/** utime + stime (ticks) from the text of `/proc/<pid>/stat`; the command name may hold spaces and ")". */
export function parseProcStatTicks(text) {
  const close = text.lastIndexOf(")");
  if (close === -1) throw new Error(`not a /proc/<pid>/stat line: ${JSON.stringify(text.slice(0, 80))}`);
  // Fields after "pid (comm) ": state is field 3, utime field 14, stime field 15.
  const f = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  const utime = Number(f[11]);
  const stime = Number(f[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime))
    throw new Error("no utime/stime in /proc stat line");
  return utime + stime;
}

/** CPU seconds used so far by `pid` (NaN when /proc is not readable, e.g. not Linux). */
export function processCpuSeconds(pid, ticksPerSecond = 100) {
  try {
    return parseProcStatTicks(readFileSync(`/proc/${pid}/stat`, "utf8")) / ticksPerSecond;
  } catch {
    return Number.NaN;
  }
}
