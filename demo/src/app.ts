/**
 * The demo retail origin as a Hono app: the shop's pages with realistic caching headers
 * (`Cache-Control` with `s-maxage`, `Cache-Tag`/`Surrogate-Key`, `ETag`), a simulated backend
 * reported in `Server-Timing: app;dur=…`, personal pages that must never be cached, and a request
 * counter (`/__demo/stats`) so tests can assert how often the origin was really asked.
 */
import type { Context } from "hono";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { getCookie, setCookie } from "hono/cookie";
import type { Catalogue, Product } from "./catalogue.ts";
import { createCatalogue } from "./catalogue.ts";
import { DEMO_DEFAULTS } from "./config.ts";
import type { CartLine } from "./pages.ts";
import {
  renderAccount,
  renderCart,
  renderCategory,
  renderCheckout,
  renderCspPage,
  renderHome,
  renderNotFound,
  renderProduct,
  renderSearch,
} from "./pages.ts";
import { createImageStore } from "./product-images.ts";

export type PageType =
  | "home"
  | "category"
  | "product"
  | "search"
  | "image"
  | "cart"
  | "checkout"
  | "account"
  | "csp"
  | "not-found"
  | "other";

export type DemoAppOptions = {
  /** Backend time of a product page in ms (default 40); other page types scale it (see BACKEND_FACTOR). */
  backendMs?: number;
  /** Uniform random extra backend time in [0, jitterMs) ms (default 20). */
  jitterMs?: number;
  /** Randomness for jitter and new cookie ids (default Math.random). */
  random?: () => number;
  /** The catalogue (default createCatalogue()). */
  catalogue?: Catalogue;
};

export type DemoStats = {
  total: number;
  byPath: Record<string, number>;
  byType: Partial<Record<PageType, number>>;
  byMethod: Record<string, number>;
  since: string;
};

/** Relative backend cost per page type: listing and search queries are heavier than a product lookup. */
export const BACKEND_FACTOR: Record<PageType, number> = {
  home: 1,
  category: 1.5,
  product: 1,
  search: 2,
  image: 0,
  cart: 1,
  checkout: 2,
  account: 1.5,
  csp: 0.5,
  "not-found": 0.5,
  other: 0,
};

/** Shared-cache lifetimes (s-maxage, stale-while-revalidate) per cacheable page type. */
export const CACHE_POLICY = {
  home: { sMaxAge: 60, swr: 30 },
  category: { sMaxAge: 300, swr: 60 },
  product: { sMaxAge: 600, swr: 120 },
  search: { sMaxAge: 60, swr: 30 },
  csp: { sMaxAge: 60, swr: 30 },
  "not-found": { sMaxAge: 30, swr: 0 },
} as const;

const STALE_IF_ERROR = 86_400;
const MAX_TRACKED_PATHS = 10_000;
const MAX_QUERY_LENGTH = 200;
const MAX_CART_LINES = 50;
const MAX_QUANTITY = 99;

/** Waits until at least `ms` have passed (timers may fire a little early; the floor is a promise). */
async function waitAtLeast(ms: number): Promise<void> {
  const start = performance.now();
  for (;;) {
    const left = ms - (performance.now() - start);
    if (left <= 0) return;
    await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.ceil(left))));
  }
}

