/**
 * Regression tests for attacks on a shared cache: each test is named after the attack and
 * performs it against the edge (createEdgeApp) in front of the scripted test origin.
 */
import { env } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import {
  Clock,
  cacheStatus,
  makeEdge,
  originCount,
  originLast,
  purge,
  route,
  TOKEN,
  uniquePath,
} from "./helpers.ts";

describe("cache poisoning through unkeyed request headers", () => {
  it("method override: X-HTTP-Method-Override never reaches the origin, so no cacheable 405 is served to the next visitor", async () => {
    const t = makeEdge();
    const p = uniquePath("override");
    const attack = await t.call(p, { headers: { "x-http-method-override": "DELETE" } });
    expect(attack.status).toBe(200);
    const victim = await t.call(p);
    expect(victim.status).toBe(200);
    expect(cacheStatus(victim)).toBe("HIT");
    expect((await originLast(p))?.headers["x-http-method-override"]).toBeUndefined();
  });

  it("URL and host overrides: X-Original-URL, X-Rewrite-URL, X-Forwarded-Prefix/Host, Forwarded are dropped; X-Forwarded-For is the connecting IP", async () => {
    const t = makeEdge();
    for (const init of [{}, { method: "POST", body: "x" }]) {
      const p = uniquePath("unkeyed");
      await t.call(p, {
        ...init,
        headers: {
          "x-original-url": "/admin",
          "x-rewrite-url": "/admin",
          "x-forwarded-prefix": "/evil",
          "x-forwarded-host": "evil.example",
          forwarded: "for=1.2.3.4;host=evil.example",
          "x-forwarded-for": "6.6.6.6",
          "cf-connecting-ip": "203.0.113.7",
        },
      });
      const seen = (await originLast(p))?.headers ?? {};
      for (const h of ["x-original-url", "x-rewrite-url", "x-forwarded-prefix", "forwarded"])
        expect(seen[h], `${h} ${JSON.stringify(init)}`).toBeUndefined();
      expect(seen["x-forwarded-host"]).toBe("shop.test");
      expect(seen["x-forwarded-for"]).toBe("203.0.113.7");
    }
  });

  it("unlisted headers (X-Custom) do not reach the origin on cacheable requests; a rule's forwardHeaders do", async () => {
    const t = makeEdge({
      EDGE_CACHE_RULES: JSON.stringify([{ path: "/t/fh-*", forwardHeaders: ["X-Tenant"] }]),
    });
    const p = uniquePath("plain");
    await t.call(p, { headers: { "x-custom": "1", "accept-language": "de" } });
    const seen = (await originLast(p))?.headers ?? {};
    expect(seen["x-custom"]).toBeUndefined();
    expect(seen["accept-language"]).toBe("de");
    const f = uniquePath("fh");
    await t.call(f, { headers: { "x-tenant": "a" } });
    expect((await originLast(f))?.headers["x-tenant"]).toBe("a");
  });

  it("cookie-dependent pages: cookies are not forwarded on cacheable requests unless a rule's forwardCookies lists them", async () => {
    const t = makeEdge({
      EDGE_CACHE_RULES: JSON.stringify([{ path: "/t/fc-*", forwardCookies: ["currency", "ab_*"] }]),
    });
    const p = uniquePath("cookie");
    await t.call(p, { headers: { cookie: "theme=dark; currency=EUR" } });
    expect((await originLast(p))?.headers.cookie).toBeUndefined();
    const f = uniquePath("fc");
    await t.call(f, { headers: { cookie: "theme=dark; currency=EUR; ab_test=2" } });
    expect((await originLast(f))?.headers.cookie).toBe("currency=EUR; ab_test=2");
  });

  it("logged-in pages: bypass cookies take patterns and cover common frameworks by default", async () => {
    const t = makeEdge();
    for (const cookie of [
      "wordpress_logged_in_abc123=x",
      "connect.sid=s%3Ax",
      "laravel_session=x",
      "PHPSESSID=x",
      "JSESSIONID=x",
    ]) {
      const p = uniquePath("login");
      await t.call(p);
      expect(cacheStatus(await t.call(p, { headers: { cookie: `a=1; ${cookie}` } })), cookie).toBe("BYPASS");
    }
    const custom = makeEdge({ EDGE_BYPASS_COOKIES: "shop_user_*" });
    expect(cacheStatus(await custom.call(uniquePath("c"), { headers: { cookie: "shop_user_9=1" } }))).toBe(
      "BYPASS",
    );
  });
});

