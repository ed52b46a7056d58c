import type { AddressInfo } from "node:net";
import { createAdaptorServer } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDemoApp } from "../src/app.ts";
import { createCatalogue, seededRandom } from "../src/catalogue.ts";
import { landingPage, nextStep, runTraffic, USER_AGENTS } from "../src/traffic.ts";

const catalogue = createCatalogue();
const allAgents: readonly string[] = [...USER_AGENTS.mobile, ...USER_AGENTS.desktop];

describe("shopper walk", () => {
  it("lands on home, categories and products, a share of them with marketing parameters", () => {
    const r = seededRandom(1);
    const pages = Array.from({ length: 1000 }, () => landingPage(r));
    const marketed = pages.filter((p) => /[?&]utm_source=/.test(p)).length;
    expect(marketed).toBeGreaterThan(250);
    expect(marketed).toBeLessThan(450);
    expect(pages.some((p) => p === "/" || p.startsWith("/?"))).toBe(true);
    expect(pages.some((p) => p.startsWith("/c/"))).toBe(true);
    expect(pages.some((p) => /^\/p\/\d+/.test(p))).toBe(true);
  });

  it("follows links of the page it is on and sometimes adds the product to the cart", async () => {
    const html = await (
      await createDemoApp({ backendMs: 0, jitterMs: 0, catalogue }).request("/p/17")
    ).text();
    const related = catalogue.productById(17)?.relatedIds.map((id) => `/p/${id}`) ?? [];
    const fixed = (v: number) => () => v;
    const toProduct = nextStep("/p/17", html, fixed(0.1));
    expect(toProduct?.method).toBe("GET");
    expect(toProduct?.url).toMatch(/^\/p\/\d+$/);
    expect(html).toContain(`href="${toProduct?.url}"`);
    const toCart = nextStep("/p/17", html, fixed(0.75));
    expect(toCart).toMatchObject({ url: "/cart", method: "POST" });
    expect(toCart?.body?.get("add")).toBe("17");
    expect(nextStep("/p/17", html, fixed(0.95))).toBeUndefined();
    expect(related.length).toBe(6);
  });
});

describe("runTraffic", () => {
  const seen: Array<{ method: string; url: string; ua: string }> = [];
  const app = createDemoApp({ backendMs: 0, jitterMs: 0, catalogue });
  const server = createAdaptorServer({
    fetch: (req: Request) => {
      seen.push({ method: req.method, url: req.url, ua: req.headers.get("User-Agent") ?? "" });
      return app.fetch(req);
    },
  });
  let baseUrl = "";
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("walks the shop with realistic User-Agents, stops by itself, and every request reaches the origin once", async () => {
    const lines: string[] = [];
    const summary = await runTraffic({
      baseUrl,
      durationMs: 1500,
      rps: 20,
      browser: false,
      random: seededRandom(3),
      log: (l) => lines.push(l),
    });
    expect(summary.requests).toBeGreaterThan(5);
    expect(summary.errors).toBe(0);
    expect(summary.byCache).toEqual({ none: summary.requests }); // origin direct: no edge header
    const stats = await (await app.request("/__demo/stats")).json();
    expect(stats.total).toBe(summary.requests);
    expect(seen).toHaveLength(summary.requests);
    for (const s of seen) expect(allAgents).toContain(s.ua);
    expect(seen.some((s) => /^\/(p|c)\//.test(new URL(s.url).pathname))).toBe(true);
    expect(lines.at(-1)).toMatch(/^done: .* requests/);
  });
});
