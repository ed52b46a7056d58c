import { defineConfig } from "vitest/config";

// Benchmark harness helpers (Node): wrk parsing, generated configs, and the binding services'
// protocols, tested against a real child process on free ports. No timing asserts.
export default defineConfig({
  test: {
    name: "bench",
    include: ["bench/test/**/*.test.mjs"],
    environment: "node",
    root: "..",
    testTimeout: 20_000,
  },
});
