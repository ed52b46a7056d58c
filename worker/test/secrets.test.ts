import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../index.ts";

const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;

async function call(vars: Record<string, unknown>, path: string, token: string) {
  const res = await worker.fetch(
    new Request(`http://shop.test${path}`, { headers: { Authorization: `Bearer ${token}` } }),
    { ...env, ...vars } as unknown as Env,
    ctx,
  );
  return { status: res.status, text: await res.text() };
}

describe("tokens outside local development", () => {
  it("the test tokens come from the vitest config's bindings with ENVIRONMENT=development", () => {
    expect(env.ENVIRONMENT).toBe("development");
    expect(env.DASH_TOKEN).toBe("dev-dash-token");
    expect(env.RUM_QUERY_TOKEN).toBe("dev-query-token");
  });

  it("dev tokens in production: /_dash and the query API answer 503 naming the key, never the value", async () => {
    const dash = await call({ ENVIRONMENT: "production" }, "/_dash/pageviews", env.DASH_TOKEN);
    expect(dash.status).toBe(503);
    expect(dash.text).toContain("DASH_TOKEN");
    expect(dash.text).not.toContain(env.DASH_TOKEN);
    const query = await call({ ENVIRONMENT: "production" }, "/_rum/v1/pageviews", env.RUM_QUERY_TOKEN);
    expect(query.status).toBe(503);
    expect(query.text).toContain("RUM_QUERY_TOKEN");
    expect(query.text).not.toContain(env.RUM_QUERY_TOKEN);
  });

  it("long random tokens in production: the dashboards read the query API in-process", async () => {
    const vars = { ENVIRONMENT: "production", DASH_TOKEN: "a1".repeat(20), RUM_QUERY_TOKEN: "b2".repeat(20) };
    const dash = await call(vars, "/_dash/pageviews", vars.DASH_TOKEN);
    expect(dash.status).toBe(200);
    expect(dash.text).not.toMatch(/401|unauthori[sz]ed|RUM_QUERY_TOKEN/i);
    expect((await call(vars, "/_rum/v1/pageviews", vars.RUM_QUERY_TOKEN)).status).toBe(200);
  });
});
