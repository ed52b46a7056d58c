import { defineConfig } from "vitest/config";

export default defineConfig({
  test: { name: "images", include: ["image-service/**/*.test.ts"], environment: "node", root: ".." },
});
