import { env } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { parseEdgeConfig } from "../src/config.ts";
import { cacheStatus, makeEdge, ORIGIN, originCount, originLast, uniquePath } from "./helpers.ts";

describe("reverse proxy", () => {
  it("POST bodies pass through unchanged (binary, 200 KB) and are never cached", async () => {
    const t = makeEdge();
    const p = uniquePath("post");
    const bytes = new Uint8Array(200 * 1024);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919) % 256;
    for (let i = 0; i < 2; i++) {
      const r = await t.call(p, {
        method: "POST",
        body: bytes,
        headers: { "content-type": "application/octet-stream" },
      });
      expect(cacheStatus(r)).toBe("BYPASS");
      expect(r.headers.get("x-echo-method")).toBe("POST");
      expect(new Uint8Array(await r.arrayBuffer())).toEqual(bytes);
    }
    expect(await originCount(p)).toBe(2);
    const put = await t.call(p, { method: "PUT", body: "hello" });
    expect(await put.text()).toBe("hello");
  });

  it("applies the origin time limit to GET but not to uploads", async () => {
    const t = makeEdge({ EDGE_ORIGIN_TIMEOUT_MS: "100" });
    const p = uniquePath("slowpost");
    const { route } = await import("./helpers.ts");
    await route(p, { delayMs: 400 });
    const post = await t.call(p, { method: "POST", body: "data" });
    expect(post.status).toBe(200);
    expect(await post.text()).toBe("data");
    const get = await t.call(p);
    expect(get.status).toBe(504);
    // Anonymous clients get a generic reason; the detail goes to the log.
    expect(((await get.json()) as { error: string }).error).toBe("origin timeout");
  });

  it("sets X-Forwarded-Host/Proto, the origin's Host, and drops hop-by-hop headers", async () => {
    const t = makeEdge();
    const p = uniquePath("fwd");
    // A bypassed request keeps its end-to-end headers (cacheable ones are allow-listed: safety tests).
    await t.call(p, {
      method: "POST",
      body: "x",
      headers: { "proxy-authorization": "Basic x", "x-custom": "1", "keep-alive": "timeout=5" },
    });
    const seen = await originLast(p);
    expect(seen?.headers["x-forwarded-host"]).toBe("shop.test");
    expect(seen?.headers["x-forwarded-proto"]).toBe("https");
    expect(seen?.headers.host).toBe(new URL(ORIGIN).host);
    expect(seen?.headers["proxy-authorization"]).toBeUndefined();
    expect(seen?.headers["keep-alive"]).toBeUndefined();
    expect(seen?.headers["x-custom"]).toBe("1");
  });

  it("sends the request id to the origin and caches a 204", async () => {
    const t = makeEdge();
    const p = uniquePath("rid");
    const r = await t.call(p);
    expect((await originLast(p))?.headers["x-request-id"]).toBe(r.headers.get("x-request-id"));
    const e = uniquePath("empty");
    const { route } = await import("./helpers.ts");
    await route(e, { status: 204, body: "" });
    expect((await t.call(e)).status).toBe(204);
    const hit = await t.call(e);
    expect(hit.status).toBe(204);
    expect(cacheStatus(hit)).toBe("HIT");
  });

  it("does not follow origin redirects", async () => {
    const t = makeEdge();
    const p = uniquePath("redir");
    const { route } = await import("./helpers.ts");
    await route(p, { status: 302, headers: { location: "/elsewhere", "cache-control": "" } });
    const r = await t.call(p);
    expect(r.status).toBe(302);
    expect(r.headers.get("location")).toBe("/elsewhere");
  });

  it("runs behind the root Worker: MISS then HIT through exports.default", async () => {
    const p = uniquePath("root");
    const a = await exports.default.fetch(`http://shop.test${p}`);
    expect(cacheStatus(a)).toBe("MISS");
    await a.text();
    // The first response's store runs in waitUntil; give it a moment.
    let status = "";
    for (let i = 0; i < 20 && status !== "HIT"; i++) {
      await new Promise((r) => setTimeout(r, 25));
      const b = await exports.default.fetch(`http://shop.test${p}`);
      status = cacheStatus(b);
      await b.text();
    }
    expect(status).toBe("HIT");
    expect(await originCount(p)).toBe(1);
    const anonymous = await exports.default.fetch("http://shop.test/_edge/health");
    expect(await anonymous.json()).toEqual({ ok: true });
    const health = await exports.default.fetch("http://shop.test/_edge/health", {
      headers: { authorization: `Bearer ${env.EDGE_ADMIN_TOKEN}` },
    });
    const body = (await health.json()) as { ok: boolean; config: Record<string, unknown> };
    expect(body.ok).toBe(true);
    expect(body.config.originBase).toBe(ORIGIN);
    expect(JSON.stringify(body)).not.toContain(env.EDGE_ADMIN_TOKEN);
  });
});