describe("eviction by a failed refresh", () => {
  it("a 5 KB cookie that makes the origin answer 400 neither reaches the origin nor evicts the page", async () => {
    const t = makeEdge();
    const p = uniquePath("bigcookie");
    await route(p, { headers: { "cache-control": "max-age=10", etag: '"v1"' } });
    await t.call(p);
    t.clock.advance(20);
    const r = await t.call(p, { headers: { cookie: `junk=${"x".repeat(5000)}` } });
    expect(r.status).toBe(200);
    expect(cacheStatus(await t.call(p))).toBe("HIT");
  });

  it("an origin 4xx/5xx on revalidation or background refresh leaves the stored copy (served stale within its windows)", async () => {
    const t = makeEdge();
    const p = uniquePath("refresh-400");
    await route(p, {
      headers: { "cache-control": "max-age=10, stale-while-revalidate=30, stale-if-error=600" },
    });
    await t.call(p);
    t.clock.advance(15); // in the SWR window: background refresh gets a 400
    await route(p, { status: 400, headers: { "cache-control": "no-store" }, body: "bad" });
    expect(cacheStatus(await t.call(p))).toBe("STALE");
    t.clock.advance(60); // past SWR: synchronous refresh gets a 400, the copy stands in (stale-if-error)
    const r = await t.call(p);
    expect(r.status).toBe(200);
    expect(cacheStatus(r)).toBe("STALE");
    expect(await r.text()).toContain("n=1");
    await route(p, { mode: "5xx" });
    expect(cacheStatus(await t.call(p))).toBe("STALE");
    expect(t.edge.hot.map.size).toBeGreaterThan(0);
  });
});

describe("internal key markers", () => {
  it("a client query like ?__edge=g1 cannot fetch a pre-purge copy after purge-everything", async () => {
    // A clock a year behind the other tests: KV is shared within the file.
    const clock = new Clock();
    clock.t -= 365 * 86_400_000;
    const t = makeEdge({}, clock);
    const p = uniquePath("marker");
    await t.call(`${p}?__edge=g1`);
    await t.call(p);
    t.clock.advance(1);
    await purge(t, { everything: true });
    t.clock.advance(1);
    for (const q of [p, `${p}?__edge=g1`, `${p}?__edge=g0`]) {
      const r = await t.call(q);
      expect(cacheStatus(r), q).toBe("MISS");
    }
  });

  it("a client path cannot name a variant's key (encoded slash → 400)", async () => {
    const t = makeEdge();
    const r = await t.call("/t/x%2Fv=0123456789abcdef");
    expect(r.status).toBe(400);
  });
});

describe("path rules on normalised paths", () => {
  const rules = JSON.stringify([
    { path: "/api/*", bypass: true },
    { path: "/static/*", ttl: 60 },
  ]);
  it("/API/x and /%61pi/x match the /api/* bypass rule; /static/..%2Faccount and encoded dot-segments get 400", async () => {
    const t = makeEdge({ EDGE_CACHE_RULES: rules });
    for (const p of ["/API/x", "/%61pi/x", "/Api/%78"]) {
      await t.call(p);
      expect(cacheStatus(await t.call(p)), p).toBe("BYPASS");
    }
    expect((await originLast("/api/x"))?.url).toBe("/api/x");
    // (`/static/%2e%2e/account` never arrives as such: the URL parser resolves it to `/account`.)
    for (const p of [
      "/static/..%2Faccount",
      "/static/%2Faccount",
      "/static/..;/account",
      "/a%5Cb",
      "/a%zz",
      "/a%00",
    ]) {
      const r = await t.call(p);
      expect(r.status, p).toBe(400);
      expect(((await r.json()) as { error: string }).error.length).toBeGreaterThan(0);
    }
    const sensitive = makeEdge({ EDGE_CACHE_RULES: rules, EDGE_RULES_CASE_SENSITIVE: "true" });
    const q = `/API/${uniquePath("cs").slice(3)}`;
    await sensitive.call(q);
    expect(cacheStatus(await sensitive.call(q))).toBe("HIT");
  });
});

