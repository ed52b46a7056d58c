/**
 * Demo traffic: simulated shoppers walking the shop (home → category → products → related →
 * sometimes cart and checkout) with realistic mobile/desktop User-Agents and marketing
 * parameters on landing pages. Plain HTTP cannot send RUM beacons, so these are edge page views;
 * when Chromium and playwright-core are available a few pages are also opened in a real headless
 * browser (best effort, bounded) so that real beacons arrive.
 *
 * CLI: `node demo/src/traffic.ts [--base-url URL] [--duration-ms N] [--rps N] [--no-browser]`.
 */
import { existsSync } from "node:fs";
import { pathToFileURL } from "node:url";

export type TrafficOptions = {
  /** Where the shop is (default http://127.0.0.1:8787, the edge). */
  baseUrl: string;
  /** How long to run before stopping by itself (default 60 000 ms). */
  durationMs?: number;
  /** Target requests per second across all shoppers (default 5). */
  rps?: number;
  /** Progress and summary lines (default: none). */
  log?: (line: string) => void;
  /** Open a few pages in headless Chromium when available (default true; best effort). */
  browser?: boolean;
  /** How many page views the browser makes at most (default 8). */
  browserPages?: number;
  /** Chromium binary (default /usr/bin/chromium). */
  chromiumPath?: string;
  /** At most this many shopper requests in flight (default 8). */
  concurrency?: number;
  /** Randomness for the walk (default Math.random). */
  random?: () => number;
  /** Stops early when aborted. */
  signal?: AbortSignal;
  /** Interval between progress lines (default 10 000 ms). */
  progressEveryMs?: number;
};

export type TrafficSummary = {
  requests: number;
  ok: number;
  errors: number;
  sessions: number;
  byStatus: Record<string, number>;
  /** From the edge's `Server-Timing: cdn-cache;desc=…`; "none" when the header is absent (origin direct). */
  byCache: Record<string, number>;
  byPageType: Record<string, number>;
  browserPageViews: number;
  p50Ms: number;
  p95Ms: number;
};

export const USER_AGENTS = {
  mobile: [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/27.0 Chrome/125.0.0.0 Mobile Safari/537.36",
  ],
  desktop: [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.6 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:144.0) Gecko/20100101 Firefox/144.0",
  ],
} as const;

const MARKETING = [
  "utm_source=newsletter&utm_medium=email&utm_campaign=autumn-sale",
  "utm_source=google&utm_medium=cpc&utm_campaign=brand&gclid=Cj0KCQiA",
  "utm_source=facebook&utm_medium=social&fbclid=IwAR2x",
  "utm_source=partner&utm_medium=affiliate",
];
const SEARCH_TERMS = ["leather", "black", "wool", "oak", "runner", "lamp", "watch", "navy", "canvas tote"];

/** Chromium flags that keep a headless browser quiet on an offline machine. */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-default-apps",
  "--disable-sync",
  "--disable-domain-reliability",
  "--disable-breakpad",
  "--no-first-run",
  "--metrics-recording-only",
  "--disable-features=Translate,OptimizationHints,MediaRouter,InterestFeedContentSuggestions",
];

type Shopper = {
  ua: string;
  /** URL of the page the shopper is on (sent as Referer with the next page, as browsers do). */
  referer: string | undefined;
  cookies: Map<string, string>;
  next: string | undefined;
  steps: number;
  busy: boolean;
};

export type Step = { url: string; method: "GET" | "POST"; body?: URLSearchParams };

function pick<T>(list: readonly T[], random: () => number): T {
  return list[Math.floor(random() * list.length)] as T;
}

/**
 * Picks from a list in page order, the first entries far more often (shoppers click what is on
 * top: a listing's first products, a product's first related ones), so paths repeat the way
 * real click streams do and the edge's next-page model has something to learn.
 */
export function pickTop<T>(list: readonly T[], random: () => number): T {
  return list[Math.floor(random() ** 3 * list.length)] as T;
}

function linksOf(html: string, prefix: string): string[] {
  const out: string[] = [];
  for (const m of html.matchAll(/href="([^"]+)"/g)) {
    const href = m[1] ?? "";
    if (href.startsWith(prefix)) out.push(href);
  }
  return out;
}

