import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { createDemoApp } from "../src/app.ts";
import { createCatalogue } from "../src/catalogue.ts";
import { parseDemoConfig } from "../src/config.ts";

const catalogue = createCatalogue();
// No simulated latency unless a test is about it: keeps the suite fast on a shared 2-core box.
const fast = () => createDemoApp({ backendMs: 0, jitterMs: 0, catalogue });

function hrefs(html: string): string[] {
  return [...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1] ?? "");
}

function appDur(res: Response): number {
  const m = /app;dur=([\d.]+)/.exec(res.headers.get("Server-Timing") ?? "");
  if (!m) throw new Error(`no app;dur in ${res.headers.get("Server-Timing")}`);
  return Number(m[1]);
}

describe("demo origin pages", () => {
  it("home links to every category and has an image hero with explicit size", async () => {
    const res = await fast().request("/");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/^text\/html/);
    const html = await res.text();
    for (const c of catalogue.categories) expect(hrefs(html)).toContain(`/c/${c.slug}`);
    expect(html).toMatch(
      /<img src="\/images\/p\/\d+\.jpg" width="\d+" height="\d+"[^>]*fetchpriority="high"/,
    );
  });

  it("category pages list their 20 products with breadcrumbs", async () => {
    const cat = catalogue.categories[3];
    if (!cat) throw new Error("no category");
    const html = await (await fast().request(`/c/${cat.slug}`)).text();
    const links = hrefs(html);
    for (const id of cat.productIds) expect(links).toContain(`/p/${id}`);
    expect(html).toContain(`<a href="/">Home</a> › ${cat.name}`);
  });

  it("product pages link to related products, their category and their own image", async () => {
    const p = catalogue.productById(17);
    const cat = p && catalogue.categoryById(p.categoryId);
    if (!p || !cat) throw new Error("no product 17");
    const html = await (await fast().request("/p/17")).text();
    const links = hrefs(html);
    for (const id of p.relatedIds) expect(links).toContain(`/p/${id}`);
    expect(links).toContain(`/c/${cat.slug}`);
    expect(html).toContain(`<h1>${p.name}</h1>`);
    expect(html).toContain(
      `<img src="/images/p/17.jpg" width="${p.image.width}" height="${p.image.height}" alt="${p.name}" class="main" fetchpriority="high">`,
    );
  });

  it("pages are 10–30 KB of self-contained HTML without script", async () => {
    const app = fast();
    for (const path of ["/", "/c/watches", "/p/1", "/p/200", "/search?q=black"]) {
      const html = await (await app.request(path)).text();
      expect(html.length, path).toBeGreaterThan(10_000);
      expect(html.length, path).toBeLessThan(30_000);
      expect(html, path).not.toMatch(/<script/i);
      expect(html, path).not.toMatch(/(src|href)="(https?:)?\/\//);
    }
  });

  it("a crawl from the home page reaches all 200 products, every link answering 200", async () => {
    const app = fast();
    const seen = new Set<string>(["/"]);
    const queue = ["/"];
    while (queue.length) {
      const path = queue.shift() as string;
      const res = await app.request(path);
      expect(res.status, path).toBe(200);
      if (!/^\/(c\/|p\/|$)/.test(path)) continue;
      for (const link of hrefs(await res.text())) {
        if (/^\/(c|p)\//.test(link) && !seen.has(link)) {
          seen.add(link);
          queue.push(link);
        }
      }
    }
    expect([...seen].filter((p) => p.startsWith("/p/"))).toHaveLength(200);
    expect([...seen].filter((p) => p.startsWith("/c/"))).toHaveLength(10);
  });

  it("unknown products, categories and paths are 404 pages", async () => {
    const app = fast();
    for (const path of ["/p/9999", "/p/0", "/p/abc", "/p/1.5", "/c/nope", "/nothing/here"]) {
      const res = await app.request(path);
      expect(res.status, path).toBe(404);
      expect(await res.text()).toContain("Page not found");
    }
  });

  it("search finds products by name and rejects an overlong query", async () => {
    const app = fast();
    const html = await (await app.request("/search?q=leather")).text();
    const expected = catalogue.search("leather");
    expect(expected.length).toBeGreaterThan(0);
    for (const p of expected) expect(hrefs(html)).toContain(`/p/${p.id}`);
    expect(await (await app.request("/search?q=qqqqzzzz")).text()).toContain("No products match");
    const bad = await app.request(`/search?q=${"x".repeat(201)}`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: expect.stringContaining("at most 200") });
  });
});

