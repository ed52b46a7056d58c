import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../index.ts";

const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;

describe("composed worker", () => {
  it("answers a bad config value with 503 naming the key, not an exception", async () => {
    const bad = { ...env, ORIGIN_URL: "not a url" } as unknown as Env;
    const res = await worker.fetch(new Request("http://shop.test/p/1"), bad, ctx);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: string }).error).toContain("ORIGIN_URL");
  });

  it("routes /_dash to the dashboards, which read the query API in-process", async () => {
    const login = await worker.fetch(new Request("http://shop.test/_dash/"), env, ctx);
    expect([302, 303]).toContain(login.status);
    const res = await worker.fetch(
      new Request("http://shop.test/_dash/pageviews", {
        headers: { Authorization: `Bearer ${env.DASH_TOKEN}` },
      }),
      env,
      ctx,
    );
    expect(res.status).toBe(200);
    const html = await res.text();
    // The in-process call reached the collector with the query token (no "not wired" / 401 message).
    expect(html).not.toContain("not wired");
    expect(html).not.toMatch(/401|unauthori[sz]ed/i);
  });

  it("routes /_rum to the collector", async () => {
    const res = await worker.fetch(new Request("http://shop.test/_rum/v1/pageviews"), env, ctx);
    expect(res.status).toBe(401);
  });
});