function pageType(path: string): string {
  if (path === "/" || path.startsWith("/?")) return "home";
  const seg = path.split(/[/?]/)[1] ?? "";
  return (
    { c: "category", p: "product", search: "search", cart: "cart", checkout: "checkout" }[seg] ?? "other"
  );
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

/** The shopper's next move from the page at `path` (r from `random`); undefined ends the visit. */
export function nextStep(path: string, html: string, random: () => number): Step | undefined {
  const r = random();
  const type = pageType(path);
  const categories = linksOf(html, "/c/");
  const products = linksOf(html, "/p/");
  const get = (url: string | undefined): Step | undefined => (url ? { url, method: "GET" } : undefined);
  switch (type) {
    case "home":
      if (r < 0.1) return get(`/search?q=${encodeURIComponent(pick(SEARCH_TERMS, random))}`);
      if (r < 0.65) return get(pick(categories, random));
      return get(pick(products, random));
    case "category":
    case "search":
      if (r < 0.85) return get(pickTop(products, random));
      return r < 0.93 ? get("/") : undefined;
    case "product": {
      if (r < 0.55) return get(pickTop(products, random)); // related products come first on the page
      if (r < 0.68) return get(pick(categories, random));
      if (r < 0.8) {
        const id = /^\/p\/(\d+)/.exec(path)?.[1];
        return id ? { url: "/cart", method: "POST", body: new URLSearchParams({ add: id }) } : undefined;
      }
      return undefined;
    }
    case "cart":
      if (r < 0.4) return get("/checkout");
      return r < 0.7 ? get(pick(products, random)) : undefined;
    default:
      return undefined;
  }
}

/** A visit's first page: home, a category or a product, a third of them with marketing parameters. */
export function landingPage(random: () => number): string {
  const r = random();
  const base =
    r < 0.5
      ? "/"
      : r < 0.7
        ? `/c/${pick(["watches", "bags", "lamps", "running-shoes"], random)}`
        : `/p/${1 + Math.floor(random() * 200)}`;
  return random() < 0.35 ? `${base}?${pick(MARKETING, random)}` : base;
}

/** Runs simulated shoppers against `baseUrl` until `durationMs` passes (defaults in TrafficOptions). */
export async function runTraffic(options: TrafficOptions): Promise<TrafficSummary> {
  const durationMs = options.durationMs ?? 60_000;
  const rps = Math.max(0.1, options.rps ?? 5);
  const concurrency = Math.max(1, options.concurrency ?? 8);
  const random = options.random ?? Math.random;
  const log = options.log ?? (() => {});
  const base = options.baseUrl.replace(/\/$/, "");
  const started = performance.now();
  const deadline = started + durationMs;
  const summary: TrafficSummary = {
    requests: 0,
    ok: 0,
    errors: 0,
    sessions: 0,
    byStatus: {},
    byCache: {},
    byPageType: {},
    browserPageViews: 0,
    p50Ms: 0,
    p95Ms: 0,
  };
  const latencies: number[] = [];
  const shoppers: Shopper[] = [];
  let inFlight = 0;
  const stopped = () => options.signal?.aborted === true || performance.now() >= deadline;

  const request = async (
    shopper: Shopper,
    step: Step,
  ): Promise<{ status: number; html: string; location?: string }> => {
    const headers: Record<string, string> = {
      "User-Agent": shopper.ua,
      Accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
      "Accept-Language": "en-US,en;q=0.9",
    };
    if (shopper.referer) headers.Referer = base + shopper.referer;
    if (shopper.cookies.size) headers.Cookie = [...shopper.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    if (step.body) headers["Content-Type"] = "application/x-www-form-urlencoded";
    const t0 = performance.now();
    summary.requests++;
    const type = pageType(step.url);
    summary.byPageType[type] = (summary.byPageType[type] ?? 0) + 1;
    try {
      const res = await fetch(base + step.url, {
        method: step.method,
        headers,
        body: step.body,
        redirect: "manual",
        signal: AbortSignal.timeout(15_000),
      });
      const html = await res.text();
      latencies.push(performance.now() - t0);
      summary.byStatus[res.status] = (summary.byStatus[res.status] ?? 0) + 1;
      if (res.status < 400) summary.ok++;
      else summary.errors++;
      const cache = /cdn-cache;desc="?([A-Z]+)/.exec(res.headers.get("Server-Timing") ?? "")?.[1] ?? "none";
      summary.byCache[cache] = (summary.byCache[cache] ?? 0) + 1;
      for (const sc of res.headers.getSetCookie()) {
        const m = /^([^=;\s]+)=([^;]*)/.exec(sc);
        if (m?.[1]) shopper.cookies.set(m[1], m[2] ?? "");
      }
      return { status: res.status, html, location: res.headers.get("Location") ?? undefined };
    } catch {
      summary.errors++;
      summary.byStatus.network = (summary.byStatus.network ?? 0) + 1;
      return { status: 0, html: "" };
    }
  };

  const act = async (shopper: Shopper) => {
    shopper.busy = true;
    inFlight++;
    try {
      const url = shopper.next ?? "/";
      let res = await request(shopper, { url, method: "GET" });
      let path = url;
      shopper.steps++;
      let step = res.status === 200 && shopper.steps < 12 ? nextStep(path, res.html, random) : undefined;
      if (step?.method === "POST") {
        // Add-to-cart is a form post answered with a redirect, which a browser follows at once.
        res = await request(shopper, step);
        path = res.location ?? "/cart";
        step = res.status === 303 ? { url: path, method: "GET" } : undefined;
      }
      // The page this visit step loaded; an add-to-cart redirect keeps it as the Referer, as browsers do.
      shopper.referer = url;
      shopper.next = step?.url;
    } finally {
      shopper.busy = false;
      inFlight--;
    }
  };

  const newShopper = (): Shopper => {
    summary.sessions++;
    const mobile = random() < 0.6;
    return {
      ua: pick(mobile ? USER_AGENTS.mobile : USER_AGENTS.desktop, random),
      cookies: new Map(),
      referer: undefined,
      next: landingPage(random),
      steps: 0,
      busy: false,
    };
  };

  const browserRun =
    options.browser === false ? Promise.resolve(0) : runBrowser(base, options, deadline, log);

  const pending = new Set<Promise<void>>();
  let lastProgress = started;
  const progressEvery = options.progressEveryMs ?? 10_000;
  const interval = 1000 / rps;
  let nextTick = performance.now();
  while (!stopped()) {
    if (inFlight < concurrency) {
      // Retire finished visits; keep enough shoppers that each acts about once a second.
      for (let i = shoppers.length - 1; i >= 0; i--) {
        const s = shoppers[i] as Shopper;
        if (!s.busy && s.next === undefined) shoppers.splice(i, 1);
      }
      let shopper = shoppers.find((s) => !s.busy);
      if (!shopper || (shoppers.length < Math.ceil(rps) && random() < 0.3)) {
        shopper = newShopper();
        shoppers.push(shopper);
      }
      const p = act(shopper).finally(() => pending.delete(p));
      pending.add(p);
    }
    if (performance.now() - lastProgress >= progressEvery) {
      lastProgress = performance.now();
      log(progressLine(summary, latencies, (lastProgress - started) / 1000));
    }
    nextTick += interval;
    const wait = nextTick - performance.now();
    if (wait > 0)
      await new Promise((r) => setTimeout(r, Math.min(wait, Math.max(0, deadline - performance.now()))));
    else nextTick = performance.now(); // fell behind (slow shop): do not burst to catch up
  }
  await Promise.allSettled(pending);
  summary.browserPageViews = await browserRun;
  const sorted = [...latencies].sort((a, b) => a - b);
  summary.p50Ms = Math.round(quantile(sorted, 0.5) * 10) / 10;
  summary.p95Ms = Math.round(quantile(sorted, 0.95) * 10) / 10;
  log(`done: ${progressLine(summary, latencies, (performance.now() - started) / 1000)}`);
  return summary;
}

function progressLine(s: TrafficSummary, latencies: number[], seconds: number): string {
  const sorted = [...latencies].sort((a, b) => a - b);
  const cache = Object.entries(s.byCache)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
  const failed = Object.entries(s.byStatus)
    .filter(([status]) => !(Number(status) < 400))
    .map(([k, v]) => `${k}×${v}`)
    .join(" ");
  return `${seconds.toFixed(0)} s: ${s.requests} requests (${s.ok} ok, ${s.errors} errors${failed ? `: ${failed}` : ""}), ${s.sessions} shoppers, cache: ${cache || "-"}, p50 ${quantile(sorted, 0.5).toFixed(1)} ms${s.browserPageViews ? `, ${s.browserPageViews} browser page views` : ""}`;
}

/** Opens a few pages in headless Chromium so real beacons are sent; returns page views made, 0 if unavailable. */
async function runBrowser(base: string, options: TrafficOptions, deadline: number, log: (l: string) => void) {
  const executablePath = options.chromiumPath ?? "/usr/bin/chromium";
  if (!existsSync(executablePath)) {
    log(`browser: ${executablePath} not found, HTTP shoppers only`);
    return 0;
  }
  let chromium: typeof import("playwright-core").chromium;
  try {
    chromium = (await import("playwright-core")).chromium;
  } catch {
    log("browser: playwright-core not installed, HTTP shoppers only");
    return 0;
  }
  const maxPages = options.browserPages ?? 8;
  // Never let the browser outlive the run, even if a page hangs.
  const budget = Math.max(0, Math.min(deadline - performance.now(), 60_000));
  let views = 0;
  let browser: Awaited<ReturnType<typeof chromium.launch>> | undefined;
  const work = async () => {
    browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS, timeout: 15_000 });
    for (const device of ["mobile", "desktop"] as const) {
      const context = await browser.newContext({
        userAgent: USER_AGENTS[device][0],
        viewport: device === "mobile" ? { width: 390, height: 844 } : { width: 1366, height: 900 },
        isMobile: device === "mobile",
      });
      const page = await context.newPage();
      let url = `${base}/?utm_source=demo&utm_medium=browser`;
      for (let i = 0; i < maxPages / 2 && performance.now() < deadline - 3000; i++) {
        await page.goto(url, { waitUntil: "load", timeout: 15_000 });
        views++;
        // Give LCP a moment and let the beacon library see a settled page before leaving.
        await page.waitForTimeout(1000);
        const links = await page.$$eval("a[href^='/p/'], a[href^='/c/']", (as) =>
          as.map((a) => a.getAttribute("href") ?? ""),
        );
        const next = links[Math.floor(Math.random() * links.length)];
        if (!next) break;
        url = base + next;
      }
      // Leaving the last page fires pagehide/visibilitychange, which is when the beacon is sent.
      await page.goto("about:blank").catch(() => {});
      await page.waitForTimeout(300);
      await context.close();
    }
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      work(),
      new Promise<void>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`stopped after ${Math.round(budget / 1000)} s`)), budget);
        options.signal?.addEventListener("abort", () => reject(new Error("stopped")), { once: true });
      }),
    ]);
    log(`browser: ${views} page views in headless Chromium`);
  } catch (err) {
    log(
      `browser: ${err instanceof Error ? err.message.split("\n")[0] : String(err)} (after ${views} page views)`,
    );
  } finally {
    clearTimeout(timer);
    await (browser as { close(): Promise<void> } | undefined)?.close().catch(() => {});
  }
  return views;
}

