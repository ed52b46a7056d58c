// CLI entry: `node image-service/src/main.ts` (config from the environment, see README).
import { parseImageConfig } from "./config.ts";
import { startImageService } from "./server.ts";

const config = parseImageConfig(process.env);
const service = await startImageService(config);
process.stderr.write(
  `${JSON.stringify({ level: "info", msg: "image service listening", url: service.url, origins: config.origins, concurrency: config.concurrency, signed: config.signingKey !== undefined })}\n`,
);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void service.close().then(() => process.exit(0));
  });
}
