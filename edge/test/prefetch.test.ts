import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { exactUrlPattern } from "../src/prefetch/rules.ts";
import { applyPrefetchMigration, harness, storeModel, uniqueSite } from "./prefetch-helpers.ts";

type Rule = {
  source: string;
  eagerness: string;
  tag: string;
  where: { and: Array<Record<string, unknown>> };
};
type Doc = { prefetch?: Rule[]; prerender?: Rule[] };

const shopping = (times: number, path: string[]) => Array.from({ length: times }, () => path);
const hrefs = (rule: Rule | undefined) =>
  (rule?.where.and.find((c) => "href_matches" in c)?.href_matches as string[] | string | undefined) ?? [];

beforeAll(applyPrefetchMigration);

describe("rules document", () => {
  it("speculates the top candidates for the ours arm only, with a press-arm rule", async () => {
    const site = uniqueSite("rules");
    await storeModel(site, [
      ...shopping(8, ["/c/shoes", "/p/1"]),
      ...shopping(3, ["/c/shoes", "/p/2"]),
      ["/c/shoes", "/about"],
    ]);
    const h = harness(site, { PREFETCH_PRESS_RULES: "true" });
    const res = await h.rules("/c/shoes");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/speculationrules+json");
    expect(res.headers.get("cache-control")).toBe("no-store");
    const doc = (await res.json()) as Doc;
    const ours = doc.prefetch?.find((r) => r.tag === "ours");
    expect(ours?.source).toBe("document");
    expect(ours?.eagerness).toBe("immediate");
    expect(ours?.where.and).toContainEqual({ selector_matches: ':root[data-prefetch-arm="ours"] *' });
    expect(hrefs(ours)).toEqual(["/p/1", "/p/2"]); // cap 2 per page, most probable first
    const press = doc.prefetch?.find((r) => r.tag === "press");
    expect(press?.eagerness).toBe("conservative");
    expect(JSON.stringify(press?.where)).toContain('"/cart/*"');
    expect(doc.prerender).toBeUndefined();
    const plain = (await (await harness(site).rules("/c/shoes")).json()) as Doc;
    expect(plain.prefetch?.map((r) => r.tag)).toEqual(["ours"]); // the beacon runs the press arm by default
    // nothing for a holdout tab: every rule is gated on an arm the holdout never has
    for (const r of doc.prefetch ?? [])
      expect(r.where.and[0]?.selector_matches).toMatch(/^:root\[data-prefetch-arm="(ours|press)"\] \*$/);
  });

  it("applies the threshold and the per-page cap", async () => {
    const site = uniqueSite("thr");
    await storeModel(site, [...shopping(9, ["/c/a", "/p/1"]), ["/c/a", "/p/2"]]);
    const doc = (await (await harness(site, { PREFETCH_THRESHOLD: "0.5" }).rules("/c/a")).json()) as Doc;
    expect(hrefs(doc.prefetch?.find((r) => r.tag === "ours"))).toEqual(["/p/1"]);
    const none = (await (await harness(site, { PREFETCH_MAX_PER_PAGE: "0" }).rules("/c/a")).json()) as Doc;
    expect(none.prefetch?.find((r) => r.tag === "ours")).toBeUndefined();
  });

  it("prerenders only above the prerender threshold and only when enabled", async () => {
    const site = uniqueSite("prerender");
    await storeModel(site, [...shopping(20, ["/c/a", "/p/1"]), ["/c/a", "/p/2"]]);
    const off = (await (await harness(site).rules("/c/a")).json()) as Doc;
    expect(off.prerender).toBeUndefined();
    const on = (await (
      await harness(site, {
        PREFETCH_PRERENDER: "true",
        PREFETCH_PRERENDER_THRESHOLD: "0.8",
        PREFETCH_THRESHOLD: "0.01",
      }).rules("/c/a")
    ).json()) as Doc;
    expect(hrefs(on.prerender?.[0])).toEqual(["/p/1"]);
    expect(hrefs(on.prefetch?.find((r) => r.tag === "ours"))).toEqual(["/p/2"]);
    const high = (await (
      await harness(site, { PREFETCH_PRERENDER: "true", PREFETCH_PRERENDER_THRESHOLD: "1" }).rules("/c/a")
    ).json()) as Doc;
    expect(high.prerender).toBeUndefined();
  });

  it("never speculates denied pages, even the most probable", async () => {
    const site = uniqueSite("deny");
    await storeModel(site, [
      ...shopping(9, ["/p/1", "/cart"]),
      ...shopping(5, ["/p/1", "/logout"]),
      ...shopping(4, ["/p/1", "/account/orders"]),
      ...shopping(3, ["/p/1", "/p/2"]),
    ]);
    const vars = {
      PREFETCH_MAX_PER_PAGE: "5",
      PREFETCH_PRERENDER: "true",
      PREFETCH_PRERENDER_THRESHOLD: "0.5",
    };
    const doc = (await (await harness(site, vars).rules("/p/1")).json()) as Doc;
    // /p/2 has probability ≈ 0.14 (3 of 21): below the 0.15 threshold once the denied pages'
    // mass is not renormalised onto it, so nothing is speculated (and nothing prerendered).
    expect(doc.prefetch?.find((r) => r.tag === "ours")).toBeUndefined();
    expect(doc.prerender).toBeUndefined();
    const low = (await (
      await harness(site, { ...vars, PREFETCH_THRESHOLD: "0.1" }).rules("/p/1")
    ).json()) as Doc;
    expect(hrefs(low.prefetch?.find((r) => r.tag === "ours"))).toEqual(["/p/2"]);
    expect(low.prerender).toBeUndefined();
  });

  it("drops pages whose responses were private or set cookies", async () => {
    const site = uniqueSite("unsafe");
    await storeModel(site, [...shopping(5, ["/c/a", "/p/9"]), ...shopping(2, ["/c/a", "/p/3"])]);
    const h = harness(site);
    await h.observe(
      "/p/9",
      {},
      new Response("x", { headers: { "content-type": "text/html", "cache-control": "private" } }),
    );
    const doc = (await (await h.rules("/c/a")).json()) as Doc;
    expect(hrefs(doc.prefetch?.find((r) => r.tag === "ours"))).toEqual(["/p/3"]);
  });

  it.each([
    [{ "save-data": "on" }, "Save-Data"],
    [{ ect: "2g" }, "ECT 2g"],
    [{ cookie: "session=abc" }, "session cookie"],
    [{ "sec-purpose": "prefetch;prerender" }, "speculative request"],
  ])("answers an empty document for %j", async (headers, reason) => {
    const site = uniqueSite("client");
    await storeModel(site, shopping(5, ["/c/a", "/p/1"]));
    const res = await harness(site).rules("/c/a", headers);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
    expect(res.headers.get("x-prefetch-skip")).toBe(reason);
  });

  it("rejects a bad page parameter and other methods", async () => {
    const h = harness(uniqueSite("bad"));
    expect((await h.rules("//evil.example/x")).status).toBe(400);
    expect((await h.rules("relative")).status).toBe(400);
    const url = new URL("https://shop.test/_edge/prefetch/rules.json?p=/");
    const { createExecutionContext } = await import("cloudflare:test");
    const post = await h.pf.handle(new Request(url, { method: "POST" }), url, createExecutionContext());
    expect(post.status).toBe(405);
  });

  it("answers an empty document when no model exists yet", async () => {
    const res = await harness(uniqueSite("empty")).rules("/c/a");
    const doc = (await res.json()) as Doc;
    expect(doc.prefetch?.find((r) => r.tag === "ours")).toBeUndefined();
  });

  it("escapes URL-pattern syntax so a candidate matches only itself", () => {
    expect(exactUrlPattern("/p/a:b(1)*?x=1")).toBe("/p/a\\:b\\(1\\)\\*\\?x=1");
  });
});

