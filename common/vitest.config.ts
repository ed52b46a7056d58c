import { defineConfig } from "vitest/config";

export default defineConfig({
  test: { name: "common", include: ["common/**/*.test.ts"], environment: "node", root: ".." },
});
