/**
 * The demo origin as the lab runs it (child process in the origin namespace): the demo's own
 * `startDemoOrigin` on LAB_ORIGIN_HOST:LAB_ORIGIN_PORT with jitter 0, controlled over stdin so one
 * warm process serves the whole grid:
 *   restart <backendMs>   close (which drops every connection, so the edge must open a new one)
 *                         and listen again with that backend time, warmed up by local requests
 *                         → "ready <backendMs>"
 */
import { createInterface } from "node:readline";
import { startDemoOrigin } from "../../demo/src/server.ts";

const host = process.env.LAB_ORIGIN_HOST ?? "127.0.0.1";
const port = Number(process.env.LAB_ORIGIN_PORT ?? "80");
const WARM_REQUESTS = 30;

let origin;

async function restart(backendMs) {
  if (origin) await origin.close();
  // Warm-up requests run with no backend delay so they take milliseconds, then the real server starts.
  const warm = await startDemoOrigin({ host, port, backendMs: 0, jitterMs: 0 });
  for (let i = 0; i < WARM_REQUESTS; i++) {
    const res = await fetch(`${warm.url}/p/${1 + (i % 20)}?warm=${i}`);
    await res.arrayBuffer();
  }
  await warm.close();
  origin = await startDemoOrigin({ host, port, backendMs, jitterMs: 0 });
  console.log(`ready ${backendMs}`);
}

let chain = Promise.resolve();
createInterface({ input: process.stdin }).on("line", (line) => {
  const m = /^restart (\d+)$/.exec(line.trim());
  if (!m) {
    console.log(`error unknown command: ${line}`);
    return;
  }
  chain = chain.then(() => restart(Number(m[1]))).catch((err) => console.log(`error ${err.message}`));
});
process.stdin.on("end", () => process.exit(0));
process.once("SIGTERM", () => process.exit(0));
