import { defineConfig } from "vitest/config";

// The operator scripts (Node): the deploy preflight against good and broken temp copies of
// wrangler.toml, and the local secrets file `npm start` writes.
export default defineConfig({
  test: {
    name: "scripts",
    include: ["scripts/test/**/*.test.ts"],
    environment: "node",
    root: "..",
    testTimeout: 120_000,
  },
});
