import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { injectBeacon } from "../src/rum-inject.ts";
import { cacheStatus, makeEdge, ORIGIN, route, timing, uniquePath } from "./helpers.ts";

const BEACON = '<script src="/_rum/beacon.js" async></script>';
const count = (s: string, sub: string) => s.split(sub).length - 1;

describe("Server-Timing and Age", () => {
  it("MISS carries cdn-cache, edge, origin, app (forwarded), rid = X-Request-Id, origin extras; HIT no origin/app", async () => {
    const t = makeEdge();
    const p = uniquePath("st");
    await route(p, { headers: { age: "5" } });
    const miss = await t.call(p);
    const m = timing(miss);
    expect(m.get("cdn-cache")?.description).toBe("MISS");
    expect(m.has("edge")).toBe(true);
    expect(m.has("origin")).toBe(true);
    expect(m.get("app")?.duration).toBe(5);
    expect(m.get("db")?.description).toBe("primary db");
    expect(m.get("rid")?.description).toBe(miss.headers.get("x-request-id"));
    expect(miss.headers.get("timing-allow-origin")).toBe("*");
    expect(miss.headers.get("age")).toBe("5");
    t.clock.advance(10);
    const hit = await t.call(p);
    const h = timing(hit);
    expect(h.get("cdn-cache")?.description).toBe("HIT");
    expect(h.has("origin")).toBe(false);
    expect(h.has("app")).toBe(false);
    expect(h.get("rid")?.description).not.toBe(m.get("rid")?.description);
    expect(hit.headers.get("age")).toBe("15");
    expect(hit.headers.get("timing-allow-origin")).toBe("*");
  });

  it("a page read whole for the beacon counts the wait for its last byte as origin time, not edge time", async () => {
    const t = makeEdge();
    for (const [name, init] of [
      ["stored", {}],
      ["bypassed", { headers: { authorization: "Bearer x" } }],
    ] as const) {
      const p = uniquePath(`body-wait-${name}`);
      await route(p, { bodyDelayMs: 200 });
      const res = await t.call(p, init);
      const m = timing(res);
      expect(await res.text()).toContain('<script src="/_rum/beacon.js" async></script></body>');
      const origin = m.get("origin")?.duration ?? 0;
      const edge = m.get("edge")?.duration ?? 0;
      expect(origin, name).toBeGreaterThanOrEqual(180);
      expect(edge - origin, name).toBeLessThan(100);
    }
  });

  it("ignores origin attempts to set the edge's own entries", async () => {
    const t = makeEdge();
    const p = uniquePath("spoof");
    await route(p, { headers: { "server-timing": "cdn-cache;desc=HIT, rid;desc=evil, app;dur=7" } });
    const r = await t.call(p);
    const all = (r.headers.get("server-timing") ?? "").split(",").map((s) => s.trim().split(";")[0]);
    expect(all.filter((n) => n === "cdn-cache")).toHaveLength(1);
    expect(all.filter((n) => n === "rid")).toHaveLength(1);
    expect(cacheStatus(r)).toBe("MISS");
    expect(timing(r).get("app")?.duration).toBe(7);
  });

  it("BYPASS and admin responses carry Server-Timing too", async () => {
    const t = makeEdge();
    const p = uniquePath("bypass-st");
    const r = await t.call(p, { method: "POST", body: "x" });
    expect(cacheStatus(r)).toBe("BYPASS");
    expect(timing(r).has("origin")).toBe(true);
    const health = await t.call("/_edge/health");
    expect(health.status).toBe(200);
    expect(cacheStatus(health)).toBe("BYPASS");
    expect(timing(health).get("rid")?.description).toBe(health.headers.get("x-request-id"));
    // Timing-Allow-Origin only on public cacheable answers (not BYPASS, not admin).
    expect(health.headers.get("timing-allow-origin")).toBeNull();
    expect(r.headers.get("timing-allow-origin")).toBeNull();
    const c = uniquePath("tao");
    expect((await t.call(c)).headers.get("timing-allow-origin")).toBe("*");
    expect((await t.call(c)).headers.get("timing-allow-origin")).toBe("*");
  });
});

