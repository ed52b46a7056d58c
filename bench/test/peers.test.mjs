/** The benchmarks' peer handling: finding programs, telling a stand-in from the real peer, skipping. */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  BENCH_PEERS,
  ensurePeers,
  hasPeer,
  installBlockedReason,
  missingLine,
  PEER_PACKAGES,
  which,
} from "../lib/peers.mjs";

const dir = mkdtempSync(join(tmpdir(), "peers-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("peers", () => {
  it("every peer a benchmark spawns has a Debian package", () => {
    for (const bins of Object.values(BENCH_PEERS))
      for (const b of bins) expect(PEER_PACKAGES[b]).toBeTruthy();
  });

  it("which() finds an executable on the given PATH and nothing for an unknown name", () => {
    const f = join(dir, "some-tool");
    writeFileSync(f, "#!/bin/sh\necho hi\n");
    chmodSync(f, 0o755);
    expect(which("some-tool", dir)).toBe(f);
    expect(which("edgerum-no-such-peer", dir)).toBeNull();
  });

  it("a `convert` that is not ImageMagick does not count as the peer", () => {
    const fake = join(dir, "convert");
    writeFileSync(fake, "#!/bin/sh\necho 'convert: a stand-in'\n");
    chmodSync(fake, 0o755);
    const saved = process.env.PATH;
    process.env.PATH = dir;
    try {
      expect(which("convert")).toBe(fake);
      expect(hasPeer("convert")).toBe(false);
    } finally {
      process.env.PATH = saved;
    }
  });

  it("with installing turned off, a missing peer is reported with its package and why, never thrown", async () => {
    const saved = process.env.BENCH_INSTALL_PEERS;
    process.env.BENCH_INSTALL_PEERS = "0";
    try {
      expect(installBlockedReason()).toBe("BENCH_INSTALL_PEERS=0");
      const { missing } = await ensurePeers(["edgerum-no-such-peer"], { log: () => {} });
      expect(missing).toEqual([
        { bin: "edgerum-no-such-peer", pkg: undefined, why: "not installed (BENCH_INSTALL_PEERS=0)" },
      ]);
      expect(
        missingLine([{ bin: "vipsthumbnail", pkg: "libvips-tools", why: "not installed (not root)" }]),
      ).toBe("vipsthumbnail (Debian package libvips-tools: not installed (not root))");
    } finally {
      if (saved === undefined) delete process.env.BENCH_INSTALL_PEERS;
      else process.env.BENCH_INSTALL_PEERS = saved;
    }
  });
});
