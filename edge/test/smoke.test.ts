import { env } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

describe("root worker", () => {
  it("routes /_rum to the collector", async () => {
    const res = await exports.default.fetch("http://shop.test/_rum/x");
    expect(await res.text()).toContain("collector");
    expect(env.ORIGIN_URL).toContain("http");
  });
});
