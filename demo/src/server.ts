/** Runs the demo origin app on a Node HTTP server. */
import type { AddressInfo } from "node:net";
import { createAdaptorServer } from "@hono/node-server";
import type { DemoAppOptions } from "./app.ts";
import { createDemoApp } from "./app.ts";
import { DEMO_DEFAULTS } from "./config.ts";

export type DemoOrigin = { url: string; port: number; close(): Promise<void> };

export type StartDemoOriginOptions = DemoAppOptions & { port?: number; host?: string };

/** Starts the demo origin (defaults: port 8000, host 127.0.0.1; port 0 picks a free port). */
export async function startDemoOrigin(options: StartDemoOriginOptions = {}): Promise<DemoOrigin> {
  const host = options.host ?? DEMO_DEFAULTS.host;
  const app = createDemoApp(options);
  const server = createAdaptorServer({ fetch: app.fetch });
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      reject(
        err.code === "EADDRINUSE"
          ? new Error(`Demo origin: port ${options.port ?? DEMO_DEFAULTS.port} on ${host} is already in use`)
          : err,
      );
    };
    server.once("error", onError);
    server.listen(options.port ?? DEMO_DEFAULTS.port, host, () => {
      server.off("error", onError);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        // Keep-alive sockets would hold close() open; they carry no state worth waiting for.
        if ("closeAllConnections" in server) server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
