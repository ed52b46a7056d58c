/**
 * The userspace delay link (lab/link/delay-link.c), compiled at lab start and run at real-time
 * priority: one process per pair of namespaces, delays changeable at run time. It reports every
 * TCP SYN and the first packet of every HTTP request and response it forwards, stamped with
 * CLOCK_MONOTONIC: the lab's witness of new connections and of each server's time on a request.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startProcess } from "./children.mjs";

const SOURCE = join(dirname(fileURLToPath(import.meta.url)), "..", "link", "delay-link.c");

/** Compiles the delay link (cached by source hash under the temp dir); returns the binary path. */
export function buildDelayLink() {
  const src = readFileSync(SOURCE);
  const hash = createHash("sha256").update(src).digest("hex").slice(0, 12);
  const dir = join(tmpdir(), "edgerum-lab-build");
  const bin = join(dir, `delay-link-${hash}`);
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  const r = spawnSync("cc", ["-O2", "-Wall", "-o", bin, SOURCE], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`compiling ${SOURCE} failed:\n${r.stderr || r.error?.message}`);
  return bin;
}

/** Microseconds of CLOCK_MONOTONIC, the clock the link stamps its events with. */
export function monoUs() {
  return Number(process.hrtime.bigint() / 1000n);
}

/**
 * Starts a delay link between TUN `devA` in namespace `nsA` and `devB` in `nsB` (run with
 * `chrt -f 20` when `rt`). Returns { setDelay(oneWayMs, {lossPct, rateKbit}), events(), stats(),
 * entry }.
 */
export async function startDelayLink(name, bin, { nsA, devA, nsB, devB, rt }) {
  const events = [];
  const cmd = rt ? "chrt" : bin;
  const args = rt ? ["-f", "20", bin, nsA, devA, nsB, devB] : [nsA, devA, nsB, devB];
  const entry = startProcess(name, cmd, args, {
    onLine: (line) => {
      const m = /^(syn|req|res|dat) (ab|ba) (\d+) (\S+) (\S+) ?(.*)$/.exec(line);
      if (m) events.push({ kind: m[1], dir: m[2], tUs: Number(m[3]), src: m[4], dst: m[5], text: m[6] });
      if (events.length > 200_000) events.splice(0, 100_000);
    },
  });
  await entry.waitFor(/^ready$/, 5000);
  let queue = Promise.resolve();
  const command = (text, answer) => {
    // One command at a time: answers come back in order on stdout.
    queue = queue.then(() => {
      const p = entry.waitFor(answer, 5000);
      entry.write(`${text}\n`);
      return p;
    });
    return queue;
  };
  return {
    entry,
    /** Sets the one-way delay (ms, both directions), loss (%, default 0) and rate cap (kbit/s, 0 = none). */
    async setDelay(oneWayMs, { lossPct = 0, rateKbit = 0 } = {}) {
      const us = Math.round(oneWayMs * 1000);
      await command(`set ${us} ${us} ${Math.round(lossPct * 10_000)} ${Math.round(rateKbit)}`, /^ok$/);
    },
    /** Events seen so far: { kind: syn|req|res|dat, dir: ab|ba, tUs, src, dst, text } (request/status line, or a data length). */
    events() {
      return events;
    },
    async stats() {
      const line = await command("stats", /^stats /);
      return JSON.parse(line.slice(6));
    },
  };
}
