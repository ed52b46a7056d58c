/**
 * Runs wrk against a loopback URL and parses its `--latency` report.
 */
import { runChild } from "./procs.mjs";

/** Converts a wrk duration ("812.00us", "1.23ms", "1.02s", "2m") to milliseconds. */
export function wrkDurationMs(text) {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (!m) throw new Error(`unparsable wrk duration ${JSON.stringify(text)}`);
  const v = Number(m[1]);
  return m[2] === "us" ? v / 1000 : m[2] === "ms" ? v : m[2] === "s" ? v * 1000 : v * 60_000;
}

/**
 * Parses wrk 4.x output (with `--latency`) into { rps, p50, p75, p90, p99 (ms), requests,
 * non2xx, socketErrors }; throws if the summary lines are missing.
 */
export function parseWrk(out) {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const reqs = /(\d+) requests in ([\d.]+\w+)/.exec(out);
  if (!rps || !reqs) throw new Error(`wrk output not understood:\n${out}`);
  const pct = (p) => {
    const m = new RegExp(`^\\s+${p}%\\s+(\\S+)`, "m").exec(out);
    return m ? wrkDurationMs(m[1]) : Number.NaN;
  };
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    rps: Number(rps[1]),
    p50: pct(50),
    p75: pct(75),
    p90: pct(90),
    p99: pct(99),
    requests: Number(reqs[1]),
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    socketErrors: sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
  };
}

/**
 * Runs `wrk -t<threads> -c<connections> -d<seconds>s --latency url` (defaults 1/16/5) and
 * returns the parsed result. Refuses anything but a loopback URL.
 */
export async function runWrk(url, { threads = 1, connections = 16, seconds = 5 } = {}) {
  const host = new URL(url).hostname;
  if (host !== "127.0.0.1" && host !== "localhost" && host !== "[::1]") {
    throw new Error(`refusing to load-test a non-loopback target: ${url}`);
  }
  const args = [`-t${threads}`, `-c${connections}`, `-d${seconds}s`, "--latency", url];
  const { code, stdout, stderr } = await runChild("wrk", "wrk", args);
  if (code !== 0) throw new Error(`wrk ${args.join(" ")} failed (${code}): ${stderr}${stdout}`);
  return parseWrk(stdout);
}