describe("RUM beacon injection", () => {
  it("injects once before </body>, into the MISS and the cached HIT", async () => {
    const t = makeEdge();
    const p = uniquePath("inject");
    const miss = await (await t.call(p)).text();
    expect(count(miss, BEACON)).toBe(1);
    expect(miss).toContain(`${BEACON}</body>`);
    const hit = await t.call(p);
    expect(cacheStatus(hit)).toBe("HIT");
    expect(count(await hit.text(), BEACON)).toBe(1);
  });

  it("injects the same way into pages with a Content-Length (read whole) and chunked ones (streamed)", async () => {
    const t = makeEdge();
    const page = "<html><body><!-- </body> --><p>é</p></body></html>";
    const want = page.replace("<p>é</p>", `<p>é</p>${BEACON}`);
    const sized = uniquePath("sized");
    await route(sized, {
      body: page,
      headers: { "content-length": String(new TextEncoder().encode(page).length) },
    });
    const chunked = uniquePath("chunked");
    await route(chunked, { body: page });
    for (const p of [sized, chunked]) {
      const miss = await t.call(p);
      // Never the origin's (pre-injection) length.
      expect([null, String(new TextEncoder().encode(want).length)]).toContain(
        miss.headers.get("content-length"),
      );
      expect(await miss.text()).toBe(want);
      const hit = await t.call(p);
      expect(cacheStatus(hit)).toBe("HIT");
      expect(await hit.text()).toBe(want);
    }
    const personal = await t.call(sized, { headers: { cookie: "session=1" } });
    expect(cacheStatus(personal)).toBe("BYPASS");
    expect(await personal.text()).toBe(want);
  });

  it("does not inject when the page already references the beacon", async () => {
    const t = makeEdge();
    const p = uniquePath("has-beacon");
    await route(p, {
      body: '<html><head><script src="/_rum/beacon.js?v=3" async></script></head><body>x</body></html>',
    });
    const body = await (await t.call(p)).text();
    expect(count(body, "/_rum/beacon.js")).toBe(1);
    const v = uniquePath("has-versioned");
    await route(v, {
      body: '<html><body><script src="/_rum/beacon.3f2a9c.js" async></script></body></html>',
    });
    expect(count(await (await t.call(v)).text(), "/_rum/beacon")).toBe(1);
  });

  it("appends at the end when there is no </body>; skips non-HTML, rum:false rules and RUM_INJECT=false", async () => {
    const t = makeEdge({ EDGE_CACHE_RULES: JSON.stringify([{ path: "/t/norum-*", rum: false }]) });
    const a = uniquePath("nobody");
    await route(a, { body: "<p>fragment" });
    expect((await (await t.call(a)).text()).endsWith(BEACON)).toBe(true);
    const j = uniquePath("json");
    await route(j, { headers: { "content-type": "application/json" }, body: '{"a":"</body>"}' });
    expect(await (await t.call(j)).text()).toBe('{"a":"</body>"}');
    const n = uniquePath("norum");
    expect(await (await t.call(n)).text()).not.toContain("beacon.js");
    const off = makeEdge({ RUM_INJECT: "false" });
    expect(await (await off.call(uniquePath("off"))).text()).not.toContain("beacon.js");
  });

  it("places the tag where HTMLRewriter's body end tag is, on pages cut into small chunks", async () => {
    // Reference: the same rule written with workerd's HTML parser.
    const reference = async (html: string) => {
      let done = false;
      const r = new HTMLRewriter()
        .on('script[src*="/_rum/beacon"]', {
          element() {
            done = true;
          },
        })
        .on("body", {
          element(el) {
            el.onEndTag((end) => {
              if (!done) end.before(BEACON, { html: true });
              done = true;
            });
          },
        })
        .onDocument({
          end(end) {
            if (!done) end.append(BEACON, { html: true });
          },
        })
        .transform(new Response(html, { headers: { "content-type": "text/html" } }));
      return r.text();
    };
    const chunked = (html: string, size: number) => {
      const bytes = new TextEncoder().encode(html);
      return new ReadableStream<Uint8Array>({
        start(c) {
          for (let i = 0; i < bytes.length; i += size) c.enqueue(bytes.slice(i, i + size));
          c.close();
        },
      });
    };
    const pages = [
      await (await fetch(`${ORIGIN}${uniquePath("ref")}`)).text(),
      "<!doctype html><html><head><title>a </body> b</title><style>/*</body>*/</style></head><body><p>x</p></body></html>",
      "<body><!-- </body> --><script>var s='</body>';</script><textarea></body></textarea><p title=\"</body>\">y</p></BODY>",
      '<html><head><script async src="/_rum/beacon.9f8e7d.js"></script></head><body>z</body></html>',
      "<p>fragment without body",
      "<body>Grüße – 日本 ✓</body>",
    ];
    for (const html of pages) {
      const want = await reference(html);
      for (const size of [1, 7, 64, 4096]) {
        const got = await new Response(injectBeacon(chunked(html, size), "/_rum/beacon.js")).text();
        expect(got, `${html.slice(0, 60)} in ${size}-byte chunks`).toBe(want);
      }
    }
  });

  it("injects into bypassed (personal) HTML pages too", async () => {
    const t = makeEdge();
    const r = await t.call(uniquePath("cart"), { headers: { cookie: "cart=1" } });
    expect(cacheStatus(r)).toBe("BYPASS");
    expect(count(await r.text(), BEACON)).toBe(1);
  });
});

