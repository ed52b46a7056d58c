/**
 * The beacon in a real headless Chromium against a local harness origin (no edge, no
 * collector): what it sends, when, how (no preflight, no cookies), and that it respects
 * consent, sampling, CSP and never breaks the page.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NAV_MS_KEYS, validateBeacon } from "../common/src/beacon-schema.ts";
import type { BeaconPayload, NavTiming } from "../common/src/rum-types.ts";
import { type BeaconHarness, type ReceivedBeacon, startBeaconHarness } from "./beacon-harness.ts";
import { launchChromium, waitFor } from "./browser.ts";

let browser: Browser;
let h: BeaconHarness;

beforeAll(async () => {
  [browser, h] = await Promise.all([launchChromium(), startBeaconHarness()]);
});
afterAll(async () => {
  await browser?.close();
  await h?.stop();
});

interface View {
  context: BrowserContext;
  page: Page;
  errors: string[];
  console: string[];
}

/** Opens `path` in a fresh context, waits for load + the layout shift, optionally clicks. */
async function open(path: string, click = true): Promise<View> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  const consoleLines: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => consoleLines.push(m.text()));
  await page.goto(h.url + path, { waitUntil: "load" });
  await page.waitForFunction(() => (window as { __shifted?: boolean }).__shifted === true);
  if (click) {
    await page.click("#buy");
    // Event Timing entries arrive after the next paint; web-vitals handles them when idle.
    await page.waitForTimeout(300);
  }
  return { context, page, errors, console: consoleLines };
}

/** Leaves the page (pagehide + visibilitychange → hidden, which is when the beacon sends). */
async function leave(v: View): Promise<void> {
  await v.page.goto("about:blank");
  await v.context.close();
}

/** Fakes the tab going to the background and back (headless tabs never hide on their own). */
async function setHidden(page: Page, hidden: boolean): Promise<void> {
  await page.evaluate((hide) => {
    if (hide) Object.defineProperty(document, "visibilityState", { value: "hidden", configurable: true });
    else delete (document as { visibilityState?: string }).visibilityState;
    document.dispatchEvent(new Event("visibilitychange", { bubbles: true }));
  }, hidden);
}

const forPath = (path: string) => h.beacons.filter((b) => new URL(b.payload.url).pathname === path);
const first = (path: string) => waitFor(`a beacon for ${path}`, () => forPath(path)[0]);
/**
 * The latest record of the page view at `path`, once one carries INP. Leaving a page fires
 * pagehide (first send) and then visibilitychange, where web-vitals flushes INP: if it grew, an
 * update (seq 1) follows, so INP may only be in the second record.
 */
async function latest(path: string): Promise<ReceivedBeacon> {
  await waitFor(`a beacon with INP for ${path}`, () =>
    forPath(path).find((b) => b.payload.vitals.inp !== undefined),
  );
  const all = forPath(path);
  expect(new Set(all.map((x) => x.payload.pvid)).size).toBe(1);
  expect(all.map((x) => x.payload.seq)).toEqual(all.map((_, i) => i));
  const last = all.at(-1);
  if (!last) throw new Error("no beacon");
  return last;
}

const NAV_KEYS: (keyof NavTiming)[] = [
  "type",
  ...NAV_MS_KEYS,
  "transferSize",
  "encodedBodySize",
  "deliveryType",
  "activationStart",
];

