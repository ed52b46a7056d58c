import { defineConfig } from "vitest/config";
import { TEST_TOKENS } from "../scripts/dev-vars.mjs";

// Node tests of the beacon (build, size budget, staleness of the generated module) and the
// end-to-end tests that drive a real headless Chromium. Root is the repo so that both
// e2e/ and rum-collector/beacon/ tests belong to this one project.
export default defineConfig({
  root: "..",
  test: {
    name: "e2e",
    environment: "node",
    include: ["e2e/**/*.test.ts", "rum-collector/beacon/**/*.test.ts"],
    globalSetup: ["e2e/global-setup.ts"],
    // The stacks these tests start take their tokens from here (scripts/stack.mjs), not from .dev.vars.
    env: { ...TEST_TOKENS },
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Browsers and wrangler dev are heavy on 2 shared cores: one file at a time.
    fileParallelism: false,
  },
});
