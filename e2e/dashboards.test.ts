/**
 * The dashboards in real Chromium against the local stack (wrangler dev with the collector, its
 * query and insight routes and the dashboards) over seeded D1 data: log in, every view renders
 * with data at 1280 and 390 px without anything overflowing its card (measured in the page),
 * a drill-down click filters, a shared URL restores the view, CSV/JSON exports download, the
 * keyboard reaches and works the controls, and the SLO burn alerts reach a local webhook
 * receiver once (and resolve once) when the cron runs. Screenshots go to .state/screenshots/
 * (`UPDATE_SCREENSHOTS=1`: dashboards/screenshots/, which the README shows).
 */
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, type Stack, startStack, WRANGLER_ENV } from "../scripts/stack.mjs";
import { launchChromium, waitFor } from "./browser.ts";
import { overflowProblems } from "./dashboards-overflow.ts";
import { seedRows, seedSql, sessionColumnsSql } from "./dashboards-seed.ts";

// The README's walkthrough uses the committed copies: `UPDATE_SCREENSHOTS=1 npm test` refreshes
// them; any other run writes to .state/ so a test run leaves the work tree clean.
const SHOTS = process.env.UPDATE_SCREENSHOTS
  ? path.join(ROOT, "dashboards", "screenshots")
  : path.join(ROOT, ".state", "screenshots");
const WIDTHS = [1280, 390] as const;
let stack: Stack;
let browser: Browser;
let base: string;
let context: BrowserContext;
let receiver: Server;
const hooks: Record<string, unknown>[] = [];
/** When the seeded hour ends: cron runs are timed against it, so the burn windows hold the same rows however long the tests before took. */
let seededAt = 0;
const persistTo = path.join(ROOT, ".state", `dash-e2e-${process.pid}`);

function wrangler(args: string[]): Promise<string> {
  const bin = path.join(
    path.dirname(createRequire(import.meta.url).resolve("wrangler/package.json")),
    "bin",
    "wrangler.js",
  );
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [bin, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...WRANGLER_ENV },
    });
    let out = "";
    let err = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (err += d));
    p.on("exit", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`wrangler ${args.join(" ")} failed: ${err || out}`)),
    );
  });
}

async function seed(now: number): Promise<void> {
  rmSync(persistTo, { recursive: true, force: true });
  mkdirSync(persistTo, { recursive: true });
  const local = ["--local", "--persist-to", persistTo];
  await wrangler(["d1", "migrations", "apply", "DB", ...local]);
  const info = JSON.parse(
    await wrangler([
      "d1",
      "execute",
      "DB",
      ...local,
      "--json",
      "--command",
      "PRAGMA table_info(rum_page_views)",
    ]),
  ) as { results: { name: string }[] }[];
  const cols = new Set(info[0]?.results.map((c) => c.name) ?? []);
  const file = path.join(persistTo, "seed.sql");
  // The hour before: Brazil as fast as everyone else; this hour: Brazil's middle mile is slow.
  const rows = [
    ...seedRows(now - 3_600_000, 200, { slowBrazil: false, tag: "a" }),
    ...seedRows(now, 320, { slowBrazil: true, tag: "b" }),
  ];
  writeFileSync(file, `${sessionColumnsSql(cols)}\n${seedSql(rows)}`);
  await wrangler(["d1", "execute", "DB", ...local, "--file", file, "--yes"]);
}

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      hooks.push({ path: req.url, ...(JSON.parse(body) as Record<string, unknown>) });
      res.end("ok");
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  seededAt = Date.now();
  await seed(seededAt);
  [stack, browser] = await Promise.all([
    startStack({
      services: ["edge"],
      edgePort: 0,
      quiet: process.env.DASH_E2E_VERBOSE !== "1",
      persistTo,
      readyTimeoutMs: 150_000,
      vars: { RUM_ALERT_WEBHOOK: hookUrl, RUM_ALERT_FORMAT: "slack" },
    }),
    launchChromium(),
  ]);
  base = stack.urls.edge as string;
  mkdirSync(SHOTS, { recursive: true });
  context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  receiver?.close();
  rmSync(persistTo, { recursive: true, force: true });
});

async function open(page: Page, url: string): Promise<void> {
  const res = await page.goto(base + url, { waitUntil: "load" });
  expect(res?.status(), url).toBe(200);
  // Streamed panels: every loading line is gone once its body arrived.
  expect(await page.locator(".loading:visible").count(), `${url}: a panel is still loading`).toBe(0);
}

