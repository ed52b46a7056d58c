import { defineConfig } from "vitest/config";

// The latency lab: its pure parts (truth, witness, report) always; the lab itself (`npm run lab --
// --quick`, two scenarios in network namespaces) only where root, `ip netns` and TUN are available,
// else the test is skipped with the reason printed.
export default defineConfig({
  test: {
    name: "lab",
    include: ["lab/test/**/*.test.mjs"],
    environment: "node",
    root: "..",
    testTimeout: 240_000,
    // A group of its own, never run at the same time as other projects' files (those are group 0,
    // or, with one worker, a sequential group after this one): the lab measures against a
    // max(2 ms, 2 %) tolerance and must not share 2 cores with workerd and Chromium test projects.
    sequence: { groupOrder: 1 },
  },
});