describe("config", () => {
  const base = { ORIGIN_URL: "http://127.0.0.1:9" };
  const bad: [Record<string, string | undefined>, RegExp][] = [
    [{ ORIGIN_URL: undefined }, /ORIGIN_URL.*required/],
    [{ ORIGIN_URL: "ftp://x" }, /ORIGIN_URL.*"ftp:\/\/x"/],
    [{ ORIGIN_URL: "not a url" }, /ORIGIN_URL.*"not a url"/],
    [{ EDGE_HOT_CACHE_BYTES: "abc" }, /EDGE_HOT_CACHE_BYTES.*"abc"/],
    [{ EDGE_ORIGIN_TIMEOUT_MS: "0" }, /EDGE_ORIGIN_TIMEOUT_MS.*"0"/],
    [{ RUM_INJECT: "maybe" }, /RUM_INJECT.*"maybe"/],
    [{ EDGE_BYPASS_COOKIES: "ok, bad name" }, /EDGE_BYPASS_COOKIES.*bad name/],
    [{ EDGE_CACHE_RULES: "{" }, /EDGE_CACHE_RULES.*"\{"/],
    [{ EDGE_CACHE_RULES: '[{"path":"/x","ttl":"abc"}]' }, /EDGE_CACHE_RULES\[0\]\.ttl.*"abc"/],
    [{ EDGE_CACHE_RULES: '[{"path":"x"}]' }, /EDGE_CACHE_RULES\[0\]\.path.*"x"/],
    [{ EDGE_CACHE_RULES: '[{"path":"/x","tll":5}]' }, /EDGE_CACHE_RULES\[0\]\.tll.*unknown/],
    [{ RUM_SITE_ID: "a b" }, /RUM_SITE_ID.*"a b"/],
    [{ EDGE_LOG_COUNTRY: "geoip" }, /EDGE_LOG_COUNTRY: must be header, cf or off.*"geoip"/],
  ];
  for (const [env, re] of bad) {
    it(`rejects ${JSON.stringify(env)}`, () => {
      expect(() => parseEdgeConfig({ ...base, ...env })).toThrow(re);
    });
  }
  it("has documented defaults", () => {
    const c = parseEdgeConfig(base);
    expect(c.hotCacheBytes).toBe(32 * 1024 * 1024);
    expect(c.hotCacheMaxObjectBytes).toBe(256 * 1024);
    expect(c.bypassCookieNames).toEqual(
      expect.arrayContaining([
        "session",
        "PHPSESSID",
        "JSESSIONID",
        "connect.sid",
        "laravel_session",
        "wordpress_logged_in_*",
      ]),
    );
    expect(c.rumInject).toBe(true);
    expect(c.rumSiteId).toBe("demo");
    expect(c.adminToken).toEqual({
      ok: false,
      key: "EDGE_ADMIN_TOKEN",
      reason: "EDGE_ADMIN_TOKEN is not set",
    });
    expect(c.originBodyTimeoutMs).toBe(30_000);
    expect(c.varyMaxVariants).toBe(32);
    expect(c.purgeReadTimeoutMs).toBe(100);
    expect(c.rulesCaseSensitive).toBe(false);
    expect(c.zonePurge).toBeNull();
    expect(c.logCountry).toBe("header");
    expect(parseEdgeConfig({ ...base, EDGE_LOG_COUNTRY: " CF " }).logCountry).toBe("cf");
  });
});
