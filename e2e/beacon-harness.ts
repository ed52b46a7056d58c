/**
 * A tiny origin for the beacon's browser tests, independent of the edge and collector: serves
 * test pages, the beacon exactly as the Worker serves it (`beaconAssetResponse`), the ESM npm
 * build, and records every POST to `/_rum/v1/beacon` (and any OPTIONS preflight, which must
 * never happen). Listens on a free port on 127.0.0.1; `localhost:<port>` is a second origin.
 */
import { randomFillSync } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { crc32, deflateSync } from "node:zlib";
import type { BeaconPayload } from "../common/src/rum-types.ts";
import { bundleScript } from "../rum-collector/beacon/bundle.ts";
import { beaconAssetResponse } from "../rum-collector/src/beacon-asset.ts";

export interface ReceivedBeacon {
  payload: BeaconPayload;
  contentType: string;
  cookie: string | undefined;
  origin: string | undefined;
  host: string;
}

export interface BeaconHarness {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** Same server, other origin: `http://localhost:<port>`. */
  otherOrigin: string;
  beacons: ReceivedBeacon[];
  preflights: number;
  stop(): Promise<void>;
}

const SERVER_TIMING =
  "cdn-cache;desc=MISS, edge;dur=7.5, origin;dur=5.25, app;dur=3, rtt;dur=1, rid;desc=r-0123456789abcdef";
const CSP = "default-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self'; style-src 'self'";