function parseArgs(argv: string[]): TrafficOptions {
  const opts: TrafficOptions = { baseUrl: process.env.TRAFFIC_BASE_URL ?? "http://127.0.0.1:8787" };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    const num = (name: string) => {
      const raw = value();
      const n = Number(raw);
      if (!Number.isFinite(n) || n <= 0)
        throw new Error(`Invalid ${name}: expected a positive number (got "${raw}")`);
      return n;
    };
    if (arg === "--base-url") opts.baseUrl = value();
    else if (arg === "--duration-ms") opts.durationMs = num("--duration-ms");
    else if (arg === "--rps") opts.rps = num("--rps");
    else if (arg === "--browser-pages") opts.browserPages = num("--browser-pages");
    else if (arg === "--no-browser") opts.browser = false;
    else
      throw new Error(
        `Unknown option ${arg} (expected --base-url, --duration-ms, --rps, --browser-pages, --no-browser)`,
      );
  }
  return opts;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const opts = parseArgs(process.argv.slice(2));
    const controller = new AbortController();
    process.once("SIGINT", () => controller.abort());
    process.once("SIGTERM", () => controller.abort());
    const log = (line: string) => console.log(line);
    log(
      `shoppers: ${opts.rps ?? 5} requests/s for ${Math.round((opts.durationMs ?? 60_000) / 1000)} s against ${opts.baseUrl}`,
    );
    await runTraffic({ ...opts, log, signal: controller.signal });
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
