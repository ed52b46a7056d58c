/**
 * CLI entry: `node demo/src/main.ts` starts the demo origin with config from the environment
 * (DEMO_PORT, DEMO_HOST, DEMO_BACKEND_MS, DEMO_JITTER_MS) and stops cleanly on SIGINT/SIGTERM.
 */
import { parseDemoConfig } from "./config.ts";
import { startDemoOrigin } from "./server.ts";

try {
  const config = parseDemoConfig(process.env);
  const origin = await startDemoOrigin(config);
  console.log(
    `demo origin listening on ${origin.url} (backend ${config.backendMs} ms + jitter up to ${config.jitterMs} ms)`,
  );
  const stop = () => {
    origin.close().then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}
