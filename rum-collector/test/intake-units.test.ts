import { describe, expect, it } from "vitest";
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
