/**
 * The beacon's page views beyond the first load, in a real headless Chromium against the local
 * harness origin: a back/forward-cache restore (a real back navigation, bfcache enabled) is a page
 * view of its own; the per-tab session (`sid`, `prev`) ties page views together; conversions
 * queued before the script ran are kept; the `press` prefetch arm prefetches on pointerdown.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateBeacon } from "../common/src/beacon-schema.ts";
import { type BeaconHarness, startBeaconHarness } from "./beacon-harness.ts";
import { launchChromium, waitFor } from "./browser.ts";

let browser: Browser;
let h: BeaconHarness;

beforeAll(async () => {
  [browser, h] = await Promise.all([
    // playwright-core turns the back/forward cache off by default; these tests need it on.
    launchChromium({ backForwardCache: true }),
    startBeaconHarness(),
  ]);
});
afterAll(async () => {
  await browser?.close();
  await h?.stop();
});

const forPath = (path: string) => h.beacons.filter((b) => new URL(b.payload.url).pathname === path);

/**
 * Sends the page view's record by hiding the tab (visibilitychange → hidden) and waits for it
 * while the page is still open: a record sent on pagehide right before the context closes can be
 * cut off on a loaded machine.
 */
async function hideAndReceive(page: Page, path: string) {
  await page.evaluate(() => {
    Object.defineProperty(document, "visibilityState", { value: "hidden", configurable: true });
    document.dispatchEvent(new Event("visibilitychange", { bubbles: true }));
  });
  return waitFor(`the record of ${path}`, () => forPath(path)[0], 30_000);
}