describe("stalled and failing origins", () => {
  it("a body that stalls after the headers: the read deadline ends it and collapsed waiters share the error", async () => {
    const t = makeEdge({ EDGE_ORIGIN_BODY_TIMEOUT_MS: "300" });
    const p = uniquePath("stall");
    await route(p, { mode: "stall" });
    const leader = t.start(p);
    const first = await leader.res;
    await new Promise((r) => setTimeout(r, 20));
    const waiters = Array.from({ length: 5 }, () => t.start(p));
    const res = await Promise.all(waiters.map((w) => w.res));
    expect(res.map((r) => r.status)).toEqual([504, 504, 504, 504, 504]);
    await first.body?.cancel();
    expect(await originCount(p)).toBe(1);
  });

  it("50 collapsed waiters on a 503 origin make one origin call and all get the 503", async () => {
    const t = makeEdge();
    const p = uniquePath("herd");
    await route(p, { status: 503, delayMs: 150, headers: { "cache-control": "no-store" }, body: "busy" });
    const calls = Array.from({ length: 50 }, () => t.start(p));
    const res = await Promise.all(calls.map((c) => c.res));
    expect(res.every((r) => r.status === 503)).toBe(true);
    expect(new Set(await Promise.all(res.map((r) => r.text())))).toEqual(new Set(["busy"]));
    expect(await originCount(p)).toBe(1);
  });

  it("an in-flight entry that outlives its deadline is replaced by the next miss", async () => {
    const t = makeEdge({ EDGE_ORIGIN_TIMEOUT_MS: "100", EDGE_ORIGIN_BODY_TIMEOUT_MS: "100" });
    const p = uniquePath("stuck");
    const key = `https://shop.test${p}`;
    // A leader whose request context died: it never settles.
    t.edge.inflight.lead(key, t.clock.t);
    t.clock.advance(1);
    const r = await t.call(p);
    expect(r.status).toBe(200);
    expect(cacheStatus(r)).toBe("MISS");
  });
});

