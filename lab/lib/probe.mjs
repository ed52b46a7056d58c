/**
 * "Can the lab run here?": tries what the lab needs instead of asking politely. `ip netns list`
 * succeeds without CAP_SYS_ADMIN, so the probe creates and deletes a throwaway namespace (unique
 * name), opens /dev/net/tun (a character device), finds Chromium (LAB_CHROMIUM or
 * /usr/bin/chromium), `chrt` and a C compiler (`cc`, the delay link is compiled at start).
 * The decision (`unavailableReason`) takes its probes injected, so it is tested without root.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { accessSync, closeSync, constants, openSync, statSync } from "node:fs";
import { delimiter, join } from "node:path";
import { CHROMIUM_PATH } from "./browser.mjs";

/** First line of a command's error output, for a one-line reason. */
const firstLine = (text) => (text ?? "").trim().split("\n")[0] ?? "";

/** Path of executable `bin` on PATH (or `bin` itself when it is a path), or null. */
function findExecutable(bin, path = process.env.PATH ?? "") {
  const candidates = bin.includes("/")
    ? [bin]
    : path
        .split(delimiter)
        .filter(Boolean)
        .map((d) => join(d, bin));
  for (const file of candidates) {
    try {
      accessSync(file, constants.X_OK);
      if (statSync(file).isFile()) return file;
    } catch {
      // Not here.
    }
  }
  return null;
}

/** The real probes: each does the thing (or the nearest harmless form of it) and reports. */
export function systemProbes() {
  const run = (cmd, args) => {
    const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 10_000 });
    return { status: r.status, stderr: r.stderr ?? "", error: r.error?.message ?? null };
  };
  return {
    platform: process.platform,
    uid: typeof process.getuid === "function" ? process.getuid() : null,
    ip: (args) => run("ip", args),
    /** Opens /dev/net/tun read-write and closes it; null when that worked, else why not. */
    tun() {
      const path = "/dev/net/tun";
      try {
        if (!statSync(path).isCharacterDevice()) return `${path} is not a character device`;
        closeSync(openSync(path, "r+"));
        return null;
      } catch (err) {
        return `${path} cannot be opened (${err.code ?? err.message})`;
      }
    },
    which: (bin) => findExecutable(bin),
    chromiumPath: CHROMIUM_PATH,
    // Named like the lab's own, so a probe namespace left by a killed process is removed as stale.
    uniqueName: () => `edgerum-lab-${process.pid}-probe-${randomBytes(4).toString("hex")}`,
  };
}

/**
 * Why the lab cannot run with `probes` (see systemProbes for their shape), as one line, or null
 * when it can. Stops at the first missing piece; a throwaway namespace it created is deleted.
 */
export function unavailableReason(probes) {
  if (probes.platform !== "linux") return `needs Linux (this is ${probes.platform})`;
  if (probes.uid !== null && probes.uid !== 0) return "needs root (ip netns, TUN)";
  const name = probes.uniqueName();
  const add = probes.ip(["netns", "add", name]);
  if (add.error) return `\`ip\` is not available (${add.error})`;
  if (add.status !== 0) {
    return `cannot create a network namespace (\`ip netns add\`: ${firstLine(add.stderr) || `exit ${add.status}`}); needs CAP_SYS_ADMIN`;
  }
  const del = probes.ip(["netns", "delete", name]);
  if (del.status !== 0) {
    return `cannot delete a network namespace (\`ip netns delete ${name}\`: ${firstLine(del.stderr) || `exit ${del.status}`})`;
  }
  const tun = probes.tun();
  if (tun) return `${tun}; the delay links need TUN`;
  if (!probes.which(probes.chromiumPath)) {
    return `no Chromium at ${probes.chromiumPath} (set LAB_CHROMIUM to its path)`;
  }
  if (!probes.which("chrt")) return "no `chrt` (util-linux) on PATH";
  if (!probes.which("cc")) return "no C compiler (`cc`) on PATH for the delay link";
  return null;
}

/** Why the lab cannot run on this machine, or null when it can. */
export function labUnavailableReason() {
  return unavailableReason(systemProbes());
}
