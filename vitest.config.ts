import { defineConfig } from "vitest/config";

// Every part owns its own vitest project (`<part>/vitest.config.ts`): common/image-service/demo
// run in Node, edge/rum-collector/dashboards in workerd (Workers vitest integration), e2e drives
// a real headless Chromium against the whole local stack.
export default defineConfig({
  test: {
    projects: ["*/vitest.config.ts"],
    reporters: ["default", ["json", { outputFile: ".state/test-results.json" }]],
  },
});
