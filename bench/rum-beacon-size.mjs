// Beacon size next to its peers, every bundle built the same way (esbuild --bundle --minify,
// IIFE, ES2022) and gzipped at level 9. Exported for bench/rum.mjs; runs alone too:
//   node bench/rum-beacon-size.mjs
import path from "node:path";
import { gzipSync } from "node:zlib";
import {
  BUILD_DEFAULT_SITE,
  buildBeaconTemplate,
  bundleScript,
  withDefaultSite,
} from "../rum-collector/beacon/bundle.ts";

const collectorDir = path.join(import.meta.dirname, "..", "rum-collector");

/** The peers: each reports the five metrics and sends them with sendBeacon. */
function peerEntry(pkg) {
  return `import { onCLS, onFCP, onINP, onLCP, onTTFB } from "${pkg}";
const send = (m) => navigator.sendBeacon("/_rum/v1/beacon", JSON.stringify(m));
onCLS(send); onFCP(send); onINP(send); onLCP(send); onTTFB(send);`;
}

const gz = (text) => gzipSync(Buffer.from(text), { level: 9 }).length;

/** Gzip -9 sizes: our beacon (the served build), web-vitals alone, web-vitals/attribution. */
export async function measureBeaconSizes() {
  const ours = withDefaultSite(await buildBeaconTemplate(), BUILD_DEFAULT_SITE);
  const wv = await bundleScript(peerEntry("web-vitals"), { resolveDir: collectorDir });
  const attr = await bundleScript(peerEntry("web-vitals/attribution"), { resolveDir: collectorDir });
  return [
    { name: "our beacon (phases, LCP sub-parts, Server-Timing)", gzBytes: gz(ours) },
    { name: "web-vitals, 5 metrics + sendBeacon", gzBytes: gz(wv) },
    { name: "web-vitals/attribution, same", gzBytes: gz(attr) },
  ];
}

if (import.meta.main) {
  const rows = await measureBeaconSizes();
  const budget = 4608;
  for (const r of rows) console.log(`${r.name.padEnd(52)} ${String(r.gzBytes).padStart(6)} B gz`);
  console.log(`budget ${budget} B gz: ${rows[0] && rows[0].gzBytes <= budget ? "within" : "OVER"}`);
}