describe("warming", () => {
  it("warms candidates through the edge within the per-second cap", async () => {
    const site = uniqueSite("warm");
    await storeModel(site, [
      ...shopping(5, ["/c/a", "/p/1"]),
      ...shopping(4, ["/c/a", "/p/2"]),
      ...shopping(3, ["/c/b", "/p/3"]),
    ]);
    const h = harness(site, { PREFETCH_WARM_PER_SECOND: "1" });
    await h.rules("/c/a");
    expect(h.warmed).toEqual(["/p/1"]);
    await h.rules("/c/b");
    expect(h.warmed).toEqual(["/p/1"]); // no token left within the same second
    h.t.now += 1000;
    await h.rules("/c/b");
    expect(h.warmed).toEqual(["/p/1", "/p/3"]);
    const off = harness(site, { PREFETCH_WARM_PER_SECOND: "0" });
    await off.rules("/c/a");
    expect(off.warmed).toEqual([]);
  });
});

describe("learning and counting", () => {
  it("learns same-origin Referer transitions of HTML pages and flushes them to D1", async () => {
    const site = uniqueSite("learn");
    const h = harness(site);
    await h.observe("/p/1", { referer: "https://shop.test/c/shoes?sort=price" });
    await h.observe("/p/1", { referer: "https://shop.test/c/shoes" });
    await h.observe("/p/2", { referer: "https://evil.example/c/shoes" });
    await h.observe("/p/3", { referer: "https://shop.test.evil.example/c/x" });
    await h.observe("/p/4", {});
    const rows = await env.DB.prepare("SELECT from_path, to_path, n FROM prefetch_transitions WHERE site = ?")
      .bind(site)
      .all();
    expect(rows.results).toEqual([{ from_path: "/c/shoes", to_path: "/p/1", n: 2 }]);
  });

  it("counts speculative requests per arm and never learns from them", async () => {
    const site = uniqueSite("spec");
    const h = harness(site);
    const page = () =>
      new Response("x", {
        headers: {
          "content-type": "text/html",
          "content-length": "1000",
          "server-timing": "cdn-cache;desc=MISS",
        },
      });
    await h.observe(
      "/p/1",
      { "sec-purpose": "prefetch", "sec-speculation-tags": '"ours"', referer: "https://shop.test/c/a" },
      page(),
    );
    await h.observe(
      "/p/2",
      { "sec-purpose": "prefetch", "sec-speculation-tags": '"press"', referer: "https://shop.test/c/a" },
      page(),
    );
    const t = await env.DB.prepare("SELECT COUNT(*) AS n FROM prefetch_transitions WHERE site = ?")
      .bind(site)
      .first();
    expect(t?.n).toBe(0);
    const s = await env.DB.prepare(
      "SELECT arm, kind, requests, bytes, origin_requests FROM prefetch_speculations WHERE site = ? ORDER BY arm",
    )
      .bind(site)
      .all();
    expect(s.results).toEqual([
      { arm: "ours", kind: "prefetch", requests: 1, bytes: 1000, origin_requests: 1 },
      { arm: "press", kind: "prefetch", requests: 1, bytes: 1000, origin_requests: 1 },
    ]);
  });
});