function expectFullRecord(b: ReceivedBeacon, path: string): BeaconPayload {
  const p = b.payload;
  const valid = validateBeacon(p);
  expect(valid, JSON.stringify(valid)).toMatchObject({ ok: true });
  expect(p).toMatchObject({ v: 1, site: "demo", url: h.url + path, rid: "r-0123456789abcdef" });
  expect(p.pvid).toMatch(/^[0-9a-f]{24}$/);
  expect(Object.keys(p.nav ?? {}).sort()).toEqual([...NAV_KEYS].sort());
  expect(p.nav?.type).toBe("navigate");
  expect(p.nav?.responseStart).toBeGreaterThan(0);
  expect(p.nav?.loadEventEnd).toBeGreaterThanOrEqual(p.nav?.domContentLoadedEventEnd ?? Infinity);
  expect(p.serverTiming).toEqual([
    { name: "cdn-cache", duration: 0, description: "MISS" },
    { name: "edge", duration: 7.5, description: "" },
    { name: "origin", duration: 5.3, description: "" },
    { name: "app", duration: 3, description: "" },
    { name: "rtt", duration: 1, description: "" },
    { name: "rid", duration: 0, description: "r-0123456789abcdef" },
  ]);
  const { lcp, fcp, ttfb, cls, inp } = p.vitals;
  expect(lcp).toBeGreaterThan(0);
  expect(fcp).toBeGreaterThan(0);
  expect(ttfb).toBeCloseTo((p.nav?.responseStart ?? 0) - (p.nav?.activationStart ?? 0), 1);
  expect(cls).toBeGreaterThan(0);
  // The click handler busy-waits 120 ms, so the interaction is at least that long.
  expect(inp).toBeGreaterThanOrEqual(100);
  const parts = p.lcpParts;
  expect(parts).toBeDefined();
  if (parts) {
    const sum = parts.ttfb + parts.resourceLoadDelay + parts.resourceLoadDuration + parts.elementRenderDelay;
    expect(sum).toBeCloseTo(lcp ?? -1, 5);
    expect(parts.ttfb).toBe(ttfb);
    // The hero image is the LCP element and its response is held 120 ms by the harness.
    expect(parts.resourceLoadDuration).toBeGreaterThanOrEqual(100);
  }
  expect(p.viewport?.w).toBeGreaterThan(0);
  expect(p.viewport?.h).toBeGreaterThan(0);
  expect(p.dpr).toBeGreaterThan(0);
  expect(p.net).toBeDefined();
  return p;
}

