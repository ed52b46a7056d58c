/**
 * Headless Chromium for the e2e tests: the Debian build at /usr/bin/chromium driven by
 * playwright-core (never `playwright install`: no downloads here), with the flags that keep it
 * from reaching out to the network on its own.
 */
import { type Browser, chromium } from "playwright-core";
import { CHROMIUM_PATH, QUIET_CHROMIUM_ARGS } from "../scripts/ensure-chromium.mjs";

export { CHROMIUM_PATH };

/**
 * Launches headless Chromium (caller closes it). `backForwardCache: true` keeps the bfcache on,
 * which playwright-core turns off by default; default false.
 */
export function launchChromium(options: { backForwardCache?: boolean } = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    ...(options.backForwardCache ? { ignoreDefaultArgs: ["--disable-back-forward-cache"] } : {}),
    args: [...QUIET_CHROMIUM_ARGS],
  });
}

/** Polls `probe` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 15_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${lastError}` : ""}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
