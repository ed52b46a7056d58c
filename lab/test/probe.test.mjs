/**
 * The lab's "can I run here?" decision, with its probes injected: each missing piece gives one
 * clear line, and the throwaway namespace it creates is always deleted again.
 */
import { describe, expect, it } from "vitest";
import { unavailableReason } from "../lib/probe.mjs";

/** Probes of a machine where everything works; `over` replaces some. Records `ip` calls. */
function probes(over = {}) {
  const calls = [];
  const p = {
    platform: "linux",
    uid: 0,
    ip: (args) => {
      calls.push(args);
      return { status: 0, stderr: "", error: null };
    },
    tun: () => null,
    which: (bin) => (bin.startsWith("/") ? bin : `/usr/bin/${bin}`),
    chromiumPath: "/usr/bin/chromium",
    uniqueName: () => "edgerum-lab-probe-1-abcd",
    ...over,
  };
  return { p, calls };
}

describe("lab probe: unavailableReason", () => {
  it("answers null when every piece is there, after creating and deleting a throwaway namespace", () => {
    const { p, calls } = probes();
    expect(unavailableReason(p)).toBeNull();
    expect(calls).toEqual([
      ["netns", "add", "edgerum-lab-probe-1-abcd"],
      ["netns", "delete", "edgerum-lab-probe-1-abcd"],
    ]);
  });

  it("needs Linux and root", () => {
    expect(unavailableReason(probes({ platform: "darwin" }).p)).toBe("needs Linux (this is darwin)");
    const { p, calls } = probes({ uid: 1000 });
    expect(unavailableReason(p)).toMatch(/^needs root/);
    expect(calls).toEqual([]);
  });

  it("root without CAP_SYS_ADMIN (ip netns add refused) is a skip naming the capability", () => {
    const { p, calls } = probes({
      ip: (args) => {
        calls.push(args);
        return args[1] === "add"
          ? {
              status: 1,
              stderr: "mount --make-shared /run/netns failed: Operation not permitted\n",
              error: null,
            }
          : { status: 0, stderr: "", error: null };
      },
    });
    const reason = unavailableReason(p);
    expect(reason).toBe(
      "cannot create a network namespace (`ip netns add`: mount --make-shared /run/netns failed: Operation not permitted); needs CAP_SYS_ADMIN",
    );
    expect(reason).not.toContain("\n");
    // Nothing was created, so nothing to delete.
    expect(calls.filter((c) => c[1] === "delete")).toEqual([]);
  });

  it("no `ip` at all", () => {
    const { p } = probes({ ip: () => ({ status: null, stderr: "", error: "spawnSync ip ENOENT" }) });
    expect(unavailableReason(p)).toBe("`ip` is not available (spawnSync ip ENOENT)");
  });

  it("a namespace that cannot be deleted is reported with its name", () => {
    const { p } = probes({
      ip: (args) => ({ status: args[1] === "delete" ? 1 : 0, stderr: "busy", error: null }),
    });
    expect(unavailableReason(p)).toMatch(
      /^cannot delete a network namespace \(`ip netns delete edgerum-lab-probe-1-abcd`: busy\)/,
    );
  });

  it("TUN missing or not openable", () => {
    const { p, calls } = probes({ tun: () => "/dev/net/tun cannot be opened (ENOENT)" });
    expect(unavailableReason(p)).toBe("/dev/net/tun cannot be opened (ENOENT); the delay links need TUN");
    // The throwaway namespace was deleted before the TUN check.
    expect(calls.map((c) => c[1])).toEqual(["add", "delete"]);
  });

  it("Chromium, chrt, cc: each missing one named", () => {
    const without = (missing) => (bin) => (bin === missing ? null : `/usr/bin/${bin}`);
    expect(unavailableReason(probes({ chromiumPath: "/opt/chrome", which: without("/opt/chrome") }).p)).toBe(
      "no Chromium at /opt/chrome (set LAB_CHROMIUM to its path)",
    );
    expect(unavailableReason(probes({ which: without("chrt") }).p)).toMatch(/^no `chrt`/);
    expect(unavailableReason(probes({ which: without("cc") }).p)).toMatch(/^no C compiler \(`cc`\)/);
  });

  it("uses a fresh name each time (two runs never share a probe namespace)", () => {
    let n = 0;
    const names = [];
    const p = probes({
      uniqueName: () => `edgerum-lab-probe-1-${n++}`,
      ip: (args) => {
        names.push(args[2]);
        return { status: 0, stderr: "", error: null };
      },
    }).p;
    unavailableReason(p);
    unavailableReason(p);
    expect(new Set(names).size).toBe(2);
  });
});
