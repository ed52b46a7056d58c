import { defineConfig } from "vitest/config";

// The demo origin runs in Node; its tests call the Hono app through app.request() (no server),
// except the startStack smoke test, which spawns only the demo origin on a free port.
export default defineConfig({
  test: {
    name: "demo",
    include: ["demo/**/*.test.ts"],
    environment: "node",
    root: "..",
    testTimeout: 20_000,
  },
});