function page(title: string, head: string, extraBody = ""): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title>
<meta name="viewport" content="width=device-width">${head}</head>
<body><h1>${title}</h1><img id="hero" src="/hero.png?${title}" width="240" height="160" alt="hero">
<p id="text">A product page with a hero image, so LCP is an image with all four sub-parts.</p>
<button id="buy" type="button">Add to cart</button><button id="slow" type="button">Compare</button>${extraBody}
<script src="/page.js"></script></body></html>`;
}

// Busy-waits on click so the interaction is long enough for Event Timing (and so INP exists),
// and shifts the layout once after load so CLS is above 0. External: works under the strict CSP.
const PAGE_JS = `
document.getElementById("buy").addEventListener("click", () => {
  const end = performance.now() + 120; while (performance.now() < end) {}
  document.getElementById("buy").textContent = "Added";
});
document.getElementById("slow").addEventListener("click", () => {
  const end = performance.now() + 400; while (performance.now() < end) {}
  document.getElementById("slow").textContent = "Compared";
});
addEventListener("load", () => setTimeout(() => {
  const d = document.createElement("div"); d.style.height = "120px"; d.textContent = "banner";
  document.body.insertBefore(d, document.body.firstChild); window.__shifted = true;
}, 150));
`;

/**
 * A noisy RGB PNG: Chromium ignores low-entropy images (e.g. a flat SVG) as LCP candidates, so
 * the hero must carry real bytes per pixel to be the LCP element.
 */
function noisePng(width: number, height: number): Buffer {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 3 + 1)] = 0; // filter: none
    randomFillSync(raw, y * (width * 3 + 1) + 1, width * 3);
  }
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}
const HERO_PNG = noisePng(240, 160);

/** Starts the harness origin (caller stops it). */
export async function startBeaconHarness(): Promise<BeaconHarness> {
  const esm = await bundleScript(`export * from "./index.ts";`, { format: "esm" });
  const wvAttribution = await readFile(
    path.join(import.meta.dirname, "../node_modules/web-vitals/dist/web-vitals.attribution.iife.js"),
    "utf8",
  );
  const beacons: ReceivedBeacon[] = [];
  let preflights = 0;
  let port = 0;

  const pages: Record<string, () => { html: string; headers?: Record<string, string> }> = {
    "/page": () => ({ html: page("page", `<script src="/_rum/beacon.js" async></script>`) }),
    "/csp": () => ({
      html: page("csp", `<script src="/_rum/beacon.js" async></script>`),
      headers: { "Content-Security-Policy": CSP },
    }),
    "/consent": () => ({
      html: page("consent", `<script src="/_rum/beacon.js" data-consent="pending" async></script>`),
    }),
    "/sampled-out": () => ({
      html: page("sampled-out", `<script src="/_rum/beacon.js" data-sample="0" async></script>`),
    }),
    "/attrs": () => ({
      html: page(
        "attrs",
        `<script src="/_rum/beacon.js" data-site="shop-eu" data-endpoint="/collect/here" async></script>`,
      ),
    }),
    // The page breaks the APIs the beacon relies on before it runs: the page must keep working.
    "/hostile": () => ({
      html: page("hostile", `<script src="/hostile.js"></script><script src="/_rum/beacon.js"></script>`),
    }),
    // sendBeacon refuses (as it does over its quota): the record must go by fetch keepalive.
    "/no-sendbeacon": () => ({
      html: page(
        "no-sendbeacon",
        `<script src="/no-sendbeacon.js"></script><script src="/_rum/beacon.js"></script>`,
      ),
    }),
    // web-vitals' attribution build next to ours, to compare LCP sub-parts on the same view.
    "/compare": () => ({
      html: page(
        "compare",
        `<script src="/wv-attribution.js"></script><script src="/wv-probe.js"></script><script src="/_rum/beacon.js" async></script>`,
      ),
    }),
    // Back/forward cache: cacheable (no `no-store`), a link to follow and a restore counter.
    "/bf": () => ({
      html: page(
        "bf",
        `<script src="/wv-attribution.js"></script><script src="/bf.js"></script><script src="/_rum/beacon.js" async></script>`,
        `<a id="next" href="/bf/next">next</a>`,
      ),
      headers: { "Cache-Control": "private, max-age=0" },
    }),
    // Conversions: one queued through the documented stub before the beacon runs.
    "/conv": () => ({
      html: page(
        "conv",
        `<script src="/conv-stub.js"></script><script src="/_rum/beacon.js" async></script>`,
      ),
    }),
    // The edge-injected tag has no attributes: the arm shares come with the served script.
    "/armed": () => ({ html: page("armed", `<script src="/armed/_rum/beacon.js" async></script>`) }),
    // Prefetch arms: every tab in the press arm; links to press on.
    "/arms": () => ({
      html: page(
        "arms",
        `<script src="/_rum/beacon.js" data-prefetch-arms="holdout:0,press:1" async></script>`,
        `<a id="same" href="/arms/target?x=1">same origin</a><a id="other" href="OTHER/arms/elsewhere">other origin</a>`,
      ),
    }),
    // The npm entry point (ESM) posting to a collector on another origin.
    "/npm": () => ({ html: page("npm", `<script type="module" src="/npm-start.js"></script>`) }),
  };

  const scripts: Record<string, () => string> = {
    "/page.js": () => PAGE_JS,
    "/hostile.js": () =>
      `window.PerformanceObserver = function () { throw new Error("hostile"); };
       Object.defineProperty(window, "crypto", { get() { throw new Error("hostile"); } });`,
    "/no-sendbeacon.js": () => `navigator.sendBeacon = function () { return false; };`,
    "/wv-attribution.js": () => wvAttribution,
    "/wv-probe.js": () =>
      `webVitals.onLCP(function (m) { window.__wvLcp = { value: m.value, attribution: m.attribution }; }, { reportAllChanges: true });
       webVitals.onFCP(function (m) { window.__wvFcp = m.value; });
       webVitals.onCLS(function (m) { window.__wvCls = m.value; }, { reportAllChanges: true });`,
    "/bf.js": () =>
      `addEventListener("pageshow", (e) => { if (e.persisted) window.__restored = (window.__restored || 0) + 1; });
       webVitals.onLCP(function (m) { if (m.navigationType === "back-forward-cache") window.__wvBfLcp = m.value; }, { reportAllChanges: true });`,
    "/conv-stub.js": () =>
      `window.rum = window.rum || { q: [], conversion: function (v) { this.q.push(v); } }; window.rum.conversion(42);`,
    "/rum.mjs": () => esm,
    "/npm-start.js": () =>
      `import { startRum } from "/rum.mjs";
       window.__rum = startRum({ endpoint: "http://localhost:${port}/_rum/v1/beacon", site: "shop-npm" });`,
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void handle(req, res).catch((e) => {
      res.writeHead(500, { "Content-Type": "text/plain" });
      res.end(String(e));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", `http://${req.headers.host}`);
    const cors = { "Access-Control-Allow-Origin": req.headers.origin ?? "*" };
    if (req.method === "OPTIONS") {
      preflights++;
      res.writeHead(204, cors).end();
      return;
    }
    if (req.method === "POST" && (url.pathname === "/_rum/v1/beacon" || url.pathname === "/collect/here")) {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      beacons.push({
        payload: JSON.parse(Buffer.concat(chunks).toString("utf8")) as BeaconPayload,
        contentType: req.headers["content-type"] ?? "",
        cookie: req.headers.cookie,
        origin: req.headers.origin,
        host: url.host + url.pathname,
      });
      res.writeHead(204, cors).end();
      return;
    }
    if (url.pathname.startsWith("/_rum/beacon") || url.pathname.startsWith("/armed/_rum/beacon")) {
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
      // Under /armed/ the script is served with default prefetch arm shares (RUM_PREFETCH_ARMS).
      const prefetchArms = url.pathname.startsWith("/armed/") ? "holdout:0,ours:1" : undefined;
      const r = beaconAssetResponse(new Request(url, { method: req.method, headers }), { prefetchArms });
      res.writeHead(r.status, Object.fromEntries(r.headers));
      res.end(await r.text());
      return;
    }
    if (url.pathname === "/hero.png") {
      // Slow enough that the image's load delay and duration are both visible.
      await new Promise((r) => setTimeout(r, 120));
      res.writeHead(200, { "Content-Type": "image/png", "Cache-Control": "no-store" }).end(HERO_PNG);
      return;
    }
    const script = scripts[url.pathname];
    if (script) {
      res.writeHead(200, { "Content-Type": "application/javascript; charset=utf-8" }).end(script());
      return;
    }
    // "/consent/denied" serves the "/consent" page: distinct URLs tell page views apart.
    const p = pages[`/${url.pathname.split("/")[1]}`];
    if (p) {
      const { html: raw, headers } = p();
      const html = raw.replace("OTHER/", `http://localhost:${port}/`);
      res.writeHead(200, {
        "Content-Type": "text/html; charset=utf-8",
        "Cache-Control": "no-store",
        "Server-Timing": SERVER_TIMING,
        ...headers,
      });
      res.end(html);
      return;
    }
    res.writeHead(404, { "Content-Type": "text/plain" }).end("not found");
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    otherOrigin: `http://localhost:${port}`,
    beacons,
    get preflights() {
      return preflights;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