describe("inline delivery", () => {
  const page = () =>
    new Response("<html><body><a href='/p/1'>x</a></body></html>", {
      headers: { "content-type": "text/html", "content-length": "47" },
    });

  it("writes the rules into the stored page instead of the header, none for a personal request", async () => {
    const site = uniqueSite("inline");
    await storeModel(site, shopping(6, ["/c/a", "/p/1"]));
    const h = harness(site, { PREFETCH_RULES_DELIVERY: "inline" });
    await h.rules("/c/a"); // loads the model into the isolate
    const fetchPage = h.pf.wrapOriginFetch("http://origin.test", async () => page());
    const res = await fetchPage(new Request("http://origin.test/c/a"));
    expect(res.headers.get("speculation-rules")).toBeNull();
    const html = await res.text();
    const inline = /<script type="speculationrules">(.*?)<\/script>/.exec(html)?.[1];
    expect(JSON.parse(inline ?? "null")?.prefetch?.[0]?.where.and[1]).toEqual({ href_matches: ["/p/1"] });
    expect(html).toContain('<script src="/_edge/prefetch/arm.js"');
    const personal = await fetchPage(
      new Request("http://origin.test/c/a", { headers: { cookie: "session=1" } }),
    );
    expect(await personal.text()).toContain('<script type="speculationrules">{}</script>');
  });

  it("loads the model without any rules request: on the origin fetch and in the background on HITs", async () => {
    const site = uniqueSite("inline-load");
    await storeModel(site, shopping(6, ["/c/a", "/p/1"]));
    // First origin fetch of a fresh isolate: the model is read alongside the origin request.
    const h = harness(site, { PREFETCH_RULES_DELIVERY: "inline" });
    const html = await (
      await h.pf.wrapOriginFetch("http://origin.test", async () => page())(
        new Request("http://origin.test/c/a"),
      )
    ).text();
    const inline = /<script type="speculationrules">(.*?)<\/script>/.exec(html)?.[1];
    expect(JSON.parse(inline ?? "null")?.prefetch?.[0]?.where.and[1]).toEqual({ href_matches: ["/p/1"] });
    // A cache HIT (the speculation hook) refreshes the held model in waitUntil, never waiting for it.
    const hit = harness(site, { PREFETCH_RULES_DELIVERY: "inline" });
    expect(hit.pf.holder.model).toBeNull();
    await hit.observe("/c/a", {});
    expect(hit.pf.holder.model).not.toBeNull();
    // Header delivery leaves the holder alone until a rules request.
    const header = harness(site);
    await header.observe("/c/a", {});
    expect(header.pf.holder.model).toBeNull();
  });

  it("uses the header by default and rejects an unknown delivery", async () => {
    const h = harness(uniqueSite("header"));
    const res = await h.pf.wrapOriginFetch("http://origin.test", async () => page())(
      new Request("http://origin.test/c/a"),
    );
    expect(res.headers.get("speculation-rules")).toBe('"/_edge/prefetch/rules.json?p=%2Fc%2Fa"');
    expect(await res.text()).not.toContain("speculationrules");
    expect(() => harness(uniqueSite("x"), { PREFETCH_RULES_DELIVERY: "meta" })).toThrow(
      /PREFETCH_RULES_DELIVERY/,
    );
  });
});

