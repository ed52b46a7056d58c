import { describe, expect, it } from "vitest";
import {
  type CheckInput,
  isCronExpression,
  isLoopbackHost,
  isPlaceholderHost,
  LIMITS,
  routeHost,
  rumSiteOrigins,
  runChecks,
  SECRET_NAME,
} from "../deploy/checks.ts";

describe("deploy checks: helpers", () => {
  it("tells loopback and placeholder hosts from real ones", () => {
    for (const h of [
      "localhost",
      "app.localhost",
      "127.0.0.1",
      "127.8.9.1",
      "[::1]",
      "0.0.0.0",
      "::ffff:127.0.0.1",
    ])
      expect(isLoopbackHost(h), h).toBe(true);
    for (const h of [
      "example.com",
      "shop.example.com",
      "x.example.org",
      "a.test",
      "b.invalid",
      "shop.example",
    ])
      expect(isPlaceholderHost(h), h).toBe(true);
    for (const h of ["acme-shop.de", "example.com.evil.net", "myexample.com", "10.0.0.1"]) {
      expect(isLoopbackHost(h), h).toBe(false);
      expect(isPlaceholderHost(h), h).toBe(false);
    }
  });

  it("reads route hosts, RUM_SITES origins and cron expressions", () => {
    expect(routeHost("www.acme-shop.de/*")).toBe("www.acme-shop.de");
    expect(routeHost("https://Shop.Acme.de:443/p/*")).toBe("shop.acme.de");
    expect(rumSiteOrigins("a=https://x.de, https://y.de; b=https://z.de")).toEqual([
      "https://x.de",
      "https://y.de",
      "https://z.de",
    ]);
    expect(isCronExpression("*/5 * * * *")).toBe(true);
    expect(isCronExpression("0 3 * * MON-FRI")).toBe(true);
    expect(isCronExpression("*/5 * * *")).toBe(false);
    expect(isCronExpression("rm -rf / * * *")).toBe(false);
  });

  it("takes webhooks, tokens, keys, secrets and passwords for secrets, other vars not", () => {
    for (const k of [
      "RUM_ALERT_WEBHOOK",
      "EDGE_PURGE_API_TOKEN",
      "IMAGE_SIGNING_KEY",
      "SMTP_PASSWORD",
      "oauthClientSecret",
    ])
      expect(SECRET_NAME.test(k), k).toBe(true);
    for (const k of [
      "RUM_SITES",
      "ORIGIN_URL",
      "RUM_ALERT_FORMAT",
      "RUM_ALERT_DASHBOARD_URL",
      "RUM_DEAD_LETTER_QUEUE",
    ])
      expect(SECRET_NAME.test(k), k).toBe(false);
  });
});

describe("deploy checks: migrations and limits", () => {
  const base: CheckInput = {
    env: "production",
    config: { d1_databases: [{ binding: "DB", database_id: "x", migrations_dir: "migrations" }] },
    base: {},
    secrets: {},
    secretsSource: "test",
    bundle: null,
    migrations: { migrations: ["0002_a.sql", "0003_b.sql", "0003a_c.sql", "README.md"] },
  };
  const problems = (over: Partial<CheckInput>) =>
    runChecks({ ...base, ...over }).problems.filter((p) => /^(migrations|bundle):/.test(p));

  it("accepts numbered migrations with gaps and lists what a new database gets", () => {
    expect(problems({})).toEqual([]);
    expect(runChecks(base).notes.join("\n")).toContain("a new DB database gets 3 (0002_a.sql … 0003a_c.sql)");
  });

  it("flags badly named, duplicate-numbered and missing migrations", () => {
    expect(problems({ migrations: { migrations: ["0002_a.sql", "0002_b.sql", "init.sql"] } })).toEqual([
      "migrations: migrations/0002_b.sql and 0002_a.sql share the number 0002",
      "migrations: migrations/init.sql is not named NNNN_name.sql",
    ]);
    expect(problems({ migrations: {} })).toEqual(["migrations: migrations (D1 DB) does not exist"]);
  });

  it("checks the bundle against 64 MiB uncompressed, the gzip budget and the 1 s start-up limit", () => {
    expect(LIMITS).toEqual({
      uncompressedBytes: 64 * 1024 * 1024,
      gzipBytes: 3 * 1024 * 1024,
      startupMs: 1000,
    });
    expect(
      problems({ bundle: { bytes: 65 * 1024 * 1024, gzipBytes: 4 * 1024 * 1024, startupMs: 1200 } }),
    ).toEqual([
      "bundle: 65.00 MiB uncompressed exceeds Cloudflare's 64.00 MiB Worker size limit",
      "bundle: 4.00 MiB gzip exceeds the 3.00 MiB budget",
      "bundle: start-up 1200 ms CPU exceeds the 1000 ms Worker startup limit",
    ]);
    expect(problems({ bundle: { bytes: 1024, gzipBytes: 512, startupMs: 20 } })).toEqual([]);
  });
});
