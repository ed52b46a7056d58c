import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { quietRequiredSecrets, TEST_TOKENS } from "../scripts/dev-vars.mjs";

// Dashboards tests run in workerd with the root wrangler.toml bindings: most drive the app with
// a fake query API, the contract tests drive the composed Worker entry (worker/index.ts) over D1
// (migrations read here in Node, applied in test/apply-migrations.ts inside workerd).
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
  test: { name: "dashboards", include: ["test/**/*.test.ts"], setupFiles: ["./test/apply-migrations.ts"] },
});