describe("config", () => {
  it("names the bad key and value", async () => {
    const { parsePrefetchConfig } = await import("../src/prefetch/index.ts");
    expect(() => parsePrefetchConfig({ PREFETCH_THRESHOLD: "2" })).toThrow(/PREFETCH_THRESHOLD/);
    expect(() => parsePrefetchConfig({ PREFETCH_MAX_PER_PAGE: "-1" })).toThrow(/PREFETCH_MAX_PER_PAGE/);
    expect(() => parsePrefetchConfig({ PREFETCH_MIN_ECT: "5g" })).toThrow(/PREFETCH_MIN_ECT/);
    expect(() => parsePrefetchConfig({ PREFETCH_DENY_PATHS: "cart" })).toThrow(/PREFETCH_DENY_PATHS/);
    expect(() =>
      parsePrefetchConfig({ PREFETCH_THRESHOLD: "0.5", PREFETCH_PRERENDER_THRESHOLD: "0.3" }),
    ).toThrow(/PREFETCH_PRERENDER_THRESHOLD/);
    const c = parsePrefetchConfig({});
    expect(c).toMatchObject({
      enabled: true,
      threshold: 0.15,
      maxPerPage: 2,
      prerender: false,
      warmPerSecond: 2,
    });
    expect(c.policy.denyPaths).toContain("/checkout");
  });
});