async function checkLayout(page: Page, shot: string): Promise<void> {
  const problems = await page.evaluate(overflowProblems);
  await page.screenshot({ path: path.join(SHOTS, `${shot}.png`), fullPage: true });
  expect(problems, `${shot}: elements overflow their cards`).toEqual([]);
}

describe("dashboards in Chromium", () => {
  it("logs in through the form and lands where it was going", async () => {
    const page = await context.newPage();
    await page.goto(`${base}/_dash/slo`);
    expect(page.url()).toContain("/_dash/login?next=%2F_dash%2Fslo");
    await page.getByLabel("Dashboard token").fill(stack.tokens.dash as string);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${base}/_dash/slo`);
    await expect(page.locator('tr[data-slo="ttfb-99"]').count()).resolves.toBe(1);
    await page.close();
  });

  const views: [string, string, (p: Page) => Promise<void>][] = [
    [
      "overview",
      "/_dash/?attrBy=country",
      async (p) => {
        expect(await p.locator(".tile .value").first().textContent()).not.toBe("–");
        expect(await p.locator('.attribution tr[data-group="BR"]').count()).toBe(1);
      },
    ],
    [
      "pageviews",
      "/_dash/pageviews?limit=30",
      async (p) => expect(await p.locator("tr.pv").count()).toBe(30),
    ],
    [
      "slo",
      "/_dash/slo",
      async (p) => expect(await p.locator('tr[data-slo="ttfb-99"] .badge.firing').count()).toBe(2),
    ],
    [
      "distribution",
      "/_dash/distribution?metric=ttfb",
      async (p) => {
        expect(await p.locator("svg.histogram rect.bin.poor").count()).toBeGreaterThan(0);
        expect(await p.locator("table.slowest tbody tr").count()).toBe(20);
      },
    ],
    [
      "impact",
      "/_dash/impact",
      async (p) => expect(await p.locator("table.impact tbody tr").count()).toBe(7),
    ],
    [
      "effects",
      "/_dash/effects",
      async (p) => {
        expect(await p.locator(".hit-ratio").textContent()).toMatch(/%$/);
        expect(await p.locator("table.prefetch-arms tbody tr").count()).toBe(3);
        expect(await p.locator('.images-format tr[data-group="avif"]').count()).toBe(1);
      },
    ],
    [
      "pageview",
      "/_dash/pageview?site=demo&pvid=__SLOWEST__",
      async (p) => {
        expect(await p.locator('tr[data-phase="middleMile"]').count()).toBe(1);
        expect(await p.locator("table.edge-record").textContent()).toContain("GRU");
      },
    ],
  ];

  for (const width of WIDTHS)
    for (const [name, url, check] of views)
      it(`${name} renders with data and nothing overflows at ${width} px`, async () => {
        const page = await context.newPage();
        await page.setViewportSize({ width, height: 900 });
        let target = url;
        if (url.includes("__SLOWEST__")) {
          // The slowest TTFB page view in Brazil, found through the page an SRE would use.
          await open(page, "/_dash/distribution?metric=ttfb&country=BR");
          const pvid = await page.locator("table.slowest tbody tr").first().getAttribute("data-pvid");
          target = url.replace("__SLOWEST__", pvid as string);
        }
        await open(page, target);
        await check(page);
        await checkLayout(page, `${name}-${width}`);
        await page.close();
      });

  it("the overflow check fails when something runs out of its card", async () => {
    const page = await context.newPage();
    await open(page, "/_dash/slo");
    expect(await page.evaluate(overflowProblems)).toEqual([]);
    await page.evaluate(() => {
      const wide = document.createElement("div");
      wide.textContent = "too wide";
      wide.style.width = "3000px";
      document.querySelector("section.card h2")?.after(wide);
    });
    const found = await page.evaluate(overflowProblems);
    expect(found.some((p) => p.includes('div "too wide"'))).toBe(true);
    await page.close();
  });

  it("a drill-down click filters the view to that country", async () => {
    const page = await context.newPage();
    await open(page, "/_dash/?attrBy=country");
    await page.locator('.attribution tr[data-group="BR"] a.drill').click();
    await page.waitForURL(/country=BR/);
    expect(await page.getByLabel("Country").inputValue()).toBe("BR");
    expect(await page.locator(".attribution tr.attr-row").count()).toBe(1);
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.screenshot({ path: path.join(SHOTS, "overview-br-1280.png"), fullPage: true });
    await page.close();
  });

  it("a shared URL restores the view in a fresh browser (after signing in)", async () => {
    const shared = "/_dash/?metric=ttfb&pct=p95&by=colo&attrBy=colo&country=BR";
    const fresh = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await fresh.newPage();
    await page.goto(base + shared);
    await page.getByLabel("Dashboard token").fill(stack.tokens.dash as string);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(base + shared);
    expect(await page.getByLabel("Country").inputValue()).toBe("BR");
    expect(await page.locator(".series .ranges a.active").allInnerTexts()).toEqual(["TTFB", "p95"]);
    expect(await page.locator('.percentiles tr[data-group="GRU"]').count()).toBe(1);
    await fresh.close();
  });

  it("CSV and JSON exports download what the table shows", async () => {
    const page = await context.newPage();
    await open(page, "/_dash/distribution?metric=ttfb&country=BR");
    const [csv] = await Promise.all([
      page.waitForEvent("download"),
      page.locator(".slowest .export a", { hasText: "CSV" }).click(),
    ]);
    expect(csv.suggestedFilename()).toBe("distribution-slowest.csv");
    const lines = readFileSync(await csv.path(), "utf8")
      .trim()
      .split("\r\n");
    expect(lines[0]).toMatch(/^ts,pvid,pageGroup/);
    expect(lines).toHaveLength(21);
    expect(lines.slice(1).every((l) => l.includes(",BR,GRU,"))).toBe(true);
    await open(page, "/_dash/slo");
    const [json] = await Promise.all([
      page.waitForEvent("download"),
      page.locator(".export a", { hasText: "JSON" }).click(),
    ]);
    const rows = JSON.parse(readFileSync(await json.path(), "utf8")) as { id: string }[];
    expect(rows.map((r) => r.id)).toEqual(["lcp-p75", "ttfb-99"]);
    await page.close();
  });

  it("the keyboard reaches the skip link, the navigation and a metric switch", async () => {
    const page = await context.newPage();
    await open(page, "/_dash/distribution");
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Skip to content");
    let found = false;
    for (let i = 0; i < 40 && !found; i++) {
      await page.keyboard.press("Tab");
      found = (await page.evaluate(() => document.activeElement?.textContent)) === "TTFB";
    }
    expect(found).toBe(true);
    await page.keyboard.press("Enter");
    await page.waitForURL(/metric=ttfb/);
    // Every control has an accessible name.
    const unnamed = await page.evaluate(() =>
      Array.from(document.querySelectorAll("input:not([type=hidden]), select, button, a, [tabindex='0']"))
        .filter((el) => !(el.getAttribute("aria-label") || el.textContent?.trim() || el.closest("label")))
        .map((el) => el.outerHTML.slice(0, 80)),
    );
    expect(unnamed).toEqual([]);
    await page.close();
  });
});

describe("SLO burn alerts to a local webhook", () => {
  const cron = (time?: number) =>
    fetch(`${base}/cdn-cgi/local/scheduled?cron=*%2F5+*+*+*+*${time ? `&time=${time}` : ""}`);

  it("the cron sends one firing message per rule, none on the next run or in silence, and a resolve when the burn stops", async () => {
    expect((await cron(seededAt)).status).toBe(200);
    const firing = await waitFor("two firing messages", () =>
      hooks.length >= 2 ? hooks.slice() : undefined,
    );
    expect(firing.map((h) => String(h.text).split("\n")[0])).toEqual([
      ':rotating_light: [PAGE] SLO "p99 TTFB ≤ 800 ms" is burning its error budget',
      ':rotating_light: [TICKET] SLO "p99 TTFB ≤ 800 ms" is burning its error budget',
    ]);
    expect(firing[0]?.path).toBe("/hook");
    expect((await cron(seededAt + 60_000)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1000));
    expect(hooks).toHaveLength(2);
    // Seven hours later no page view falls in any burn window: silence is no evidence (beacons
    // stop in a total outage too), so both alerts keep firing and nothing is sent.
    expect((await cron(seededAt + 7 * 3_600_000)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1000));
    expect(hooks).toHaveLength(2);
    // Evidence of recovery resolves them. `time` is only the evaluation's clock: at the end of the
    // seeded calm hour before, every burn window holds fast page views, so both resolve, once.
    expect((await cron(seededAt - 3_600_000)).status).toBe(200);
    const all = await waitFor("two resolve messages", () => (hooks.length >= 4 ? hooks.slice() : undefined));
    expect(all.slice(2).map((h) => String(h.text).split("\n")[0])).toEqual([
      ':white_check_mark: [RESOLVED page] SLO "p99 TTFB ≤ 800 ms" is back under its burn-rate threshold',
      ':white_check_mark: [RESOLVED ticket] SLO "p99 TTFB ≤ 800 ms" is back under its burn-rate threshold',
    ]);
  });
});
