import { describe, expect, it } from "vitest";
import { type EnsureChromiumOptions, ensureChromium } from "../ensure-chromium.mjs";

/** A fake machine: which commands exist, whether we are root, what apt-get does. */
function machine(over: Partial<EnsureChromiumOptions> & { aptInstalls?: boolean; aptFails?: string } = {}) {
  let installed = false;
  const calls: string[] = [];
  const lines: string[] = [];
  const opts: EnsureChromiumOptions = {
    exists: () => installed,
    has: (cmd) => cmd === "apt-get",
    isRoot: () => true,
    canSudo: () => false,
    log: (l) => lines.push(l),
    run: (cmd, args, env) => {
      calls.push([cmd, ...args, `DEBIAN_FRONTEND=${env.DEBIAN_FRONTEND}`].join(" "));
      if (over.aptFails && args.includes(over.aptFails)) return 100;
      if (args.includes("install") && over.aptInstalls !== false) installed = true;
      return 0;
    },
    ...over,
  };
  return { opts, calls, lines };
}

describe("ensureChromium (fresh machine)", () => {
  it("does nothing when Chromium is there", () => {
    const m = machine({ exists: () => true });
    expect(ensureChromium(m.opts)).toBe("present");
    expect(m.calls).toEqual([]);
  });

  it("as root with apt-get: updates, installs chromium non-interactively and says so", () => {
    const m = machine();
    expect(ensureChromium(m.opts)).toBe("installed");
    expect(m.calls).toEqual([
      "apt-get update DEBIAN_FRONTEND=noninteractive",
      "apt-get install -y --no-install-recommends chromium DEBIAN_FRONTEND=noninteractive",
    ]);
    expect(m.lines[0]).toMatch(/^Chromium is missing at \/usr\/bin\/chromium; installing it with apt-get/);
  });

  it("not root: uses passwordless sudo, or stops with one line", () => {
    const sudo = machine({ isRoot: () => false, canSudo: () => true, has: () => true });
    expect(ensureChromium(sudo.opts)).toBe("installed");
    expect(sudo.calls[0]).toBe("sudo apt-get update DEBIAN_FRONTEND=noninteractive");
    const none = machine({ isRoot: () => false });
    expect(() => ensureChromium(none.opts)).toThrow(
      "The browser tests need Chromium at /usr/bin/chromium: install it (Debian/Ubuntu: apt-get install chromium) and run npm test again (as root, or with sudo).",
    );
    expect(none.calls).toEqual([]);
  });

  it("without apt-get, or when apt-get fails, stops with one line saying what to install", () => {
    expect(() => ensureChromium(machine({ has: () => false }).opts)).toThrow(
      /^The browser tests need Chromium at \/usr\/bin\/chromium: install it \(Debian\/Ubuntu: apt-get install chromium\)/,
    );
    expect(() => ensureChromium(machine({ aptFails: "update" }).opts)).toThrow(/^apt-get update failed/);
    expect(() => ensureChromium(machine({ aptInstalls: false }).opts)).toThrow(
      /^apt-get install chromium failed/,
    );
    for (const m of [machine({ has: () => false }), machine({ aptFails: "install" })]) {
      try {
        ensureChromium(m.opts);
      } catch (e) {
        expect((e as Error).message).not.toContain("\n");
      }
    }
  });
});
