import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { AuthThrottle } from "../../common/src/auth-throttle.ts";
import { createCollectorFromEnv } from "../src/index.ts";
import { createQueryRoutes } from "../src/query/routes.ts";

const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
const LONG = "q7".repeat(20);

function collector(vars: Record<string, unknown>) {
  return createCollectorFromEnv({ ...env, ...vars } as unknown as Env);
}

async function query(app: ReturnType<typeof collector>, token: string) {
  const res = await app.fetch(
    new Request("http://shop.test/_rum/v1/pageviews", { headers: { Authorization: `Bearer ${token}` } }),
    env,
    ctx,
  );
  return { status: res.status, text: await res.text() };
}

describe("RUM_QUERY_TOKEN under the secret-token policy", () => {
  it.each([
    ["a dev- token", "dev-query-token", /RUM_QUERY_TOKEN is shorter than 32/],
    ["a long dev- token", `dev-${LONG}`, /RUM_QUERY_TOKEN is a development token/],
    ["a short token", "0123456789abcdef", /RUM_QUERY_TOKEN is shorter than 32/],
    ["no token", "", /RUM_QUERY_TOKEN is not set/],
  ])("outside development, %s makes the query API answer 503 naming the key", async (_, token, reason) => {
    const app = collector({ ENVIRONMENT: "production", RUM_QUERY_TOKEN: token });
    const res = await query(app, token || "anything");
    expect(res.status).toBe(503);
    expect(res.text).toMatch(reason);
    if (token) expect(res.text).not.toContain(token);
  });

  it("a missing ENVIRONMENT counts as deployed (fails closed)", async () => {
    const app = collector({ ENVIRONMENT: undefined, RUM_QUERY_TOKEN: "dev-query-token" });
    expect((await query(app, "dev-query-token")).status).toBe(503);
  });

  it("beacon intake keeps working while the query token is refused", async () => {
    const app = collector({ ENVIRONMENT: "production", RUM_QUERY_TOKEN: "dev-query-token" });
    const res = await app.fetch(
      new Request("http://shop.test/_rum/v1/beacon", {
        method: "POST",
        headers: { "content-type": "application/json", origin: "http://127.0.0.1:8787" },
        body: "{not json",
      }),
      env,
      ctx,
    );
    expect(res.status).toBe(400);
  });

  it("a long random token works in production; dev tokens work in development", async () => {
    expect((await query(collector({ ENVIRONMENT: "production", RUM_QUERY_TOKEN: LONG }), LONG)).status).toBe(
      200,
    );
    const dev = collector({ ENVIRONMENT: "development", RUM_QUERY_TOKEN: "dev-query-token" });
    expect((await query(dev, "dev-query-token")).status).toBe(200);
  });
});

describe("query API: repeated bad tokens are throttled per client", () => {
  function routes() {
    let now = Date.UTC(2026, 11, 6, 12, 0, 0);
    const app = createQueryRoutes({
      db: env.DB,
      queryToken: LONG,
      now: () => now,
      throttle: new AuthThrottle({ maxFailures: 3, windowMs: 60_000 }),
    });
    const get = async (ip: string, token: string) => {
      const res = await app.request("/v1/pageviews", {
        headers: { Authorization: `Bearer ${token}`, "CF-Connecting-IP": ip },
      });
      return { status: res.status, retryAfter: res.headers.get("retry-after") };
    };
    return { get, advance: (ms: number) => (now += ms) };
  }

  it("429 with Retry-After after the limit, even for the right token, until the window ends", async () => {
    const { get, advance } = routes();
    for (let i = 0; i < 3; i++) expect((await get("198.51.100.7", "wrong")).status).toBe(401);
    const refused = await get("198.51.100.7", LONG);
    expect(refused.status).toBe(429);
    expect(refused.retryAfter).toBe("60");
    advance(20_000);
    expect((await get("198.51.100.7", "wrong")).retryAfter).toBe("40");
    advance(40_000);
    expect((await get("198.51.100.7", LONG)).status).toBe(200);
  });

  it("keys clients by address, IPv6 by its /64", async () => {
    const { get } = routes();
    for (let i = 0; i < 3; i++) await get("2001:db8:1:2::1", "wrong");
    expect((await get("2001:db8:1:2:ffff::9", LONG)).status).toBe(429);
    expect((await get("2001:db8:1:3::1", LONG)).status).toBe(200);
    expect((await get("198.51.100.8", LONG)).status).toBe(200);
  });

  it("a right token clears the client's failures", async () => {
    const { get } = routes();
    for (let i = 0; i < 2; i++) await get("198.51.100.9", "wrong");
    expect((await get("198.51.100.9", LONG)).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await get("198.51.100.9", "wrong")).status).toBe(401);
    expect((await get("198.51.100.9", LONG)).status).toBe(200);
  });
});

describe("the insight routes share the query API's guard", () => {
  it.each(["/v1/slowest?metric=ttfb", "/v1/slo", "/v1/cache", "/v1/impact"])(
    "%s needs the token, answers 503 under a refused one and is throttled",
    async (p) => {
      const open = await collector({}).fetch(new Request(`http://shop.test/_rum${p}`), env, ctx);
      expect(open.status).toBe(401);
      const refused = collector({ ENVIRONMENT: "production", RUM_QUERY_TOKEN: "dev-query-token" });
      expect((await query(refused, "dev-query-token")).status).toBe(503);
      const res = await refused.fetch(
        new Request(`http://shop.test/_rum${p}`, { headers: { Authorization: "Bearer dev-query-token" } }),
        env,
        ctx,
      );
      expect(res.status).toBe(503);
      expect(await res.text()).toContain("RUM_QUERY_TOKEN");
      const app = collector({});
      const bad = (ip: string) =>
        app.fetch(
          new Request(`http://shop.test/_rum${p}`, {
            headers: { Authorization: "Bearer wrong", "CF-Connecting-IP": ip },
          }),
          env,
          ctx,
        );
      for (let i = 0; i < 10; i++) expect((await bad("192.0.2.44")).status).toBe(401);
      const throttled = await bad("192.0.2.44");
      expect(throttled.status).toBe(429);
      expect(Number(throttled.headers.get("retry-after"))).toBeGreaterThan(0);
    },
  );
});