function etagOf(body: string): string {
  // FNV-1a over the UTF-16 code units: cheap, stable, and enough to tell page versions apart.
  let h = 0x811c9dc5;
  for (let i = 0; i < body.length; i++) {
    h ^= body.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return `"${h.toString(16).padStart(8, "0")}-${body.length.toString(16)}"`;
}

function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === "*") return true;
  return ifNoneMatch.split(",").some((t) => t.trim().replace(/^W\//, "") === etag);
}

/** Parses the `cart` cookie (`<id>-<qty>` pairs joined by `.`); unknown or malformed parts are dropped. */
export function parseCart(raw: string | undefined, catalogue: Catalogue): CartLine[] {
  if (!raw) return [];
  const lines: CartLine[] = [];
  for (const part of raw.split(".").slice(0, MAX_CART_LINES)) {
    const m = /^(\d{1,4})-(\d{1,2})$/.exec(part);
    if (!m) continue;
    const product = catalogue.productById(Number(m[1]));
    const quantity = Number(m[2]);
    if (product && quantity >= 1 && !lines.some((l) => l.product.id === product.id)) {
      lines.push({ product, quantity: Math.min(quantity, MAX_QUANTITY) });
    }
  }
  return lines;
}

function serializeCart(lines: CartLine[]): string {
  return lines.map((l) => `${l.product.id}-${l.quantity}`).join(".");
}

/** Builds the demo origin app (defaults: backendMs 40, jitterMs 20, Math.random, seed-2026 catalogue). */
export function createDemoApp(options: DemoAppOptions = {}): Hono {
  const backendMs = options.backendMs ?? DEMO_DEFAULTS.backendMs;
  const jitterMs = options.jitterMs ?? DEMO_DEFAULTS.jitterMs;
  const random = options.random ?? Math.random;
  const catalogue = options.catalogue ?? createCatalogue();
  const images = createImageStore();
  const home = renderHome(catalogue);

  let stats: DemoStats = { total: 0, byPath: {}, byType: {}, byMethod: {}, since: new Date().toISOString() };
  const resetStats = () => {
    stats = { total: 0, byPath: {}, byType: {}, byMethod: {}, since: new Date().toISOString() };
  };

  const newId = () => {
    let s = "";
    for (let i = 0; i < 16; i++) s += Math.floor(random() * 16).toString(16);
    return s;
  };

  /** Simulates the backend for one request of `type`; returns the time actually waited (ms). */
  const backend = async (type: PageType): Promise<number> => {
    const start = performance.now();
    const target = backendMs * BACKEND_FACTOR[type] + (jitterMs > 0 ? random() * jitterMs : 0);
    if (target > 0) await waitAtLeast(target);
    return performance.now() - start;
  };

  const serverTiming = (ms: number) => `app;dur=${ms.toFixed(1)};desc="backend"`;

  const cacheable = (
    c: Context,
    type: keyof typeof CACHE_POLICY,
    html: string,
    tags: string[],
    appMs: number,
    status: 200 | 404 = 200,
  ) => {
    const policy = CACHE_POLICY[type];
    const etag = etagOf(html);
    const swr = policy.swr > 0 ? `, stale-while-revalidate=${policy.swr}` : "";
    const headers: Record<string, string> = {
      "Cache-Control": `public, max-age=0, s-maxage=${policy.sMaxAge}${swr}, stale-if-error=${STALE_IF_ERROR}`,
      "Cache-Tag": tags.join(", "),
      "Surrogate-Key": tags.join(" "),
      ETag: etag,
      "Server-Timing": serverTiming(appMs),
      "X-Demo-Page": type,
    };
    if (status === 200 && etagMatches(c.req.header("If-None-Match"), etag)) {
      return c.body(null, 304, headers);
    }
    return c.html(html, status, headers);
  };

  const personal = (c: Context, type: PageType, html: string, appMs: number) =>
    c.html(html, 200, {
      "Cache-Control": "private, no-store",
      "Server-Timing": serverTiming(appMs),
      "X-Demo-Page": type,
    });

  const typeOf = (path: string): PageType => {
    if (path === "/") return "home";
    if (path.startsWith("/c/")) return "category";
    if (path.startsWith("/p/")) return "product";
    if (path.startsWith("/images/")) return "image";
    if (path === "/search") return "search";
    if (path === "/cart") return "cart";
    if (path === "/checkout") return "checkout";
    if (path === "/account") return "account";
    if (path === "/__demo/csp") return "csp";
    return "other";
  };

  const app = new Hono();

  app.use(async (c, next) => {
    const path = c.req.path;
    // The control endpoints are not shop traffic: counting them would disturb the assertions they serve.
    if (path !== "/__demo/stats" && path !== "/__demo/reset" && path !== "/__demo/health") {
      stats.total++;
      const key =
        path in stats.byPath || Object.keys(stats.byPath).length < MAX_TRACKED_PATHS ? path : "(other)";
      stats.byPath[key] = (stats.byPath[key] ?? 0) + 1;
      const type = typeOf(path);
      stats.byType[type] = (stats.byType[type] ?? 0) + 1;
      stats.byMethod[c.req.method] = (stats.byMethod[c.req.method] ?? 0) + 1;
    }
    await next();
  });

  app.get("/", async (c) => {
    const ms = await backend("home");
    const tags = ["home", ...catalogue.categories.map((x) => `category-${x.id}`)];
    return cacheable(c, "home", home.html, tags, ms);
  });

  app.get("/c/:slug", async (c) => {
    const category = catalogue.categoryBySlug(c.req.param("slug"));
    if (!category) return notFound(c);
    const ms = await backend("category");
    const tags = [`category-${category.id}`, ...category.productIds.map((id) => `product-${id}`)];
    return cacheable(c, "category", renderCategory(catalogue, category), tags, ms);
  });

  app.get("/p/:id", async (c) => {
    const id = c.req.param("id");
    const product = /^\d{1,6}$/.test(id) ? catalogue.productById(Number(id)) : undefined;
    if (!product) return notFound(c);
    const ms = await backend("product");
    const tags = [`product-${product.id}`, `category-${product.categoryId}`];
    return cacheable(c, "product", renderProduct(catalogue, product), tags, ms);
  });

  app.get("/search", async (c) => {
    const q = (c.req.query("q") ?? "").trim();
    if (q.length > MAX_QUERY_LENGTH) {
      return c.json({ error: `q must be at most ${MAX_QUERY_LENGTH} characters (got ${q.length})` }, 400);
    }
    const ms = await backend("search");
    const results = catalogue.search(q);
    const tags = ["search", ...results.map((p) => `product-${p.id}`)];
    return cacheable(c, "search", renderSearch(catalogue, q, results), tags, ms);
  });

  app.get("/images/p/:file", async (c) => {
    const m = /^(\d{1,6})\.jpg$/.exec(c.req.param("file"));
    const product = m ? catalogue.productById(Number(m[1])) : undefined;
    if (!product) return c.json({ error: "unknown image" }, 404);
    const image = await images.get(product.id, product.image.width, product.image.height);
    const headers: Record<string, string> = {
      "Content-Type": "image/jpeg",
      "Cache-Control": "public, max-age=86400, s-maxage=604800",
      "Cache-Tag": `image, product-${product.id}`,
      "Surrogate-Key": `image product-${product.id}`,
      ETag: image.etag,
      // Render time on the first request only; later requests are served from memory.
      "Server-Timing": serverTiming(0),
    };
    if (etagMatches(c.req.header("If-None-Match"), image.etag)) return c.body(null, 304, headers);
    return c.body(new Uint8Array(image.bytes), 200, headers);
  });

  const cartCookie = (c: Context, lines: CartLine[]) =>
    setCookie(c, "cart", serializeCart(lines), {
      path: "/",
      httpOnly: true,
      sameSite: "Lax",
      maxAge: 7 * 86400,
    });

  app.get("/cart", async (c) => {
    const ms = await backend("cart");
    const lines = parseCart(getCookie(c, "cart"), catalogue);
    // Every cart page (re)issues the cookie, like real shops that keep a cart id alive.
    cartCookie(c, lines);
    return personal(c, "cart", renderCart(catalogue, lines), ms);
  });

  app.post(
    "/cart",
    bodyLimit({ maxSize: 16 * 1024, onError: (c) => c.json({ error: "cart form body over 16 KB" }, 413) }),
    async (c) => {
      let form: Record<string, string | File | (string | File)[]>;
      try {
        form = await c.req.parseBody();
      } catch {
        return c.json({ error: "expected a form body with add=<id> or remove=<id>" }, 400);
      }
      const add = typeof form.add === "string" ? form.add : undefined;
      const remove = typeof form.remove === "string" ? form.remove : undefined;
      const idText = add ?? remove;
      if (idText === undefined)
        return c.json({ error: "expected a form body with add=<id> or remove=<id>" }, 400);
      const product: Product | undefined = /^\d{1,6}$/.test(idText)
        ? catalogue.productById(Number(idText))
        : undefined;
      if (!product)
        return c.json({ error: `unknown product id in ${add ? "add" : "remove"} (got "${idText}")` }, 400);
      await backend("cart");
      let lines = parseCart(getCookie(c, "cart"), catalogue);
      if (add) {
        const line = lines.find((l) => l.product.id === product.id);
        if (line) line.quantity = Math.min(line.quantity + 1, MAX_QUANTITY);
        else if (lines.length < MAX_CART_LINES) lines.push({ product, quantity: 1 });
      } else {
        lines = lines.filter((l) => l.product.id !== product.id);
      }
      cartCookie(c, lines);
      c.header("Cache-Control", "private, no-store");
      return c.redirect("/cart", 303);
    },
  );

  app.get("/checkout", async (c) => {
    const ms = await backend("checkout");
    const lines = parseCart(getCookie(c, "cart"), catalogue);
    const orderRef = `NW-${newId().slice(0, 8).toUpperCase()}`;
    setCookie(c, "checkout", orderRef, { path: "/", httpOnly: true, sameSite: "Lax" });
    return personal(c, "checkout", renderCheckout(catalogue, lines, orderRef), ms);
  });

  app.get("/account", async (c) => {
    const ms = await backend("account");
    const existing = getCookie(c, "session");
    const session = existing && /^[0-9a-f]{16}$/.test(existing) ? existing : newId();
    setCookie(c, "session", session, { path: "/", httpOnly: true, sameSite: "Lax", maxAge: 30 * 86400 });
    return personal(c, "account", renderAccount(catalogue, session), ms);
  });

  app.get("/__demo/csp", async (c) => {
    const ms = await backend("csp");
    c.header("Content-Security-Policy", "script-src 'self'; connect-src 'self'");
    return cacheable(c, "csp", renderCspPage(catalogue), ["csp"], ms);
  });

  app.get("/__demo/stats", (c) => c.json(stats, 200, { "Cache-Control": "no-store" }));
  app.post("/__demo/reset", (c) => {
    resetStats();
    return c.json({ ok: true }, 200, { "Cache-Control": "no-store" });
  });
  app.get("/__demo/health", (c) =>
    c.json({ ok: true, imagesCached: images.size() }, 200, { "Cache-Control": "no-store" }),
  );

  const notFound = async (c: Context) => {
    const ms = await backend("not-found");
    return cacheable(c, "not-found", renderNotFound(catalogue, c.req.path), ["not-found"], ms, 404);
  };
  app.notFound(notFound);
  app.onError((err, c) => {
    console.error(`demo origin: ${c.req.method} ${c.req.path} failed:`, err);
    return c.json({ error: "internal error" }, 500);
  });

  return app;
}
