import { describe, expect, it } from "vitest";
import {
  classifyUserAgent,
  classifyUserAgentCached,
  UA_CACHE_SIZE,
  uaCacheSize,
} from "../../common/src/user-agent.ts";
import { isBeaconPath } from "../src/app.ts";
import { createClientKeyer } from "../src/intake/client-key.ts";
import { pathOf } from "../src/intake/page-view.ts";
import { createRateLimiter } from "../src/intake/rate-limiter.ts";
import { fnv1a32, isSampledIn } from "../src/intake/sampling.ts";

describe("client keys", () => {
  it("are salted hashes: stable within a UTC day, different across days, never the IP", async () => {
    let counter = 0;
    const keyer = createClientKeyer((buf) => buf.fill(++counter));
    const day = Date.UTC(2026, 10, 25, 1);
    const a = await keyer.keyFor("203.0.113.5", day);
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(a).not.toContain("203");
    expect(await keyer.keyFor("203.0.113.5", day + 3_600_000)).toBe(a);
    expect(await keyer.keyFor("203.0.113.6", day)).not.toBe(a);
    expect(await keyer.keyFor("203.0.113.5", day + 86_400_000)).not.toBe(a);
  });
});

describe("rate limiter", () => {
  it("allows a burst of `limit`, then refills evenly", () => {
    const rl = createRateLimiter({ limit: 3, windowMs: 3000 });
    expect([rl.take("k", 0), rl.take("k", 0), rl.take("k", 0)].every((d) => d.ok)).toBe(true);
    expect(rl.take("k", 0)).toEqual({ ok: false, retryAfterS: 1 });
    expect(rl.take("k", 999).ok).toBe(false);
    expect(rl.take("k", 2000).ok).toBe(true);
  });

  it("stays bounded in memory with many clients and still serves new ones", () => {
    const rl = createRateLimiter({ limit: 1, windowMs: 60_000 }, 100);
    for (let i = 0; i < 1000; i++) expect(rl.take(`c${i}`, i).ok).toBe(true);
    expect(rl.take("c999", 1000).ok).toBe(false);
  });
});

describe("sampling", () => {
  it("is a pure function of the page-view id", () => {
    expect(fnv1a32("")).toBe(0x811c9dc5);
    expect(fnv1a32("a")).toBe(0xe40c292c);
    expect(isSampledIn("anything", 1)).toBe(true);
    expect(isSampledIn("anything", 0)).toBe(false);
    const ids = Array.from({ length: 1000 }, (_, i) => `pv-${i}-abcdef`);
    const kept = ids.filter((id) => isSampledIn(id, 0.1)).length;
    expect(kept).toBeGreaterThan(60);
    expect(kept).toBeLessThan(140);
    expect(ids.filter((id) => isSampledIn(id, 0.1))).toEqual(ids.filter((id) => isSampledIn(id, 0.1)));
  });
});

describe("pathOf", () => {
  it("keeps only the path", () => {
    expect(pathOf("https://a.test/p/1?x=1#y")).toBe("/p/1");
    expect(pathOf("https://a.test")).toBe("/");
    expect(pathOf("https://a.test?x=/y")).toBe("/");
    expect(pathOf("http://a.test:8080/c/#top")).toBe("/c/");
  });
});

describe("User-Agent class cache", () => {
  it("gives the uncached classification, stays bounded, and skips very long UAs", () => {
    const uas = [
      "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36",
      "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/604.1",
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
      "Googlebot/2.1 (+http://www.google.com/bot.html)",
    ];
    for (let round = 0; round < 2; round++) {
      for (const ua of uas) expect(classifyUserAgentCached(ua)).toEqual(classifyUserAgent(ua));
    }
    for (let i = 0; i < UA_CACHE_SIZE + 50; i++)
      classifyUserAgentCached(`Mozilla/5.0 (X11; Linux) Tester/${i}`);
    expect(uaCacheSize()).toBe(UA_CACHE_SIZE);
    const long = `Mozilla/5.0 (iPhone) ${"x".repeat(600)}`;
    expect(classifyUserAgentCached(long)).toEqual(classifyUserAgent(long));
    expect(classifyUserAgentCached(null)).toEqual({ device: "other", browser: "other" });
    // The most recently used entries survive eviction.
    expect(classifyUserAgentCached(uas[0] as string)).toEqual(classifyUserAgent(uas[0]));
  });
});

describe("beacon fast path", () => {
  it("matches exactly /_rum/v1/beacon, with or without a query", () => {
    expect(isBeaconPath("https://x.example/_rum/v1/beacon")).toBe(true);
    expect(isBeaconPath("http://127.0.0.1:8787/_rum/v1/beacon?a=1")).toBe(true);
    expect(isBeaconPath("http://h/_rum/v1/beacon#f")).toBe(true);
    expect(isBeaconPath("http://h/_rum/v1/beacons")).toBe(false);
    expect(isBeaconPath("http://h/_rum/v1/beacon/x")).toBe(false);
    expect(isBeaconPath("http://h/x/_rum/v1/beacon")).toBe(false);
    expect(isBeaconPath("http://h")).toBe(false);
  });
});
