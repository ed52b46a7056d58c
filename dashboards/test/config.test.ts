import { describe, expect, it } from "vitest";
import { parseDashConfig } from "../src/config.ts";

describe("config", () => {
  it("applies defaults", () => {
    expect(parseDashConfig({ DASH_TOKEN: "dev-dash-token" })).toEqual({
      token: "dev-dash-token",
      defaultSite: "demo",
      liveRefreshSeconds: 5,
      sessionSeconds: 43_200,
    });
  });

  it("names the key and the bad value", () => {
    expect(() => parseDashConfig({})).toThrow(
      "Invalid config DASH_TOKEN: expected a string of at least 8 characters (got null)",
    );
    expect(() => parseDashConfig({ DASH_TOKEN: "short" })).toThrow('(got "<5 chars>")');
    expect(() => parseDashConfig({ DASH_TOKEN: "dev-dash-token", DASH_LIVE_REFRESH_SECONDS: "abc" })).toThrow(
      'Invalid config DASH_LIVE_REFRESH_SECONDS: expected an integer 1–3600 (got "abc")',
    );
    expect(() => parseDashConfig({ DASH_TOKEN: "dev-dash-token", DASH_DEFAULT_SITE: "a b" })).toThrow(
      'Invalid config DASH_DEFAULT_SITE: expected a site id of [A-Za-z0-9_.-] (got "a b")',
    );
  });
});
