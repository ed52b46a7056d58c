import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// The composed Worker (edge + collector + dashboards) as it is deployed.
const migrations = await readD1Migrations(path.join(import.meta.dirname, "../migrations"));

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "../wrangler.toml" },
      miniflare: { bindings: { TEST_MIGRATIONS: migrations } },
    }),
  ],
  test: {
    name: "worker",
    include: ["test/**/*.test.ts"],
    setupFiles: ["../rum-collector/test/apply-migrations.ts"],
  },
});
