import { env } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
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

describe("building a part: config errors and faults", () => {
  it("a config error is a 503 naming the key; any other fault a generic 500 with a log line", async () => {
    const bad = await call({ RUM_SITES: "" }, "/_rum/v1/pageviews", env.RUM_QUERY_TOKEN);
    expect(bad.status).toBe(503);
    expect(bad.text).toContain("Invalid config RUM_SITES");

    const logged: string[] = [];
    const spy = vi.spyOn(console, "error").mockImplementation((line: string) => {
      logged.push(line);
    });
    try {
      // A binding whose access throws stands in for a bug while building the collector.
      const broken = {
        ...env,
        get RUM_SITES(): string {
          throw new TypeError("boom while reading RUM_SITES");
        },
      } as unknown as Env;
      const res = await worker.fetch(new Request("http://shop.test/_rum/v1/pageviews"), broken, ctx);
      expect(res.status).toBe(500);
      const text = await res.text();
      expect(text).toBe('{"error":"internal error"}');
      expect(logged.join("\n")).toContain("boom while reading RUM_SITES");
    } finally {
      spy.mockRestore();
    }
  });
});
