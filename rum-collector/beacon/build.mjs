// Builds the beacon: dist/beacon.js (script-tag build, default site "demo" or $RUM_BEACON_SITE),
// dist/rum.mjs (ESM npm entry with web-vitals bundled) and ../src/beacon-asset.generated.ts (what
// the Worker serves at /_rum/beacon.js). Rewrites a file only when its content changes.
// Usage: node rum-collector/beacon/build.mjs   (Node 22: imports the .ts helpers directly)
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import {
  BUILD_DEFAULT_SITE,
  buildBeaconTemplate,
  bundleScript,
  generatedModule,
  paths,
  withDefaultSite,
} from "./bundle.ts";

async function writeIfChanged(file, text) {
  const old = await readFile(file, "utf8").catch(() => undefined);
  if (old === text) return false;
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text);
  return true;
}

const template = await buildBeaconTemplate();
const site = process.env.RUM_BEACON_SITE || BUILD_DEFAULT_SITE;
const built = withDefaultSite(template, site);
const esm = await bundleScript(`export * from "./index.ts";`, { format: "esm" });
const changed = [
  (await writeIfChanged(paths.builtFile, built)) && paths.builtFile,
  (await writeIfChanged(paths.esmFile, esm)) && paths.esmFile,
  (await writeIfChanged(paths.generatedModule, generatedModule(template))) && paths.generatedModule,
].filter(Boolean);
const rel = (f) => path.relative(process.cwd(), f);
console.log(
  `beacon: ${built.length} B minified (site "${site}")${changed.length ? `; wrote ${changed.map(rel).join(", ")}` : "; up to date"}`,
);
