/**
 * Predictive prefetch end to end through the local stack: demo traffic (plain HTTP shoppers
 * sending Referer) teaches the edge; the cron rebuilds the model into KV; a real headless
 * Chromium tab in the "ours" arm then gets the predicted page prefetched (the edge sees
 * `Sec-Purpose: prefetch` tagged "ours"), the next navigation is served from the prefetch
 * (`deliveryType` navigational-prefetch), and the collector counts it. A holdout tab on the
 * same page speculates nothing. Network prediction stays on (LAB.md: turning it off disables
 * speculation).
 */

import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seededRandom } from "../common/src/seeded-random.ts";
import { runTraffic } from "../demo/src/traffic.ts";
import { type Stack, startStack } from "../scripts/stack.mjs";
import { launchChromium, waitFor } from "./browser.ts";

let stack: Stack;
let browser: Browser;
let edge: string;
let auth: Record<string, string>;
/** Pages a demo visit often starts from; the test uses the first one the model predicts for. */
const STARTS = ["/c/watches", "/c/bags", "/c/lamps", "/c/running-shoes", "/"];
let START = "";

beforeAll(async () => {
  [stack, browser] = await Promise.all([
    startStack({
      edgePort: 0,
      imagePort: 0,
      demoPort: 0,
      traffic: false,
      quiet: true,
      readyTimeoutMs: 150_000,
      vars: { PREFETCH_FLUSH_SECONDS: "0", PREFETCH_MODEL_REFRESH_SECONDS: "1", PREFETCH_THRESHOLD: "0.05" },
    }),
    launchChromium(),
  ]);
  if (!stack.urls.edge) throw new Error("the stack started without the edge");
  edge = stack.urls.edge;
  auth = { Authorization: `Bearer ${stack.tokens.query}` };
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** The ours-arm candidates of the rules document for a page. */
async function predicted(path: string): Promise<string[]> {
  const res = await fetch(`${edge}/_edge/prefetch/rules.json?p=${encodeURIComponent(path)}`);
  const doc = (await res.json()) as {
    prefetch?: Array<{ tag: string; where: { and: Array<{ href_matches?: string[] }> } }>;
  };
  const ours = doc.prefetch?.find((r) => r.tag === "ours");
  return ours?.where.and.find((c) => c.href_matches)?.href_matches ?? [];
}

// biome-ignore lint/suspicious/noExplicitAny: loosely typed JSON in assertions
type Json = Record<string, any>;

async function prefetchStats(): Promise<Json> {
  const res = await fetch(
    `${edge}/_rum/v1/prefetch?site=demo&from=${Date.now() - 3_600_000}&to=${Date.now() + 60_000}`,
    {
      headers: auth,
    },
  );
  expect(res.status).toBe(200);
  return (await res.json()) as Json;
}

/** Opens START in a fresh tab of `arm`, waits, clicks the link to `target`; returns the next page's deliveryType. */
async function navigateInArm(arm: string, target: string): Promise<{ page: Page; deliveryType: string }> {
  const context = await browser.newContext();
  await context.addInitScript((a) => sessionStorage.setItem("rum:arm", a), arm);
  const page = await context.newPage();
  await page.goto(edge + START, { waitUntil: "load" });
  expect(await page.evaluate(() => document.documentElement.getAttribute("data-prefetch-arm"))).toBe(arm);
  await page.waitForTimeout(2000); // rules document fetched, speculation (if any) done
  await Promise.all([page.waitForURL(`**${target}`), page.click(`a[href="${target}"]`)]);
  const deliveryType = await page.evaluate(
    () => (performance.getEntriesByType("navigation")[0] as unknown as { deliveryType: string }).deliveryType,
  );
  return { page, deliveryType };
}

describe("predictive prefetch", () => {
  it("learns from demo traffic, prefetches in the ours arm, and the collector counts the hit", async () => {
    const summary = await runTraffic({
      baseUrl: edge,
      durationMs: 15_000,
      rps: 25,
      browser: false,
      random: seededRandom(42),
    });
    expect(summary.ok).toBeGreaterThan(50);
    // The cron rebuilds the model from what the edge learned (wrangler dev's scheduled route).
    await (await fetch(`${edge}/cdn-cgi/local/scheduled?cron=*/5+*+*+*+*`)).text();
    const target = await waitFor(
      "a prediction for a landing page",
      async () => {
        // Document rules speculate links on the page, so the target must be one of its links.
        for (const start of STARTS) {
          const html = await (await fetch(edge + start)).text();
          const first = (await predicted(start)).find(
            (p) => p.startsWith("/p/") && html.includes(`href="${p}"`),
          );
          if (first) {
            START = start;
            return first;
          }
        }
        const status = await (await fetch(`${edge}/_edge/prefetch/status`)).text();
        throw new Error(`no prediction yet; edge prefetch status ${status}`);
      },
      60_000,
      1000,
    );
    expect(target).toMatch(/^\/p\/\d+$/);
    expect((await (await fetch(edge + START)).text()).includes(`href="${target}"`)).toBe(true);

    const before = await prefetchStats();
    const ours = await navigateInArm("ours", target);
    expect(ours.deliveryType).toBe("navigational-prefetch");
    await ours.page.goto("about:blank"); // the beacon of the prefetched page view sends
    await ours.page.context().close();

    // The edge saw the speculative request, tagged with the arm by the browser.
    const after = await waitFor(
      "the ours-arm speculation and the prefetch hit in /_rum/v1/prefetch",
      async () => {
        const s = await prefetchStats();
        const arm = s.arms.find((a: { arm: string }) => a.arm === "ours");
        const was = before.arms.find((a: { arm: string }) => a.arm === "ours");
        // The beacon reports the tab's arm and previous page view: the hit counts for the ours arm.
        return arm.speculations > was.speculations && arm.prefetchHits > was.prefetchHits ? s : undefined;
      },
      30_000,
      500,
    );
    expect(after.all.prefetchHits).toBeGreaterThanOrEqual(1);
    const oursArm = after.arms.find((a: { arm: string }) => a.arm === "ours");
    expect(oursArm.coverage).toBeGreaterThan(0);
    expect(oursArm.precision).toBeGreaterThan(0);
  }, 180_000);

  it("speculates nothing in a holdout tab", async () => {
    const target = (await predicted(START))[0] as string;
    const before = await prefetchStats();
    const holdout = await navigateInArm("holdout", target);
    expect(holdout.deliveryType).not.toBe("navigational-prefetch");
    await holdout.page.context().close();
    await new Promise((r) => setTimeout(r, 1500));
    const after = await prefetchStats();
    // A holdout tab would speculate with the ours rules (tag "ours"): that count must not move.
    const ours = (s: Json) => s.arms.find((a: { arm: string }) => a.arm === "ours").speculations;
    expect(ours(after)).toBe(ours(before));
  });
  it("falls back to <link rel=prefetch> in the ours arm where Speculation Rules are unsupported", async () => {
    const target = (await predicted(START))[0] as string;
    const context = await browser.newContext();
    await context.addInitScript(() => {
      sessionStorage.setItem("rum:arm", "ours");
      HTMLScriptElement.supports = () => false;
    });
    const page = await context.newPage();
    await page.goto(edge + START, { waitUntil: "load" });
    await page.waitForSelector(`link[rel="prefetch"][href="${target}"]`, {
      state: "attached",
      timeout: 10_000,
    });
    await context.close();
  });
});
