import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { parseCollectorConfig, parseDeadLetterQueue } from "../src/config.ts";

const SITES = "shop=https://shop.example,http://localhost:8000; blog=https://blog.example";

describe("parseCollectorConfig", () => {
  it("parses the repository's wrangler.toml vars", () => {
    const c = parseCollectorConfig(env as unknown as Record<string, unknown>);
    expect(c.sites.get("demo")).toContain("http://127.0.0.1:8787");
    expect(c.siteByOrigin.get("http://localhost:8000")).toBe("demo");
    expect(c.queryToken).toBe("dev-query-token");
  });

  it("applies the documented defaults", () => {
    const c = parseCollectorConfig({ RUM_SITES: SITES });
    expect(c.sampleRate).toBe(1);
    expect(c.rateLimit).toEqual({ limit: 120, windowMs: 60_000 });
    expect(c.queryToken).toBeNull();
    expect(c.pageGroupRules).toEqual([]);
    expect(c.intakeBatchSize).toBe(100);
    expect(c.intakeBatchMs).toBe(50);
    expect([...c.sites.keys()]).toEqual(["shop", "blog"]);
    expect(c.siteByOrigin.get("https://blog.example")).toBe("blog");
  });

  it("normalises origins (trailing slash, case, default port)", () => {
    const c = parseCollectorConfig({ RUM_SITES: "a=HTTPS://Shop.Example:443/" });
    expect(c.sites.get("a")).toEqual(["https://shop.example"]);
  });

  it("parses sample rate, rate limit, query token and page groups", () => {
    const c = parseCollectorConfig({
      RUM_SITES: SITES,
      RUM_SAMPLE_RATE: "0.25",
      RUM_RATE_LIMIT: "10/s",
      RUM_QUERY_TOKEN: "s3cret-token",
      ENVIRONMENT: "development",
      RUM_PAGE_GROUPS: "/p/:id=product",
    });
    expect(c.sampleRate).toBe(0.25);
    expect(c.rateLimit).toEqual({ limit: 10, windowMs: 1000 });
    expect(c.queryToken).toBe("s3cret-token");
    expect(c.pageGroupRules).toEqual([{ pattern: "/p/:id", group: "product" }]);
    expect(parseCollectorConfig({ RUM_SITES: SITES, RUM_RATE_LIMIT: "off" }).rateLimit).toBeNull();
    expect(parseCollectorConfig({ RUM_SITES: SITES, RUM_RATE_LIMIT: "600/hour" }).rateLimit).toEqual({
      limit: 600,
      windowMs: 3_600_000,
    });
  });

  it("names the dead-letter queue by RUM_DEAD_LETTER_QUEUE (default rum-events-dlq)", () => {
    expect(parseDeadLetterQueue(undefined)).toBe("rum-events-dlq");
    expect(parseDeadLetterQueue("")).toBe("rum-events-dlq");
    expect(parseDeadLetterQueue(" rum-events-production-dlq ")).toBe("rum-events-production-dlq");
    for (const bad of ["-dlq", "dlq-", "rum_events_dlq", "Rum-dlq"])
      expect(() => parseDeadLetterQueue(bad), bad).toThrow(/^Invalid config RUM_DEAD_LETTER_QUEUE: /);
  });

  const bad: [string, Record<string, unknown>, RegExp][] = [
    ["missing RUM_SITES", {}, /^Invalid config RUM_SITES: required, format .* \(got ""\)$/],
    [
      "entry without =",
      { RUM_SITES: "shop" },
      /^Invalid config RUM_SITES: entry "shop" is not site=origin.* \(got "shop"\)$/,
    ],
    [
      "bad site id",
      { RUM_SITES: "Shop!=https://a.example" },
      /^Invalid config RUM_SITES: site id "Shop!" .*\(got "Shop!=https:\/\/a.example"\)$/,
    ],
    [
      "origin with a path",
      { RUM_SITES: "shop=https://a.example/app" },
      /^Invalid config RUM_SITES: "https:\/\/a.example\/app" \(site "shop"\) is not an origin/,
    ],
    [
      "not a URL",
      { RUM_SITES: "shop=a.example" },
      /^Invalid config RUM_SITES: "a.example" \(site "shop"\) is not an origin/,
    ],
    ["no origins", { RUM_SITES: "shop=" }, /^Invalid config RUM_SITES: site "shop" has no origins/],
    ["duplicate site", { RUM_SITES: "a=https://a.example;a=https://b.example" }, /site "a" is listed twice/],
    [
      "shared origin",
      { RUM_SITES: "a=https://a.example;b=https://a.example" },
      /origin https:\/\/a.example is registered for both "a" and "b"/,
    ],
    [
      "sample rate not a number",
      { RUM_SITES: SITES, RUM_SAMPLE_RATE: "abc" },
      /^Invalid config RUM_SAMPLE_RATE: expected a number between 0 and 1 \(got "abc"\)$/,
    ],
    [
      "sample rate above 1",
      { RUM_SITES: SITES, RUM_SAMPLE_RATE: "1.5" },
      /^Invalid config RUM_SAMPLE_RATE: .*\(got "1.5"\)$/,
    ],
    [
      "rate limit words",
      { RUM_SITES: SITES, RUM_RATE_LIMIT: "fast" },
      /^Invalid config RUM_RATE_LIMIT: .*\(got "fast"\)$/,
    ],
    [
      "rate limit window from the prototype",
      { RUM_SITES: SITES, RUM_RATE_LIMIT: "5/constructor" },
      /^Invalid config RUM_RATE_LIMIT: .*\(got "5\/constructor"\)$/,
    ],
    [
      "rate limit zero",
      { RUM_SITES: SITES, RUM_RATE_LIMIT: "0/min" },
      /^Invalid config RUM_RATE_LIMIT: .*\(got "0\/min"\)$/,
    ],
    [
      "rate limit unit",
      { RUM_SITES: SITES, RUM_RATE_LIMIT: "5/week" },
      /^Invalid config RUM_RATE_LIMIT: .*\(got "5\/week"\)$/,
    ],
    [
      "page group rule",
      { RUM_SITES: SITES, RUM_PAGE_GROUPS: "p/:id=product" },
      /^Invalid config RUM_PAGE_GROUPS: .*must start with "\/".* \(got "p\/:id=product"\)$/,
    ],
    [
      "batch size 0",
      { RUM_SITES: SITES, RUM_INTAKE_BATCH_SIZE: "0" },
      /^Invalid config RUM_INTAKE_BATCH_SIZE: expected an integer from 1 to 100 .*\(got "0"\)$/,
    ],
    [
      "batch size over the Queues limit",
      { RUM_SITES: SITES, RUM_INTAKE_BATCH_SIZE: "101" },
      /^Invalid config RUM_INTAKE_BATCH_SIZE: .*\(got "101"\)$/,
    ],
    [
      "batch size not an integer",
      { RUM_SITES: SITES, RUM_INTAKE_BATCH_SIZE: "2.5" },
      /^Invalid config RUM_INTAKE_BATCH_SIZE: .*\(got "2.5"\)$/,
    ],
    [
      "batch wait negative",
      { RUM_SITES: SITES, RUM_INTAKE_BATCH_MS: "-1" },
      /^Invalid config RUM_INTAKE_BATCH_MS: expected an integer from 0 to 5000 .*\(got "-1"\)$/,
    ],
    [
      "dead-letter queue name with capitals and spaces",
      { RUM_SITES: SITES, RUM_DEAD_LETTER_QUEUE: "RUM events DLQ" },
      /^Invalid config RUM_DEAD_LETTER_QUEUE: expected a queue name .*\(got "RUM events DLQ"\)$/,
    ],
    [
      "dead-letter queue name over 63 characters",
      { RUM_SITES: SITES, RUM_DEAD_LETTER_QUEUE: `q${"x".repeat(63)}` },
      /^Invalid config RUM_DEAD_LETTER_QUEUE: /,
    ],
    [
      "batch wait with a unit",
      { RUM_SITES: SITES, RUM_INTAKE_BATCH_MS: "50ms" },
      /^Invalid config RUM_INTAKE_BATCH_MS: .*\(got "50ms"\)$/,
    ],
  ];
  it.each(bad)("rejects %s, naming the key and the value", (_name, input, re) => {
    expect(() => parseCollectorConfig(input)).toThrow(re);
  });

  it("parses the intake batch keys (1 = unbatched, 0 ms allowed)", () => {
    const c = parseCollectorConfig({
      RUM_SITES: SITES,
      RUM_INTAKE_BATCH_SIZE: " 1 ",
      RUM_INTAKE_BATCH_MS: "0",
    });
    expect(c.intakeBatchSize).toBe(1);
    expect(c.intakeBatchMs).toBe(0);
  });

  it("keeps a token the policy refuses out of the config, naming the key but never the value", () => {
    for (const [token, environment, reason] of [
      [undefined, "development", "RUM_QUERY_TOKEN is not set"],
      ["short", "production", "RUM_QUERY_TOKEN is shorter than 32 characters"],
      [`dev-${"x".repeat(40)}`, "production", 'RUM_QUERY_TOKEN is a development token (starts with "dev-")'],
      ["has a space", "development", "RUM_QUERY_TOKEN contains whitespace"],
    ] as const) {
      const c = parseCollectorConfig({ RUM_SITES: SITES, RUM_QUERY_TOKEN: token, ENVIRONMENT: environment });
      expect(c.queryToken).toBeNull();
      expect(c.queryTokenError).toBe(reason);
    }
    const long = "q".repeat(32);
    expect(
      parseCollectorConfig({ RUM_SITES: SITES, RUM_QUERY_TOKEN: long, ENVIRONMENT: "production" }),
    ).toMatchObject({ queryToken: long, queryTokenError: null });
  });
});