describe("beacon in Chromium", () => {
  it("sends one full record on pagehide: phases, Server-Timing, rid, vitals, LCP sub-parts", async () => {
    const v = await open("/page/full");
    const cookiesInPage = await v.page.evaluate(() => document.cookie);
    const cookies = await v.context.cookies();
    await leave(v);
    const b = await latest("/page/full");
    expectFullRecord(b, "/page/full");
    // sendBeacon with a text/plain Blob: a CORS-simple request, so never a preflight.
    expect(b.contentType).toBe("text/plain");
    expect(b.cookie).toBeUndefined();
    expect(cookiesInPage).toBe("");
    expect(cookies).toEqual([]);
    expect(v.errors).toEqual([]);
    expect(h.preflights).toBe(0);
  });

  it("reports under CSP script-src 'self'; connect-src 'self' without a violation", async () => {
    const v = await open("/csp/strict");
    await leave(v);
    expectFullRecord(await latest("/csp/strict"), "/csp/strict");
    expect(v.errors).toEqual([]);
    expect(v.console.filter((l) => /Content Security Policy/i.test(l))).toEqual([]);
  });

  it("sends an update (seq 1) only when INP grew, with the same page-view id", async () => {
    const v = await open("/page/update");
    await setHidden(v.page, true);
    const s0 = await first("/page/update");
    await setHidden(v.page, false);
    // Hidden again with nothing new: no update.
    await setHidden(v.page, true);
    await setHidden(v.page, false);
    await v.page.click("#slow"); // 400 ms interaction: INP grows
    await v.page.waitForTimeout(300);
    await setHidden(v.page, true);
    const s1 = await waitFor("the update", () => forPath("/page/update")[1]);
    await leave(v);
    await new Promise((r) => setTimeout(r, 300));
    expect(forPath("/page/update")).toHaveLength(2);
    expect(s0.payload.seq).toBe(0);
    expect(s1.payload.seq).toBe(1);
    expect(s1.payload.pvid).toBe(s0.payload.pvid);
    expect(s1.payload.vitals.inp).toBeGreaterThan(s0.payload.vitals.inp ?? Infinity);
    expect(s1.payload.vitals.inp).toBeGreaterThanOrEqual(350);
  });

  it("holds everything until rumConsent(true) with data-consent=pending; rumConsent(false) discards", async () => {
    // Three independent page views side by side (each in its own context).
    const [never, denied, granted] = await Promise.all([
      open("/consent/never"),
      open("/consent/denied"),
      open("/consent/granted"),
    ]);
    await denied.page.evaluate(() => {
      const w = window as { rumConsent?: (g: boolean) => void };
      w.rumConsent?.(false);
      w.rumConsent?.(true); // a refusal is final for this page view
    });
    expect(await granted.page.evaluate(() => typeof (window as { rumConsent?: unknown }).rumConsent)).toBe(
      "function",
    );
    await granted.page.evaluate(() => (window as { rumConsent?: (g: boolean) => void }).rumConsent?.(true));
    await Promise.all([leave(never), leave(denied)]);
    await leave(granted);
    expectFullRecord(await latest("/consent/granted"), "/consent/granted");
    await new Promise((r) => setTimeout(r, 500));
    expect(forPath("/consent/never")).toEqual([]);
    expect(forPath("/consent/denied")).toEqual([]);
  });

  it("sends nothing for a page view outside the sample (data-sample=0)", async () => {
    const [out, control] = await Promise.all([open("/sampled-out/a"), open("/page/sample-control")]);
    await leave(out);
    await leave(control);
    await first("/page/sample-control");
    await new Promise((r) => setTimeout(r, 500));
    expect(forPath("/sampled-out/a")).toEqual([]);
  });

  it("takes site and endpoint from data-site / data-endpoint", async () => {
    await leave(await open("/attrs/x"));
    const b = await first("/attrs/x");
    expect(b.payload.site).toBe("shop-eu");
    expect(b.host).toBe(`${new URL(h.url).host}/collect/here`);
  });

  it("falls back to fetch keepalive when sendBeacon refuses", async () => {
    await leave(await open("/no-sendbeacon/x"));
    const b = await first("/no-sendbeacon/x");
    // fetch with a string body: text/plain;charset=UTF-8, still CORS-simple.
    expect(b.contentType.toLowerCase()).toBe("text/plain;charset=utf-8");
    expect(b.payload.vitals.lcp).toBeGreaterThan(0);
  });

  it("never breaks a page that sabotages the APIs it uses", async () => {
    const v = await open("/hostile/x");
    expect(await v.page.textContent("#buy")).toBe("Added");
    await leave(v);
    expect(v.errors).toEqual([]);
  });

  it("computes the same LCP sub-parts as web-vitals' attribution build on the same view", async () => {
    const v = await open("/compare/x");
    const wv = await v.page.evaluate(
      () =>
        (
          window as {
            __wvLcp?: {
              value: number;
              attribution: {
                timeToFirstByte: number;
                resourceLoadDelay: number;
                resourceLoadDuration: number;
                elementRenderDelay: number;
              };
            };
          }
        ).__wvLcp,
    );
    const [wvFcp, wvCls] = await v.page.evaluate(() => {
      const w = window as { __wvFcp?: number; __wvCls?: number };
      return [w.__wvFcp, w.__wvCls];
    });
    await leave(v);
    const ours = (await first("/compare/x")).payload;
    // FCP and CLS are read off their entries with web-vitals' definitions: the same values.
    expect(ours.vitals.fcp).toBeCloseTo(wvFcp ?? -1, 0);
    expect(wvCls).toBeGreaterThan(0);
    expect(ours.vitals.cls).toBeCloseTo(wvCls ?? -1, 3);
    expect(wv).toBeDefined();
    if (!wv || !ours.lcpParts) throw new Error("missing LCP attribution");
    expect(ours.vitals.lcp).toBeCloseTo(wv.value, 0);
    expect(Math.abs(ours.lcpParts.ttfb - wv.attribution.timeToFirstByte)).toBeLessThanOrEqual(0.2);
    expect(Math.abs(ours.lcpParts.resourceLoadDelay - wv.attribution.resourceLoadDelay)).toBeLessThanOrEqual(
      0.2,
    );
    expect(
      Math.abs(ours.lcpParts.resourceLoadDuration - wv.attribution.resourceLoadDuration),
    ).toBeLessThanOrEqual(0.2);
    expect(
      Math.abs(ours.lcpParts.elementRenderDelay - wv.attribution.elementRenderDelay),
    ).toBeLessThanOrEqual(0.2);
  });

  it("npm entry point: startRum posts to a collector on another origin without a preflight", async () => {
    const v = await open("/npm/x");
    expect(await v.page.evaluate(() => (window as { __rum?: { pvid: string } }).__rum?.pvid)).toMatch(
      /^[0-9a-f]{24}$/,
    );
    await leave(v);
    const b = await first("/npm/x");
    expect(b.payload.site).toBe("shop-npm");
    expect(b.host).toBe(`${new URL(h.otherOrigin).host}/_rum/v1/beacon`);
    expect(b.origin).toBe(h.url);
    expect(h.preflights).toBe(0);
    expect(validateBeacon(b.payload).ok).toBe(true);
  });
});
