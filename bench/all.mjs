/**
 * `npm run bench`: runs bench:edge, bench:rum and bench:images in sequence (each only if its
 * script file exists); each prints its own table. Options differ per benchmark, so none are
 * passed on (run `npm run bench:<name> -- …` for those). Exits non-zero if any benchmark
 * failed, after running the rest; Ctrl-C stops the current one and runs no further ones.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const benches = [
  ["bench:edge", "edge.mjs"],
  ["bench:rum", "rum.mjs"],
  ["bench:images", "images.mjs"],
];

let child;
let stopped = false;
const forward = (sig) => {
  stopped = true;
  // The child cleans up its own process groups on SIGINT/SIGTERM.
  if (child) child.kill(sig);
  else process.exit(130);
};
process.on("SIGINT", forward);
process.on("SIGTERM", forward);

const failed = [];
for (const [name, file] of benches) {
  if (stopped) break;
  const path = join(here, file);
  if (!existsSync(path)) {
    console.log(`\n# ${name}: skipped (bench/${file} does not exist yet)`);
    continue;
  }
  console.log(`\n# ${name}`);
  const code = await new Promise((resolve) => {
    child = spawn(process.execPath, [path], { stdio: "inherit" });
    child.on("exit", (c, sig) => resolve(sig ? 128 : (c ?? 1)));
  });
  child = undefined;
  if (code !== 0) failed.push(`${name} (exit ${code})`);
}
if (stopped) {
  console.error("\nstopped");
  process.exitCode = 130;
} else if (failed.length > 0) {
  console.error(`\nfailed: ${failed.join(", ")}`);
  process.exitCode = 1;
}
