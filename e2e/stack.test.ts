/**
 * End to end through the whole local stack (scripts/stack.mjs: demo origin, image service,
 * wrangler dev with edge + collector + query API): real headless Chromium loads demo pages
 * through the edge (a MISS, then a HIT in a fresh context, and the CSP-strict page), leaves
 * them so the injected beacon sends, and the page views are found with every metric and
 * attribution part through `GET /_rum/v1/pageviews` and `GET /_rum/v1/query`.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "../scripts/stack.mjs";
import { launchChromium, waitFor } from "./browser.ts";

let stack: Stack;
let browser: Browser;
let edge: string;
let auth: Record<string, string>;

beforeAll(async () => {
  [stack, browser] = await Promise.all([
    startStack({
      edgePort: 0,
      imagePort: 0,
      demoPort: 0,
      traffic: false,
      quiet: true,
      readyTimeoutMs: 150_000,
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

interface ViewResult {
  rid: string;
  cacheStatus: string;
  cspViolations: string[];
}

/** One page view in a fresh context (no browser HTTP cache: TOOLCHAIN pitfall 10), then leave. */
async function view(path: string): Promise<ViewResult> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cspViolations: string[] = [];
  page.on("console", (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  await page.goto(edge + path, { waitUntil: "load" });
  const timing = await page.evaluate(() => {
    const nav = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming;
    return nav.serverTiming.map((t) => ({ name: t.name, description: t.description }));
  });
  await page.waitForTimeout(300);
  await page.click("h1"); // an interaction, so INP exists
  await page.waitForTimeout(300);
  await page.goto("about:blank"); // pagehide + visibilitychange → the beacon sends
  await context.close();
  const rid = timing.find((t) => t.name === "rid")?.description;
  const cacheStatus = timing.find((t) => t.name === "cdn-cache")?.description;
  if (!rid || !cacheStatus)
    throw new Error(`no rid/cdn-cache in Server-Timing of ${path}: ${JSON.stringify(timing)}`);
  return { rid, cacheStatus, cspViolations };
}

type Row = Record<string, unknown>;

/** The rows of a `/v1/pageviews` answer (a top-level array or the first array property). */
function rowsOf(body: unknown): Row[] {
  if (Array.isArray(body)) return body as Row[];
  if (body && typeof body === "object") {
    for (const v of Object.values(body)) if (Array.isArray(v)) return v as Row[];
  }
  return [];
}

/** A metric or attribution part of a row, flat (camelCase or snake_case) or nested. */
function field(row: Row, name: string): unknown {
  const snake = name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  for (const obj of [row, row.attribution, row.vitals, (row.attribution as Row | undefined)?.render]) {
    if (obj && typeof obj === "object") {
      const o = obj as Row;
      if (name in o) return o[name];
      if (snake in o) return o[snake];
    }
  }
  return undefined;
}

async function pageViews(): Promise<Row[]> {
  const res = await fetch(`${edge}/_rum/v1/pageviews?limit=200`, { headers: auth });
  if (res.status !== 200) throw new Error(`pageviews answered ${res.status}: ${await res.text()}`);
  return rowsOf(await res.json());
}

/** Polls the live view until the page view of `rid` is there with INP (queue → D1 is async). */
function findPageView(rid: string): Promise<Row> {
  return waitFor(
    `the page view of rid ${rid} in /_rum/v1/pageviews`,
    async () =>
      // Not `pending`: the store has joined it to the edge's own log record for its rid.
      (await pageViews()).find(
        (r) => field(r, "rid") === rid && typeof field(r, "inp") === "number" && r.pending !== true,
      ),
    60_000,
    500,
  );
}

const VITALS = ["lcp", "inp", "cls", "fcp", "ttfb"];
const TTFB_PARTS = [
  "queueing",
  "lastMileConnect",
  "lastMileWire",
  "lastMile",
  "edge",
  "middleMile",
  "backend",
];
const RENDER_PARTS = ["download", "resourceLoadDelay", "resourceLoadDuration", "elementRenderDelay"];

function expectComplete(row: Row, cacheStatus: string): void {
  for (const k of [...VITALS, ...TTFB_PARTS, ...RENDER_PARTS]) {
    const v = field(row, k);
    expect(typeof v, `${k} of ${JSON.stringify(row)}`).toBe("number");
    expect(v as number, k).toBeGreaterThanOrEqual(0);
  }
  expect(field(row, "cacheStatus")).toBe(cacheStatus);
  const n = (k: string) => field(row, k) as number;
  // The attribution contract: the TTFB parts add up to TTFB.
  const sum = n("queueing") + n("lastMile") + n("edge") + n("middleMile") + n("backend");
  expect(Math.abs(sum - n("ttfb")), `parts ${sum} vs ttfb ${n("ttfb")}`).toBeLessThan(0.01);
  expect(Math.abs(n("lastMileConnect") + n("lastMileWire") - n("lastMile"))).toBeLessThan(0.01);
}

// Generous: wrangler dev, the queue (1 s batches) and D1 share 2 cores with everything else.
describe("RUM end to end through the edge", { timeout: 180_000 }, () => {
  it("the edge injects the beacon once and the collector serves it", async () => {
    const html = await (await fetch(`${edge}/`)).text();
    expect(html.match(/<script[^>]+src="\/_rum\/beacon(\.[0-9a-z]+)?\.js"/g)).toHaveLength(1);
    const js = await fetch(`${edge}/_rum/beacon.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toBe("application/javascript; charset=utf-8");
    expect(js.headers.get("etag")).toBeTruthy();
    const body = await js.text();
    expect(body).toContain("sendBeacon");
    // The edge's origin is registered for site "demo" (RUM_SITES): that is the embedded default.
    expect(body).toContain('"demo"');
  });

  it("a MISS and a HIT page view arrive with every metric and attribution part", async () => {
    const home = await (await fetch(`${edge}/`)).text();
    const product = /href="(\/p\/[^"?#]+)"/.exec(home)?.[1];
    if (!product) throw new Error("no product link on the demo home page");
    const miss = await view(product);
    const hit = await view(product);
    expect(miss.cacheStatus).toBe("MISS");
    expect(hit.cacheStatus).toBe("HIT");

    const missRow = await findPageView(miss.rid);
    expectComplete(missRow, "MISS");
    // The demo origin spends ~40 ms in its backend (Server-Timing app) on every MISS.
    expect(field(missRow, "backend") as number).toBeGreaterThan(0);

    const hitRow = await findPageView(hit.rid);
    expectComplete(hitRow, "HIT");
    expect(field(hitRow, "middleMile")).toBe(0);
    expect(field(hitRow, "backend")).toBe(0);
  });

  it("the CSP-strict page (script-src 'self'; connect-src 'self') still reports", async () => {
    const v = await view("/__demo/csp");
    expect(v.cspViolations).toEqual([]);
    const row = await findPageView(v.rid);
    for (const k of VITALS) expect(typeof field(row, k), k).toBe("number");
  });

  it("a purge through the admin API goes through the purge coordinator (Durable Object) and holds", async () => {
    const path = "/__demo/csp?purge-e2e=1";
    await (await fetch(edge + path)).arrayBuffer();
    const cached = await fetch(edge + path);
    await cached.arrayBuffer();
    expect(cached.headers.get("server-timing")).toContain("cdn-cache;desc=HIT");
    const purge = await fetch(`${edge}/_edge/purge`, {
      method: "POST",
      headers: { authorization: `Bearer ${stack.tokens.admin}`, "content-type": "application/json" },
      body: JSON.stringify({ urls: [path] }),
    });
    expect(purge.status, await purge.clone().text()).toBe(200);
    await purge.arrayBuffer();
    const after = await fetch(edge + path);
    await after.arrayBuffer();
    expect(after.headers.get("server-timing")).toContain("cdn-cache;desc=MISS");
    // The purge document was written by the coordinator (a failed call falls back to a direct write).
    const health = await fetch(`${edge}/_edge/health`, {
      headers: { authorization: `Bearer ${stack.tokens.admin}` },
    });
    const purgeState = ((await health.json()) as { purge: Record<string, unknown> }).purge;
    expect(purgeState, JSON.stringify(purgeState)).toMatchObject({
      writer: "coordinator",
      lastWrite: "coordinator",
    });
  });

  it("/_rum/v1/query gives LCP percentiles by cache status, HIT and MISS included", async () => {
    const groups = await waitFor(
      "HIT and MISS groups in /_rum/v1/query",
      async () => {
        const res = await fetch(`${edge}/_rum/v1/query?metric=lcp&groupBy=cacheStatus`, { headers: auth });
        if (res.status !== 200) throw new Error(`query answered ${res.status}: ${await res.text()}`);
        const body = (await res.json()) as {
          groups?: Array<{ key: string; count: number; percentiles: Record<string, number | null> }>;
        };
        const keys = new Set((body.groups ?? []).filter((g) => g.count > 0).map((g) => g.key));
        return keys.has("HIT") && keys.has("MISS") ? body.groups : undefined;
      },
      60_000,
      500,
    );
    for (const g of groups ?? []) {
      if (g.key === "HIT" || g.key === "MISS") expect(g.percentiles.p75).toBeGreaterThan(0);
    }
  });

  it("the edge's page-view log arrives through the queue: /_rum/v1/coverage counts edge views and beacons", async () => {
    // The page views above went through the edge (MISS and HIT); their log records travel as
    // columnar batches through the real local queue to the consumer.
    const total = await waitFor(
      "edge views and beacons in /_rum/v1/coverage",
      async () => {
        const res = await fetch(`${edge}/_rum/v1/coverage`, { headers: auth });
        if (res.status !== 200) throw new Error(`coverage answered ${res.status}: ${await res.text()}`);
        const body = (await res.json()) as { total?: { beacons: number; edgeViews: number } };
        const t = body.total;
        return t && t.edgeViews >= 2 && t.beacons >= 2 ? t : undefined;
      },
      60_000,
      500,
    );
    expect(total?.edgeViews).toBeGreaterThanOrEqual(2);
  });
});