describe("edge page-view log", () => {
  it("sends one EdgeLogMessage per HTML page view (MISS and HIT), none for non-HTML or HEAD", async () => {
    const t = makeEdge({ RUM_SITE_ID: "shop1" });
    const p = `${uniquePath("log")}/123`;
    const ua =
      "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
    const miss = await t.call(p, { headers: { "user-agent": ua } });
    await t.call(p, { headers: { "user-agent": ua } });
    await t.call(p, { method: "HEAD" });
    const j = uniquePath("logjson");
    await route(j, { headers: { "content-type": "application/json" }, body: "{}" });
    await t.call(j);
    expect(t.logged).toHaveLength(2);
    const [m, h] = t.logged;
    expect(m).toMatchObject({
      kind: "edge",
      rid: miss.headers.get("x-request-id"),
      site: "shop1",
      path: p,
      status: 200,
      cacheStatus: "MISS",
      appMs: 5,
      country: "XX",
      colo: "LOCAL",
      device: "mobile",
      browser: "safari",
    });
    expect(m?.pageGroup).not.toContain("123");
    expect(typeof m?.originMs).toBe("number");
    expect(h).toMatchObject({ cacheStatus: "HIT", originMs: null, appMs: null });
  });

  it("groups pages with RUM_PAGE_GROUPS, the collector's rules, so edge views and beacons join", async () => {
    const base = uniquePath("grp");
    const t = makeEdge({ RUM_PAGE_GROUPS: `${base}/:id=product` });
    await t.call(`${base}/4711`);
    expect(t.logged[0]?.pageGroup).toBe("product");
    expect(() => makeEdge({ RUM_PAGE_GROUPS: "no-equals-sign" })).toThrow(/RUM_PAGE_GROUPS/);
  });

  it("the real RUM_QUEUE binding accepts the batch format the logger sends", async () => {
    const sent: unknown[] = [];
    const errors: unknown[] = [];
    const t = makeEdge();
    t.edge.logger.queue = {
      async sendBatch(msgs) {
        const list = [...msgs];
        sent.push(...list);
        try {
          await env.RUM_QUEUE.sendBatch(list);
        } catch (e) {
          errors.push(e);
        }
      },
    };
    const r = await t.call(uniquePath("realq"));
    expect(r.status).toBe(200);
    expect(sent).toHaveLength(1);
    const m = sent[0] as { contentType: string; body: string };
    expect(m.contentType).toBe("text");
    expect(JSON.parse(m.body)).toMatchObject({
      kind: "edge-batch",
      v: 1,
      rid: [r.headers.get("x-request-id")],
    });
    expect(errors).toEqual([]);
  });

  it("EDGE_LOG=false sends nothing; a failing queue never breaks the response", async () => {
    const off = makeEdge({ EDGE_LOG: "false" });
    await off.call(uniquePath("nolog"));
    expect(off.logged).toHaveLength(0);
    const t = makeEdge();
    t.edge.logger.queue = {
      sendBatch: () => Promise.reject(new Error("queue down")),
    };
    const r = await t.call(uniquePath("qfail"));
    expect(r.status).toBe(200);
  });
});
