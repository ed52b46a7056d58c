import { describe, expect, it } from "vitest";
import type { CacheStatus } from "./rum-types.ts";

describe("rum types", () => {
  it("names the cache statuses the edge reports", () => {
    const s: CacheStatus[] = ["HIT", "MISS", "STALE", "EXPIRED", "BYPASS", "NONE"];
    expect(new Set(s).size).toBe(6);
  });
});