describe("beacon page views in Chromium", () => {
  it("a back/forward-cache restore is a page view of its own: fresh pvid, type back_forward_cache, prev, same sid", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${h.url}/bf/start`, { waitUntil: "load" });
    await page.waitForFunction(() => (window as { __shifted?: boolean }).__shifted === true);
    await Promise.all([page.waitForURL("**/bf/next"), page.click("#next")]);
    await page.waitForLoadState("load");
    await page.goBack({ waitUntil: "commit" });
    // A real restore from the back/forward cache (not a reload): pageshow with persisted.
    await page.waitForFunction(() => (window as { __restored?: number }).__restored === 1);
    const wvLcp = await waitFor("web-vitals' LCP of the restore", () =>
      page.evaluate(() => (window as { __wvBfLcp?: number }).__wvBfLcp),
    );
    await page.waitForTimeout(300);
    // Hide the tab to send the restored page view's record, and wait for it with the page open.
    await page.evaluate(() => {
      Object.defineProperty(document, "visibilityState", { value: "hidden", configurable: true });
      document.dispatchEvent(new Event("visibilitychange", { bubbles: true }));
    });
    const start = await waitFor(
      "both page views of /bf/start",
      () => {
        const all = forPath("/bf/start");
        return new Set(all.map((b) => b.payload.pvid)).size === 2 ? all : undefined;
      },
      30_000,
    );
    await context.close();
    const [next] = await waitFor("the /bf/next page view", () =>
      forPath("/bf/next").length ? forPath("/bf/next") : undefined,
    );
    const load = start.find((b) => b.payload.nav?.type === "navigate")?.payload;
    const restored = start.find((b) => b.payload.nav?.type === "back_forward_cache")?.payload;
    if (!load || !restored || !next) throw new Error("missing page views");
    for (const p of [load, restored, next.payload]) {
      expect(validateBeacon(p), JSON.stringify(p)).toMatchObject({ ok: true });
    }
    expect(restored.pvid).not.toBe(load.pvid);
    expect(restored.seq).toBe(0);
    // One tab, one session; each page view points at the one shown before it.
    expect(new Set([load.sid, next.payload.sid, restored.sid]).size).toBe(1);
    expect(load.sid).toMatch(/^[0-9a-f]{24}$/);
    expect(next.payload.prev).toBe(load.pvid);
    expect(restored.prev).toBe(next.payload.pvid);
    // The restore made no request: phases and TTFB are 0, no Server-Timing of the old response.
    expect(restored.vitals.ttfb).toBe(0);
    expect(restored.nav?.responseStart).toBe(0);
    expect(restored.serverTiming).toBeUndefined();
    expect(restored.rid).toBeUndefined();
    // FCP/LCP of a restore: the time to the second frame after pageshow (as web-vitals reports).
    expect(restored.vitals.lcp).toBeGreaterThan(0);
    expect(restored.vitals.fcp).toBe(restored.vitals.lcp);
    // web-vitals measures the same restore the same way (both wait two frames after pageshow).
    expect(Math.abs((restored.vitals.lcp ?? 0) - wvLcp)).toBeLessThanOrEqual(20);
    expect(restored.vitals.cls).toBe(0);
    // The original page load keeps its own record.
    expect(load.vitals.ttfb).toBeGreaterThan(0);
    expect(load.rid).toBe("r-0123456789abcdef");
  });

  it("rum.conversion(): a call queued before the script ran and a later one add up on the page view", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${h.url}/conv/order`, { waitUntil: "load" });
    await page.waitForFunction(() => typeof (window as { rum?: { pvid?: string } }).rum?.pvid === "string");
    await page.evaluate(() =>
      (window as unknown as { rum: { conversion(v?: number): void } }).rum.conversion(8.5),
    );
    await page.goto("about:blank");
    const b = await waitFor("the conversion page view", () => forPath("/conv/order")[0]);
    expect(b.payload.conv).toEqual({ value: 50.5 });
    expect(validateBeacon(b.payload)).toMatchObject({ ok: true });

    // A conversion after the record was sent goes out as an update (seq + 1) of the same page view.
    const again = await context.newPage();
    await again.goto(`${h.url}/conv/late`, { waitUntil: "load" });
    await again.waitForFunction(() => typeof (window as { rum?: { pvid?: string } }).rum?.pvid === "string");
    await again.evaluate(() => {
      Object.defineProperty(document, "visibilityState", { value: "hidden", configurable: true });
      document.dispatchEvent(new Event("visibilitychange", { bubbles: true }));
    });
    await waitFor("the first record", () => forPath("/conv/late")[0]);
    await again.evaluate(() => {
      delete (document as { visibilityState?: string }).visibilityState;
      (window as unknown as { rum: { conversion(v?: number): void } }).rum.conversion(10);
    });
    await again.goto("about:blank");
    // The context stays open until the update arrived: closing it can drop a beacon the browser
    // has queued but not sent yet (seen on a loaded machine).
    const late = await waitFor("the conversion update", () =>
      forPath("/conv/late").find((x) => x.payload.seq === 1),
    );
    await context.close();
    expect(forPath("/conv/late")[0]?.payload.conv).toEqual({ value: 42 });
    expect(late.payload.conv).toEqual({ value: 52 });
    expect(late.payload.pvid).toBe(forPath("/conv/late")[0]?.payload.pvid);
  });

  it("press arm: the tab keeps its arm in sessionStorage and prefetches same-origin links on pointerdown", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${h.url}/arms/one`, { waitUntil: "load" });
    await page.waitForFunction(() => sessionStorage.getItem("rum:arm") !== null);
    expect(await page.evaluate(() => sessionStorage.getItem("rum:arm"))).toBe("press");
    const prefetches = () =>
      page.evaluate(() =>
        [...document.querySelectorAll('link[rel="prefetch"]')].map((l) => (l as HTMLLinkElement).href),
      );
    await page.dispatchEvent("#other", "pointerdown");
    await page.dispatchEvent("#same", "pointerdown");
    await page.dispatchEvent("#same", "pointerdown");
    expect(await prefetches()).toEqual([`${h.url}/arms/target?x=1`]);
    const b = await hideAndReceive(page, "/arms/one");
    await context.close();
    expect(b.payload.arm).toBe("press");
  });

  it("an attribute-less tag takes the arm shares the collector embeds (RUM_PREFETCH_ARMS)", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${h.url}/armed/one`, { waitUntil: "load" });
    await page.waitForFunction(() => sessionStorage.getItem("rum:arm") !== null);
    expect(await page.evaluate(() => sessionStorage.getItem("rum:arm"))).toBe("ours");
    const b = await hideAndReceive(page, "/armed/one");
    await context.close();
    expect(b.payload.arm).toBe("ours");
  });
});
