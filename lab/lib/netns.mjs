/**
 * The lab's network namespaces: client, edge and origin, named `edgerum-lab-<pid>-<role>` so
 * that runs never touch each other's (or anyone else's) namespaces, and a run left behind by a
 * killed lab is recognised (its pid is gone) and removed at the next start.
 * Addresses: last mile 192.0.2.0/24 (client .1, edge .2), middle mile 198.51.100.0/24 (edge .1,
 * origin .2), both documentation ranges, only inside these namespaces.
 */
import { execFileSync, spawnSync } from "node:child_process";

export const PREFIX = "edgerum-lab-";
export const ADDR = Object.freeze({
  client: "192.0.2.1",
  edge: "192.0.2.2",
  edgeToOrigin: "198.51.100.1",
  origin: "198.51.100.2",
});
/** TUN device names inside the namespaces (last mile: lm-*, middle mile: mm-*). */
export const DEV = Object.freeze({ client: "lm-c", edgeLast: "lm-e", edgeMiddle: "mm-e", origin: "mm-o" });

function ip(args) {
  const r = spawnSync("ip", args, { encoding: "utf8" });
  if (r.status !== 0)
    throw new Error(`ip ${args.join(" ")} failed: ${(r.stderr || r.error?.message || "").trim()}`);
  return r.stdout;
}

/** Why the lab cannot run here, or null when it can (see probe.mjs: it tries, not asks). */
export { labUnavailableReason } from "./probe.mjs";

/** The lab's namespace names for this process. */
export function namespaceNames(pid = process.pid) {
  return { client: `${PREFIX}${pid}-client`, edge: `${PREFIX}${pid}-edge`, origin: `${PREFIX}${pid}-origin` };
}

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === "EPERM";
  }
}

/** Kills every process inside namespace `ns` (SIGKILL) and deletes it; ignores a missing one. */
export function deleteNamespace(ns) {
  const pids = spawnSync("ip", ["netns", "pids", ns], { encoding: "utf8" }).stdout ?? "";
  for (const p of pids.split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(p), "SIGKILL");
    } catch {
      // Gone already.
    }
  }
  spawnSync("ip", ["netns", "delete", ns]);
}

/** Removes namespaces left by lab runs whose process is gone; returns their names. */
export function removeStaleNamespaces() {
  const out = spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout ?? "";
  const removed = [];
  for (const line of out.split("\n")) {
    const name = line.split(" ")[0] ?? "";
    const m = new RegExp(`^${PREFIX}(\\d+)-`).exec(name);
    if (m && !pidAlive(Number(m[1]))) {
      deleteNamespace(name);
      removed.push(name);
    }
  }
  return removed;
}

/** Creates the three namespaces with loopback up; returns their names. */
export function createNamespaces() {
  const ns = namespaceNames();
  for (const name of Object.values(ns)) {
    ip(["netns", "add", name]);
    ip(["-n", name, "link", "set", "lo", "up"]);
  }
  return ns;
}

/** Addresses the TUN devices the delay links created (point-to-point) and brings them up. */
export function configureLinks(ns) {
  const p2p = (name, dev, local, peer) => {
    ip(["-n", name, "addr", "add", local, "peer", peer, "dev", dev]);
    ip(["-n", name, "link", "set", dev, "up"]);
  };
  p2p(ns.client, DEV.client, ADDR.client, ADDR.edge);
  p2p(ns.edge, DEV.edgeLast, ADDR.edge, ADDR.client);
  p2p(ns.edge, DEV.edgeMiddle, ADDR.edgeToOrigin, ADDR.origin);
  p2p(ns.origin, DEV.origin, ADDR.origin, ADDR.edgeToOrigin);
}

/** Deletes this run's namespaces (and anything still inside them). */
export function deleteNamespaces(ns) {
  for (const name of Object.values(ns)) deleteNamespace(name);
}

/** `cmd args` prefixed so that it runs inside namespace `ns`, at real-time priority when `rt`. */
export function inNamespace(ns, cmd, args, { rt = false } = {}) {
  const inner = rt ? ["chrt", "-f", "20", cmd, ...args] : [cmd, ...args];
  return ["ip", ["netns", "exec", ns, ...inner]];
}

/** True if `chrt -f 20` is allowed here (root, RT scheduling not blocked by the container). */
export function realtimeAllowed() {
  try {
    execFileSync("chrt", ["-f", "20", "true"]);
    return true;
  } catch {
    return false;
  }
}
