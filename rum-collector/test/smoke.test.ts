import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";

describe("collector bindings", () => {
  it("has D1 with migrations applied", async () => {
    const r = await env.DB.prepare("SELECT name FROM d1_migrations").all();
    expect(Array.isArray(r.results)).toBe(true);
  });
});
