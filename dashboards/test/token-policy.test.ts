import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { AuthThrottle } from "../../common/src/auth-throttle.ts";
import { createDashboardsApp } from "../src/app.ts";
import { parseDashConfig } from "../src/config.ts";
import { createDashboardsFromEnv } from "../src/index.ts";
import { fakeQueryApi } from "./fake-query-api.ts";
import { TOKEN } from "./helpers.ts";

const LONG = "d9".repeat(20);

describe("DASH_TOKEN under the secret-token policy", () => {
  it.each([
    ["dev-dash-token", /DASH_TOKEN is shorter than 32/],
    [`dev-${LONG}`, /DASH_TOKEN is a development token/],
    [undefined, /DASH_TOKEN is not set/],
  ])("outside development %s is a config error naming the key", (token, reason) => {
    const make = () =>
      createDashboardsFromEnv({ ...env, ENVIRONMENT: "production", DASH_TOKEN: token } as unknown as Env);
    expect(make).toThrow(/^Invalid config DASH_TOKEN: /);
    expect(make).toThrow(reason);
  });

  it("accepts a long random token in production and the dev token in development", () => {
    expect(() =>
      createDashboardsFromEnv({ ...env, ENVIRONMENT: "production", DASH_TOKEN: LONG } as unknown as Env),
    ).not.toThrow();
    expect(() =>
      createDashboardsFromEnv({ ...env, ENVIRONMENT: "development" } as unknown as Env),
    ).not.toThrow();
  });
});

describe("dashboard login and bearer: repeated bad tokens are throttled per client", () => {
  function make() {
    let now = Date.UTC(2026, 11, 6, 12, 0, 0);
    const app = createDashboardsApp({
      config: parseDashConfig({ DASH_TOKEN: TOKEN }),
      queryApi: fakeQueryApi({}).api,
      now: () => now,
      throttle: new AuthThrottle({ maxFailures: 3, windowMs: 60_000 }),
    });
    const login = (ip: string, token: string) =>
      app.request("http://shop.test/_dash/login", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", "cf-connecting-ip": ip },
        body: new URLSearchParams({ token, next: "/_dash/" }).toString(),
      });
    const bearer = (ip: string, token: string) =>
      app.request("http://shop.test/_dash/pageviews", {
        headers: { authorization: `Bearer ${token}`, "cf-connecting-ip": ip },
      });
    return { login, bearer, advance: (ms: number) => (now += ms) };
  }

  it("the login form answers 429 with Retry-After after the limit, then accepts again after the window", async () => {
    const { login, advance } = make();
    for (let i = 0; i < 3; i++) expect((await login("203.0.113.5", "wrong")).status).toBe(401);
    const refused = await login("203.0.113.5", TOKEN);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("60");
    expect(await refused.text()).toContain("Too many");
    expect((await login("203.0.113.6", TOKEN)).status).toBe(303);
    advance(60_000);
    expect((await login("203.0.113.5", TOKEN)).status).toBe(303);
  });

  it("bearer failures count too, and share the limit with the login form", async () => {
    const { login, bearer } = make();
    for (let i = 0; i < 2; i++) expect((await bearer("2001:db8::1", "wrong")).status).toBe(401);
    expect((await login("2001:db8::2", "wrong")).status).toBe(401);
    expect((await bearer("2001:db8::3", TOKEN)).status).toBe(429);
    expect((await bearer("203.0.113.9", TOKEN)).status).toBe(200);
  });
});
