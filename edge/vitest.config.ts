import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { quietRequiredSecrets, TEST_TOKENS } from "../scripts/dev-vars.mjs";

// The test origin is started in globalSetup on a free port; its URL reaches the Worker as
// ORIGIN_URL through the plugin's `inject` (options are resolved after globalSetup ran).
quietRequiredSecrets();

export default defineConfig({
  plugins: [
    cloudflareTest(({ inject }) => ({
      wrangler: { configPath: "../wrangler.toml" },
      miniflare: {
        bindings: {
          ...TEST_TOKENS,
          ORIGIN_URL: inject<string>("originUrl"),
          EDGE_LOG_FLUSH_MS: "0",
          ENVIRONMENT: "development",
        },
      },
    })),
  ],
  test: {
    name: "edge",
    include: ["test/**/*.test.ts"],
    globalSetup: ["./test/global-setup.ts", "./test/images/global-setup.ts"],
  },
});
