import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { createImageApp } from "./app.ts";
import type { ImageServiceConfig } from "./config.ts";

/** Starts the HTTP server on `config.host:config.port` (port 0 = a free one); resolves once listening. */
export function startImageService(
  config: ImageServiceConfig,
): Promise<{ url: string; close: () => Promise<void> }> {
  const app = createImageApp(config);
  return new Promise((resolve, reject) => {
    const server = serve(
      { fetch: app.fetch, port: config.port, hostname: config.host },
      (info: AddressInfo) => {
        const host = info.family === "IPv6" ? `[${info.address}]` : info.address;
        resolve({
          url: `http://${host}:${info.port}`,
          close: () =>
            new Promise<void>((done) => {
              if ("closeAllConnections" in server) server.closeAllConnections();
              server.close(() => done());
            }),
        });
      },
    );
    server.once("error", reject);
  });
}
