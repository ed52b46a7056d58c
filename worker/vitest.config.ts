import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { quietRequiredSecrets, TEST_TOKENS } from "../scripts/dev-vars.mjs";

// The composed Worker (edge + collector + dashboards) as it is deployed.
const migrations = await readD1Migrations(path.join(import.meta.dirname, "../migrations"));

quietRequiredSecrets();

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "../wrangler.toml" },
      // Tokens come from here, never from .dev.vars (see scripts/dev-vars.mjs).
      miniflare: { bindings: { ...TEST_TOKENS, TEST_MIGRATIONS: migrations } },
    }),
  ],
  test: {
    name: "worker",
    include: ["test/**/*.test.ts"],
    setupFiles: ["../rum-collector/test/apply-migrations.ts"],
  },
});
