import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { quietRequiredSecrets, TEST_TOKENS } from "../scripts/dev-vars.mjs";

// Collector tests run in workerd with the root wrangler.toml bindings (D1, KV, R2, Queue).
// Migrations are read here (Node) and applied in test/apply-migrations.ts (workerd).
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
  test: { name: "rum", include: ["test/**/*.test.ts"], setupFiles: ["./test/apply-migrations.ts"] },
});
