/**
 * The browser tests drive Debian's Chromium at /usr/bin/chromium. On a fresh machine it is
 * missing: when apt-get is there and we may use it (root, or passwordless sudo) it is installed
 * here with apt's own progress output; otherwise one line says what to install. Used by the e2e
 * project's globalSetup, so `npm test` after `npm install` works on a fresh Debian as root.
 * `node scripts/ensure-chromium.mjs` runs it on its own.
 *
 * Types: scripts/ensure-chromium.d.mts.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { pathToFileURL } from "node:url";

export const CHROMIUM_PATH = "/usr/bin/chromium";

/**
 * Launch flags for headless Chromium in the tests and the lab: no sandbox (root in CI), no GPU,
 * no QUIC, and none of the background traffic Chromium starts on its own.
 */
export const QUIET_CHROMIUM_ARGS = Object.freeze([
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
]);

const defaults = {
  exists: existsSync,
  /** Runs a command with the terminal attached (apt's progress shows); returns its exit code. */
  run: (cmd, args, env) =>
    spawnSync(cmd, args, { stdio: "inherit", env: { ...process.env, ...env } }).status ?? 1,
  /** True when `cmd` is on PATH. */
  has: (cmd) => spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0,
  isRoot: () => process.getuid?.() === 0,
  canSudo: () => spawnSync("sudo", ["-n", "true"], { stdio: "ignore" }).status === 0,
  log: (line) => console.log(line),
};

/**
 * Makes sure Chromium is at `path` (default /usr/bin/chromium). Resolves to "present" or
 * "installed"; throws an Error whose message is one line saying what to install otherwise.
 * Every effect is injectable for tests.
 */
export function ensureChromium(opts = {}) {
  const d = { ...defaults, ...opts };
  const path = opts.path ?? CHROMIUM_PATH;
  if (d.exists(path)) return "present";
  const manual = `The browser tests need Chromium at ${path}: install it (Debian/Ubuntu: apt-get install chromium) and run npm test again.`;
  if (!d.has("apt-get")) throw new Error(manual);
  let prefix = [];
  if (!d.isRoot()) {
    if (!(d.has("sudo") && d.canSudo())) throw new Error(`${manual.slice(0, -1)} (as root, or with sudo).`);
    prefix = ["sudo"];
  }
  const apt = (args) => {
    const [cmd, ...rest] = [...prefix, "apt-get", ...args];
    return d.run(cmd, rest, { DEBIAN_FRONTEND: "noninteractive" });
  };
  d.log(`Chromium is missing at ${path}; installing it with apt-get for the browser tests (one time)…`);
  if (apt(["update"]) !== 0)
    throw new Error(`apt-get update failed, so Chromium could not be installed. ${manual}`);
  if (apt(["install", "-y", "--no-install-recommends", "chromium"]) !== 0 || !d.exists(path)) {
    throw new Error(`apt-get install chromium failed. ${manual}`);
  }
  d.log(`Chromium installed at ${path}.`);
  return "installed";
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  try {
    ensureChromium();
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  }
}
