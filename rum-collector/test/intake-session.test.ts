import { describe, expect, it } from "vitest";
import { parsePrefetchArms } from "../src/config.ts";
import { fastValidBeacon } from "../src/intake/fast-beacon.ts";
import { beaconRequest, SITE_ORIGIN, sampleBeacon, testApp, testConfig } from "./intake-fixtures.ts";

describe("session, previous page view, prefetch arm and conversion", () => {
  it("pass through the intake unchanged (fast path and valibot agree)", async () => {
    const { app, queue } = testApp();
    const b = sampleBeacon({ sid: "s_tab_0001", prev: "pv_previous1", arm: "holdout", conv: { value: 80 } });
    expect(fastValidBeacon(JSON.parse(JSON.stringify(b)))).not.toBeNull();
    const res = await app.fetch(beaconRequest(b));
    expect(res.status).toBe(204);
    expect(queue.sent[0]?.beacon).toMatchObject({
      sid: "s_tab_0001",
      prev: "pv_previous1",
      arm: "holdout",
      conv: { value: 80 },
    });
  });

  it("400 with the field path for a bad arm or conversion value", async () => {
    const { app, queue } = testApp();
    let res = await app.fetch(beaconRequest({ ...sampleBeacon(), arm: "all" }));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(
      /^arm: expected one of holdout, ours, press/,
    );
    res = await app.fetch(beaconRequest({ ...sampleBeacon(), conv: { value: -3 } }));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/^conv\.value: /);
    expect(queue.sent).toHaveLength(0);
  });

  it("a page view in a RUM_CONVERSION_GROUPS group is marked converted (value 0 unless it has one)", async () => {
    const { app, queue } = testApp({ RUM_CONVERSION_GROUPS: "/checkout/done, /order/:id" });
    const send = (path: string, extra = {}) =>
      app.fetch(
        beaconRequest(
          sampleBeacon({ pvid: `pv_${path.replace(/\W/g, "_")}_1`, url: `${SITE_ORIGIN}${path}`, ...extra }),
        ),
      );
    expect((await send("/checkout/done")).status).toBe(204);
    expect((await send("/order/123456")).status).toBe(204);
    expect((await send("/order/123457", { conv: { value: 25 } })).status).toBe(204);
    expect((await send("/p/12345")).status).toBe(204);
    expect(queue.sent.map((m) => [m.pageGroup, m.beacon.conv])).toEqual([
      ["/checkout/done", { value: 0 }],
      ["/order/:id", { value: 0 }],
      ["/order/:id", { value: 25 }],
      ["/p/:id", undefined],
    ]);
  });

  it("RUM_CONVERSION_GROUPS rejects a group with whitespace, naming the key", async () => {
    expect(() => testApp({ RUM_CONVERSION_GROUPS: "/a b" })).toThrow(
      /^Invalid config RUM_CONVERSION_GROUPS: page group/,
    );
  });

  it("RUM_PREFETCH_ARMS is validated and normalised; unset means no experiment", () => {
    expect(parsePrefetchArms(undefined)).toBe("");
    expect(parsePrefetchArms(" holdout : 0.1, ours:0.8 ,press:0.1 ")).toBe("holdout:0.1,ours:0.8,press:0.1");
    expect(() => parsePrefetchArms("holdout:0.1,control:0.9")).toThrow(
      /^Invalid config RUM_PREFETCH_ARMS: entry "control:0.9" is not <holdout\|ours\|press>:<share ≥ 0>/,
    );
    expect(() => parsePrefetchArms("ours:1,ours:2")).toThrow(/arm "ours" is listed twice/);
    expect(() => parsePrefetchArms("ours:-1")).toThrow(/RUM_PREFETCH_ARMS/);
    expect(() => parsePrefetchArms("holdout:0,ours:0")).toThrow(/add up to more than 0/);
    expect(testConfig({ RUM_PREFETCH_ARMS: "ours:1" }).prefetchArms).toBe("ours:1");
  });
});