describe("purge everywhere", () => {
  it("a purge holds in another location whose Cache API still has the object (purge times in KV)", async () => {
    const locA = await caches.open(`loc-a-${Math.random()}`);
    const locB = await caches.open(`loc-b-${Math.random()}`);
    const a = makeEdge({}, undefined, { cache: locA });
    const b = makeEdge({ EDGE_PURGE_CHECK_SECONDS: "1" }, a.clock, { cache: locB });
    const p = uniquePath("everywhere");
    await route(p, { headers: { "cache-control": "max-age=600", "cache-tag": "shoes" } });
    await b.call(p);
    const other = makeEdge({ EDGE_PURGE_CHECK_SECONDS: "1" }, a.clock, { cache: locB });
    expect(cacheStatus(await other.call(p))).toBe("HIT");
    a.clock.advance(1);
    await purge(a, { tags: ["Shoes"] });
    a.clock.advance(2);
    // A new isolate in location B: its first request waits for the purge times (bounded).
    const fresh = makeEdge({}, a.clock, { cache: locB });
    expect(cacheStatus(await fresh.call(p))).toBe("MISS");
  });

  it("a KV failure keeps the last known purge state (pre-purge objects stay purged)", async () => {
    let failing = false;
    const kv = env.EDGE_KV;
    const flaky = new Proxy(kv, {
      get(target, prop) {
        if (prop === "get" && failing) return () => Promise.reject(new Error("kv down"));
        const v = Reflect.get(target, prop);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    const t = makeEdge({ EDGE_PURGE_CHECK_SECONDS: "1" }, undefined, { kv: flaky });
    const p = uniquePath("kvdown");
    await t.call(p);
    t.clock.advance(1);
    await purge(t, { urls: [p] });
    await route(p, { body: "second {n}" });
    failing = true;
    t.clock.advance(5);
    const r = await t.call(p); // the state re-read fails: the purge still applies
    expect(cacheStatus(r)).toBe("MISS");
    expect(await r.text()).toContain("second");
  });

  it("with a zone id and API token the zone purge API gets the same purge", async () => {
    const calls: { url: string; body: string; auth: string | null }[] = [];
    const origin = (req: Request, init?: RequestInit) => {
      if (req.url.startsWith("https://api.cloudflare.com/")) {
        return req.text().then((body) => {
          calls.push({ url: req.url, body, auth: req.headers.get("authorization") });
          return new Response('{"success":true}');
        });
      }
      return fetch(req, init);
    };
    const zone = "0123456789abcdef0123456789abcdef";
    const t = makeEdge({ EDGE_PURGE_ZONE_ID: zone, EDGE_PURGE_API_TOKEN: "cf-token" }, undefined, {
      fetch: origin,
    });
    await purge(t, { tags: ["a", "b"] });
    await purge(t, { urls: ["/x"] });
    expect(calls.map((c) => JSON.parse(c.body))).toEqual([
      { tags: ["a", "b"] },
      { files: ["https://shop.test/x"] },
    ]);
    expect(calls[0]?.url).toBe(`https://api.cloudflare.com/client/v4/zones/${zone}/purge_cache`);
    expect(calls[0]?.auth).toBe("Bearer cf-token");
  });
});

describe("admin and error surfaces", () => {
  it("/_edge/health shows nothing about the origin or rules without the admin token", async () => {
    const t = makeEdge({ EDGE_CACHE_RULES: JSON.stringify([{ path: "/secret/*", bypass: true }]) });
    const anon = await t.call("/_edge/health");
    expect(await anon.json()).toEqual({ ok: true });
    const wrong = await t.call("/_edge/health", { headers: { authorization: "Bearer nope" } });
    expect(wrong.status).toBe(401);
    const admin = await t.call("/_edge/health", { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(JSON.stringify(await admin.json())).toContain("/secret/*");
  });

  it("anonymous clients get generic error bodies; details go to the log", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const t = makeEdge({ EDGE_ORIGIN_TIMEOUT_MS: "100" });
    const p = uniquePath("generic");
    await route(p, { mode: "close" });
    const r = await t.call(p);
    expect(await r.json()).toEqual({ error: "origin unreachable" });
    expect(warn.mock.calls.flat().join(" ")).toContain(p);
    warn.mockRestore();
  });

  it("an internal fault answers 500 with a generic body and a log line", async () => {
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    const t = makeEdge({}, undefined, {
      speculation: {
        handles() {
          throw new Error("boom at /secret/place");
        },
        onHtml: (_c, r) => r,
      },
    });
    const r = await t.call(uniquePath("fault"));
    expect(r.status).toBe(500);
    const text = await r.text();
    expect(text).toBe('{"error":"internal error"}');
    expect(error.mock.calls.flat().join(" ")).toContain("boom");
    error.mockRestore();
  });

  it("Timing-Allow-Origin only on public cacheable answers: not on personal, BYPASS or uncacheable ones", async () => {
    const t = makeEdge();
    const p = uniquePath("tao");
    expect((await t.call(p)).headers.get("timing-allow-origin")).toBe("*");
    expect((await t.call(p)).headers.get("timing-allow-origin")).toBe("*");
    const personal = await t.call(p, { headers: { cookie: "session=1" } });
    expect(personal.headers.get("timing-allow-origin")).toBeNull();
    const n = uniquePath("tao-nostore");
    await route(n, { headers: { "cache-control": "private, max-age=60", "timing-allow-origin": "*" } });
    expect((await t.call(n)).headers.get("timing-allow-origin")).toBeNull();
  });

  it("repeated bad purge tokens are throttled with 429 and Retry-After", async () => {
    const t = makeEdge();
    const ip = { "cf-connecting-ip": "198.51.100.9" };
    for (let i = 0; i < 10; i++) {
      const r = await t.call("/_edge/purge", {
        method: "POST",
        headers: { ...ip, authorization: "Bearer bad" },
        body: "{}",
      });
      expect(r.status).toBe(401);
    }
    const locked = await t.call("/_edge/purge", {
      method: "POST",
      headers: { ...ip, authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ tags: ["x"] }),
    });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(0);
    const otherClient = await purge(t, { tags: ["x"] });
    expect(otherClient.status).toBe(200);
  });

  it("outside development a short or dev- admin token disables the admin endpoints with 503 naming the key", async () => {
    for (const token of ["dev-admin-token", "short", `dev-${"x".repeat(40)}`]) {
      const t = makeEdge({ ENVIRONMENT: "production", EDGE_ADMIN_TOKEN: token });
      const r = await purge(t, { everything: true }, token);
      expect(r.status, token).toBe(503);
      expect(((await r.json()) as { error: string }).error).toContain("EDGE_ADMIN_TOKEN");
    }
    const good = "k".repeat(40);
    const ok = makeEdge({ ENVIRONMENT: "production", EDGE_ADMIN_TOKEN: good });
    expect((await purge(ok, { tags: ["x"] }, good)).status).toBe(200);
  });
});
