import { ensureChromium } from "../scripts/ensure-chromium.mjs";

/**
 * The browser these tests drive: installed through apt-get when it is missing and apt-get may be
 * used (a fresh Debian as root), otherwise the run stops with one line saying what to install.
 */
export default function setup(): void {
  try {
    ensureChromium();
  } catch (err) {
    // One clear line, without a stack trace pointing into the harness.
    const e = new Error(err instanceof Error ? err.message : String(err));
    e.stack = e.message;
    throw e;
  }
}