describe("caching headers", () => {
  it("public pages carry s-maxage, stale hints, Cache-Tag, Surrogate-Key, ETag and no cookie", async () => {
    const res = await fast().request("/p/17");
    const cc = res.headers.get("Cache-Control") ?? "";
    expect(cc).toMatch(/^public, max-age=0, s-maxage=\d+/);
    expect(cc).toContain("stale-while-revalidate=");
    expect(cc).toContain("stale-if-error=");
    expect(res.headers.get("Cache-Tag")).toBe("product-17, category-1");
    expect(res.headers.get("Surrogate-Key")).toBe("product-17 category-1");
    expect(res.headers.get("ETag")).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
    expect(res.headers.get("Set-Cookie")).toBeNull();
  });

  it("category pages are tagged with the category and every product they show", async () => {
    const tags = (await fast().request("/c/running-shoes")).headers.get("Cache-Tag")?.split(", ") ?? [];
    expect(tags[0]).toBe("category-1");
    expect(tags).toContain("product-20");
    expect(tags).toHaveLength(21);
  });

  it.each([
    ["/cart", "cart"],
    ["/checkout", "checkout"],
    ["/account", "session"],
  ])("%s is private, no-store and sets the %s cookie", async (path, cookie) => {
    const res = await fast().request(path);
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("private, no-store");
    expect(res.headers.get("Set-Cookie")).toMatch(new RegExp(`^${cookie}=`));
    expect(res.headers.get("Cache-Tag")).toBeNull();
    expect(res.headers.get("ETag")).toBeNull();
  });

  it("answers If-None-Match with 304 and the same ETag", async () => {
    const app = fast();
    const etag = (await app.request("/p/5")).headers.get("ETag") ?? "";
    const res = await app.request("/p/5", { headers: { "If-None-Match": etag } });
    expect(res.status).toBe(304);
    expect(res.headers.get("ETag")).toBe(etag);
    expect(await res.text()).toBe("");
    expect((await app.request("/p/5", { headers: { "If-None-Match": '"other"' } })).status).toBe(200);
  });

  it("HEAD gets the headers without a body", async () => {
    const res = await fast().request("/p/3", { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Tag")).toBe("product-3, category-1");
    expect(await res.text()).toBe("");
  });

  it("the CSP test page sends a strict policy", async () => {
    const res = await fast().request("/__demo/csp");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Security-Policy")).toBe("script-src 'self'; connect-src 'self'");
    expect(await res.text()).not.toMatch(/<script/i);
  });
});

describe("simulated backend", () => {
  it("reports app;dur of at least the configured backend time, scaled per page type", async () => {
    const app = createDemoApp({ backendMs: 30, jitterMs: 0, catalogue });
    expect(appDur(await app.request("/p/1"))).toBeGreaterThanOrEqual(30);
    expect(appDur(await app.request("/search?q=oak"))).toBeGreaterThanOrEqual(60);
    expect(appDur(await app.request("/cart"))).toBeGreaterThanOrEqual(30);
  });

  it("adds jitter on top of the floor", async () => {
    const app = createDemoApp({ backendMs: 10, jitterMs: 20, random: () => 0.5, catalogue });
    expect(appDur(await app.request("/p/1"))).toBeGreaterThanOrEqual(20);
  });
});

describe("request counting", () => {
  it("counts requests per path, type and method; stats and reset are not counted", async () => {
    const app = fast();
    await app.request("/p/1");
    await app.request("/p/1?utm_source=x");
    await app.request("/c/bags");
    await app.request("/cart", { method: "POST", body: new URLSearchParams({ add: "1" }) });
    const stats = await (await app.request("/__demo/stats")).json();
    expect(stats).toMatchObject({
      total: 4,
      byPath: { "/p/1": 2, "/c/bags": 1, "/cart": 1 },
      byType: { product: 2, category: 1, cart: 1 },
      byMethod: { GET: 3, POST: 1 },
    });
    const again = await (await app.request("/__demo/stats")).json();
    expect(again.total).toBe(4);
    expect((await app.request("/__demo/reset", { method: "POST" })).status).toBe(200);
    const reset = await (await app.request("/__demo/stats")).json();
    expect(reset).toMatchObject({ total: 0, byPath: {}, byType: {} });
  });
});

describe("cart", () => {
  it("adds and removes products through form posts kept in the cart cookie", async () => {
    const app = fast();
    const add = await app.request("/cart", { method: "POST", body: new URLSearchParams({ add: "17" }) });
    expect(add.status).toBe(303);
    expect(add.headers.get("Location")).toBe("/cart");
    expect(add.headers.get("Cache-Control")).toBe("private, no-store");
    const cookie = /cart=([^;]*)/.exec(add.headers.get("Set-Cookie") ?? "")?.[1];
    expect(cookie).toBe("17-1");
    const twice = await app.request("/cart", {
      method: "POST",
      body: new URLSearchParams({ add: "17" }),
      headers: { Cookie: "cart=17-1" },
    });
    expect(twice.headers.get("Set-Cookie")).toMatch(/^cart=17-2;/);
    const page = await (await app.request("/cart", { headers: { Cookie: "cart=17-2.3-1" } })).text();
    expect(page).toContain(catalogue.productById(17)?.name);
    expect(page).toContain(catalogue.productById(3)?.name);
    const removed = await app.request("/cart", {
      method: "POST",
      body: new URLSearchParams({ remove: "17" }),
      headers: { Cookie: "cart=17-2.3-1" },
    });
    expect(removed.headers.get("Set-Cookie")).toMatch(/^cart=3-1;/);
  });

  it("ignores a malformed cart cookie and rejects unknown product ids", async () => {
    const app = fast();
    const page = await app.request("/cart", { headers: { Cookie: "cart=<script>.999-1.abc" } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("Your cart is empty");
    const bad = await app.request("/cart", { method: "POST", body: new URLSearchParams({ add: "9999" }) });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: expect.stringContaining("9999") });
    const empty = await app.request("/cart", { method: "POST", body: new URLSearchParams({}) });
    expect(empty.status).toBe(400);
    expect(await empty.json()).toEqual({ error: expect.stringContaining("add=<id> or remove=<id>") });
    const huge = await app.request("/cart", {
      method: "POST",
      body: new URLSearchParams({ add: "1", pad: "x".repeat(20_000) }),
    });
    expect(huge.status).toBe(413);
  });
});

describe("product images", () => {
  it("serves a real JPEG of the catalogue's size, cached and revalidatable", async () => {
    const app = fast();
    const p = catalogue.productById(42);
    if (!p) throw new Error("no product 42");
    const res = await app.request("/images/p/42.jpg");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("image/jpeg");
    expect(res.headers.get("Cache-Control")).toMatch(/^public, /);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.length).toBeGreaterThan(100_000);
    expect(bytes.length).toBeLessThan(1_000_000);
    const meta = await sharp(bytes).metadata();
    expect(meta).toMatchObject({ format: "jpeg", width: p.image.width, height: p.image.height });
    const stats = await sharp(bytes).stats();
    expect(stats.channels[0]?.stdev).toBeGreaterThan(5); // a picture, not a flat fill
    const again = await app.request("/images/p/42.jpg", {
      headers: { "If-None-Match": res.headers.get("ETag") ?? "" },
    });
    expect(again.status).toBe(304);
  });

  it("404s unknown images", async () => {
    const app = fast();
    for (const path of ["/images/p/0.jpg", "/images/p/201.jpg", "/images/p/1.png", "/images/p/x.jpg"]) {
      expect((await app.request(path)).status, path).toBe(404);
    }
  });
});

describe("config", () => {
  it("has documented defaults and names the key and value of a bad setting", () => {
    expect(parseDemoConfig({})).toEqual({ port: 8000, host: "127.0.0.1", backendMs: 40, jitterMs: 20 });
    expect(parseDemoConfig({ DEMO_PORT: "9001", DEMO_BACKEND_MS: "5", DEMO_JITTER_MS: "0" })).toMatchObject({
      port: 9001,
      backendMs: 5,
      jitterMs: 0,
    });
    expect(() => parseDemoConfig({ DEMO_BACKEND_MS: "abc" })).toThrow(/DEMO_BACKEND_MS.*"abc"/);
    expect(() => parseDemoConfig({ DEMO_PORT: "70000" })).toThrow(/DEMO_PORT.*"70000"/);
    expect(() => parseDemoConfig({ DEMO_JITTER_MS: "-1" })).toThrow(/DEMO_JITTER_MS/);
  });
});
