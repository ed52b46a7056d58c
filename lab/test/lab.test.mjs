/**
 * Runs the lab's short form (`node lab/lab.mjs --quick`) as CI does, and checks its exit code,
 * its table and its closing line. Skipped, with the reason printed, where the lab cannot run
 * (not root, no `ip netns`, no /dev/net/tun, no C compiler).
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { labUnavailableReason } from "../lib/netns.mjs";
import { parseClosingLine, parseTable } from "../lib/report.mjs";

const reason = labUnavailableReason();
if (reason) console.log(`lab test skipped: ${reason}`);

function runLab(args, env = process.env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(import.meta.dirname, "..", "lab.mjs"), ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env,
    });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      out += d;
    });
    child.on("exit", (code) => resolve({ code, out }));
  });
}

describe("latency lab", () => {
  it.skipIf(reason !== null)(
    `--quick: every attributed part within tolerance of the injected truth${reason ? ` (skipped: ${reason})` : ""}`,
    async () => {
      const { code, out } = await runLab([
        "--quick",
        "--out",
        join(import.meta.dirname, "..", "out", "test"),
      ]);
      const closing = parseClosingLine(out);
      if (code !== 0) console.log(out);
      expect(closing, out).not.toBeNull();
      expect(closing.verdict).toBe("PASS");
      expect(closing.scenarios).toBe(2);
      const rows = parseTable(out);
      expect(rows).toHaveLength(10);
      expect(new Set(rows.map((r) => r.scenario)).size).toBe(2);
      for (const r of rows) {
        expect(["ok", "explained"]).toContain(r.verdict);
        if (r.verdict === "ok") expect(Math.abs(r.error)).toBeLessThanOrEqual(r.tolerance);
      }
      // The MISS scenario's backend and middle mile carry the injected time; the HIT's are 0.
      const miss = rows.filter((r) => r.scenario.startsWith("MISS"));
      expect(miss.find((r) => r.part === "backend")?.truth).toBe(50);
      expect(rows.filter((r) => r.scenario.startsWith("HIT") && r.part === "backend")[0]?.measured).toBe(0);
      expect(code).toBe(0);
    },
  );

  it("exits 3 with one SKIPPED line naming what is missing (here: no Chromium at the given path)", async () => {
    const missing = join(import.meta.dirname, "no-such-chromium");
    const { code, out } = await runLab(["--quick"], { ...process.env, LAB_CHROMIUM: missing });
    expect(code).toBe(3);
    const lines = out.trim().split("\n");
    expect(lines).toHaveLength(1);
    // Not root, no netns rights or no TUN come first where they apply; else the Chromium path.
    expect(lines[0]).toMatch(/^lab: SKIPPED — (needs |cannot |\/dev\/net\/tun|`ip`|no Chromium at )/);
    if (reason === null)
      expect(lines[0]).toBe(`lab: SKIPPED — no Chromium at ${missing} (set LAB_CHROMIUM to its path)`);
  });

  it("exits 2 with a message naming the option for a bad option", async () => {
    const { code, out } = await runLab(["--views", "0"]);
    expect(code).toBe(2);
    expect(out).toContain("Invalid option --views");
  });
});
