/**
 * Headless Chromium inside the client namespace, driven from the lab process over
 * playwright-core's pipe: the executable is a small wrapper that enters the namespace and writes
 * the profile preference that turns network prediction off (otherwise Chromium opens the
 * connection before the navigation starts and the connect time reads short). Images are off so
 * that nothing but the page, the beacon script and the beacon crosses the last mile.
 */
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { QUIET_CHROMIUM_ARGS } from "../../scripts/ensure-chromium.mjs";

export const CHROMIUM_PATH = process.env.LAB_CHROMIUM ?? "/usr/bin/chromium";

/**
 * Writes the namespace wrapper for Chromium into `dir`; returns its path. With `rt`, Chromium runs
 * at real-time priority 10: above everything else on a shared machine, below the links and
 * servers (20), so the browser's own stalls do not land in the last mile it measures.
 */
export function writeChromiumWrapper(dir, ns, rt) {
  const path = join(dir, "chromium-in-netns.sh");
  const prefs = JSON.stringify({ net: { network_prediction_options: 2 } });
  writeFileSync(
    path,
    `#!/bin/sh
# Chromium for the latency lab: fresh profile without network prediction, inside ${ns}.
for a in "$@"; do
  case "$a" in
    --user-data-dir=*) d="\${a#--user-data-dir=}"; mkdir -p "$d/Default"; printf '%s' '${prefs}' > "$d/Default/Preferences" ;;
  esac
done
exec ${rt ? "chrt -f 10 " : ""}ip netns exec ${ns} ${CHROMIUM_PATH} "$@"
`,
  );
  chmodSync(path, 0o755);
  return path;
}

/** Launches Chromium in namespace `ns` (wrapper written to `dir`); the caller closes it. */
export function launchInNamespace(dir, ns, { rt = false } = {}) {
  return chromium.launch({
    executablePath: writeChromiumWrapper(dir, ns, rt),
    headless: true,
    timeout: 30_000,
    args: [...QUIET_CHROMIUM_ARGS, "--blink-settings=imagesEnabled=false"],
  });
}

/**
 * Navigates `page` to `url` and waits for `load` (the async beacon script has run by then).
 * Returns the edge's request id (`Server-Timing: rid`, which the beacon carries too) and the
 * navigation entry's times as wall-clock ms: { rid, fetchStart, requestStart, responseStart }
 * (timeOrigin + the entry's values), for telling the link's SYNs apart.
 */
export async function navigate(page, url) {
  const res = await page.goto(url, { waitUntil: "load", timeout: 30_000 });
  if (res?.status() !== 200) throw new Error(`${url} answered ${res?.status() ?? "nothing"}`);
  return page.evaluate(() => {
    const n = performance.getEntriesByType("navigation")[0];
    const o = performance.timeOrigin;
    const rid = n.serverTiming.find((e) => e.name === "rid")?.description ?? "";
    return {
      rid,
      fetchStart: o + n.fetchStart,
      requestStart: o + n.requestStart,
      responseStart: o + n.responseStart,
    };
  });
}
