import { describe, expect, it } from "vitest";
import { classifyUserAgent, MAX_UA_LENGTH } from "../../common/src/user-agent.ts";
import { createClientKeyer } from "../src/intake/client-key.ts";
import { beaconRequest, sampleBeacon, testApp } from "./intake-fixtures.ts";

const ANDROID =
  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36";

describe("rate-limit keys: IPv6 clients on their /64", () => {
  it("addresses in one /64 share a key (any spelling); another /64 or an IPv4 address does not", async () => {
    const keyer = createClientKeyer((buf) => buf.fill(7));
    const now = Date.UTC(2026, 11, 6);
    const a = await keyer.keyFor("2001:db8:aa:bb::1", now);
    expect(await keyer.keyFor("2001:0db8:00aa:00bb:ffff:1:2:3", now)).toBe(a);
    expect(await keyer.keyFor("2001:DB8:AA:BB:0:0:0:9", now)).toBe(a);
    expect(await keyer.keyFor("2001:db8:aa:bc::1", now)).not.toBe(a);
    expect(await keyer.keyFor("203.0.113.5", now)).not.toBe(await keyer.keyFor("203.0.113.6", now));
  });

  it("a client rotating addresses inside its /64 is limited as one; its neighbour /64 is not", async () => {
    const { app } = testApp({ RUM_RATE_LIMIT: "3/min" });
    const statuses: number[] = [];
    for (let i = 1; i <= 5; i++) {
      const res = await app.fetch(beaconRequest(sampleBeacon(), { ip: `2001:db8:1:2::${i.toString(16)}` }));
      statuses.push(res.status);
    }
    expect(statuses).toEqual([204, 204, 204, 429, 429]);
    const other = await app.fetch(beaconRequest(sampleBeacon(), { ip: "2001:db8:1:3::1" }));
    expect(other.status).toBe(204);
  });
});

describe("User-Agent length cap", () => {
  it(`classifies only the first ${MAX_UA_LENGTH} chars of a 16 KB User-Agent`, () => {
    const padding = " x".repeat(8_000); // 16 KB
    const long = `${ANDROID}${padding}`;
    expect(long.length).toBeGreaterThan(16_000);
    expect(classifyUserAgent(long)).toEqual({ device: "mobile", browser: "chrome" });
    // A crawler token past the cut is not seen: the cut really happens before classification.
    expect(classifyUserAgent(`${ANDROID}${padding} Googlebot/2.1`)).toEqual({
      device: "mobile",
      browser: "chrome",
    });
    expect(classifyUserAgent(`${ANDROID} Googlebot/2.1${padding}`).device).toBe("bot");
  });

  it("a beacon with a 16 KB User-Agent is accepted and classified from its prefix", async () => {
    const { app, queue } = testApp();
    const res = await app.fetch(beaconRequest(sampleBeacon(), { ua: `${ANDROID}${"y".repeat(16_384)}` }));
    expect(res.status).toBe(204);
    expect(queue.sent[0]?.dims).toMatchObject({ device: "mobile", browser: "chrome" });
  });
});
