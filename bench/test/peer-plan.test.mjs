/** A missing peer skips the rows that need it (one line each), or the whole benchmark when every row does. */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BENCH_PEERS, MISSING_ENV, parseMissingEnv, peerPlan, ROW_PEERS } from "../lib/peers.mjs";

const miss = (bin, pkg) => ({ bin, pkg, why: "not installed (not root)" });

describe("peerPlan", () => {
  it("every peer is available: no skip line, no row lines, every row peer available", () => {
    const plan = peerPlan("bench:images", []);
    expect(plan.skipLine).toBeNull();
    expect(plan.rowLines).toEqual([]);
    expect([...plan.available].sort()).toEqual(["convert", "vipsthumbnail"]);
  });

  it("bench:images without ImageMagick and vipsthumbnail: runs, one line per skipped row", () => {
    const plan = peerPlan("bench:images", [
      miss("vipsthumbnail", "libvips-tools"),
      miss("convert", "imagemagick"),
    ]);
    expect(plan.skipLine).toBeNull();
    expect(plan.available.size).toBe(0);
    expect(plan.rowLines).toEqual([
      'bench:images: row "vipsthumbnail" skipped — missing vipsthumbnail (Debian package libvips-tools: not installed (not root))',
      'bench:images: row "ImageMagick convert" skipped — missing convert (Debian package imagemagick: not installed (not root))',
    ]);
  });

  it("bench:edge without nginx runs without the nginx rows; without wrk it is skipped whole", () => {
    const noNginx = peerPlan("bench:edge", [miss("nginx", "nginx-light")]);
    expect(noNginx.skipLine).toBeNull();
    expect(noNginx.rowLines).toHaveLength(1);
    expect(noNginx.rowLines[0]).toMatch(
      /^bench:edge: row "nginx proxy_cache \/ proxy_pass" skipped — missing nginx /,
    );
    expect(noNginx.available.has("nginx")).toBe(false);
    const noWrk = peerPlan("bench:edge", [miss("nginx", "nginx-light"), miss("wrk", "wrk")]);
    expect(noWrk.skipLine).toBe(
      "bench:edge: skipped — missing wrk (Debian package wrk: not installed (not root))",
    );
    expect(peerPlan("bench:rum", [miss("wrk", "wrk")]).skipLine).toMatch(/^bench:rum: skipped — missing wrk/);
  });

  it("row peers are peers their benchmark spawns", () => {
    for (const [bench, rows] of Object.entries(ROW_PEERS))
      for (const bin of Object.keys(rows)) expect(BENCH_PEERS[bench]).toContain(bin);
  });
});

describe("the missing peers passed by npm run bench", () => {
  it("parses the env value; unset means the benchmark looks for itself", () => {
    expect(parseMissingEnv(undefined)).toBeNull();
    expect(parseMissingEnv("")).toEqual([]);
    expect(parseMissingEnv("nginx, convert").map((m) => [m.bin, m.pkg])).toEqual([
      ["nginx", "nginx-light"],
      ["convert", "imagemagick"],
    ]);
  });

  // requirePeersOrSkip in a child process (it exits on a whole-benchmark skip), fed through the env.
  const run = (bench, missing) =>
    spawnSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `const { requirePeersOrSkip } = await import(${JSON.stringify(join(import.meta.dirname, "..", "lib", "peers.mjs"))});
         const peers = await requirePeersOrSkip(${JSON.stringify(bench)});
         console.log("available " + [...peers].sort().join(","));`,
      ],
      { encoding: "utf8", env: { ...process.env, [MISSING_ENV]: missing, BENCH_INSTALL_PEERS: "0" } },
    );

  it("a missing row peer: one line, the benchmark goes on with the others", () => {
    const r = run("bench:images", "convert");
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split("\n")).toEqual([
      'bench:images: row "ImageMagick convert" skipped — missing convert (Debian package imagemagick: not found by npm run bench)',
      "available vipsthumbnail",
    ]);
  });

  it("a missing peer every row needs: one line and exit 3", () => {
    const r = run("bench:edge", "wrk");
    expect(r.status).toBe(3);
    expect(r.stdout.trim()).toBe(
      "bench:edge: skipped — missing wrk (Debian package wrk: not found by npm run bench)",
    );
  });

  it("peers missing for another benchmark are ignored", () => {
    const r = run("bench:edge", "convert,vipsthumbnail");
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe("available nginx");
  });
});
