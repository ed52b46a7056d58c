import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import type { ImageLogMessage } from "../../common/src/rum-types.ts";
import { seededRandom } from "../../common/src/seeded-random.ts";
import { createQueryRoutes } from "../src/query/routes.ts";
import { downsampleImages } from "../src/store/image-log.ts";
import { HOUR_MS } from "../src/store/metrics.ts";
import { storeMessages } from "../src/store/write-messages.ts";
import { imageLog, resetRumTables } from "./store-fixtures.ts";

const TOKEN = "test-query-token";
// Data spans 10:00–13:00 UTC; "now" is 13:02, so hours 10 and 11 are downsampled, 12 is not.
const T0 = Date.UTC(2026, 10, 24, 10, 0, 0);
const NOW = T0 + 3 * HOUR_MS + 2 * 60_000;
const app = createQueryRoutes({ db: env.DB, queryToken: TOKEN, now: () => NOW });
const msgs: ImageLogMessage[] = [];

async function get(path: string, token: string | null = TOKEN) {
  const headers: Record<string, string> = token === null ? {} : { Authorization: `Bearer ${token}` };
  const res = await app.request(path, { headers });
  // biome-ignore lint/suspicious/noExplicitAny: loosely typed JSON in assertions
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

/** The expected numbers, summed straight from the inserted messages. */
function expected(ms: ImageLogMessage[]) {
  let count = 0;
  let measured = 0;
  let original = 0;
  let delivered = 0;
  let fallbacks = 0;
  for (const m of ms) {
    const w = 1 / (m.sampleRate ?? 1);
    count += w;
    if (m.fallback) fallbacks += w;
    if (m.originalBytes !== null && m.deliveredBytes !== null) {
      measured += w;
      original += w * m.originalBytes;
      delivered += w * m.deliveredBytes;
    }
  }
  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  const o = Math.round(original);
  const d = Math.round(delivered);
  return {
    count: r3(count),
    samples: ms.length,
    measured: r3(measured),
    originalBytes: o,
    deliveredBytes: d,
    bytesSaved: o - d,
    savedRatio: o > 0 ? Math.round(((o - d) / o) * 10_000) / 10_000 : null,
    fallbacks: r3(fallbacks),
  };
}

beforeAll(async () => {
  await resetRumTables();
  const rnd = seededRandom(7);
  const formats = ["avif", "webp", "jpeg"];
  const devices = ["mobile", "desktop", "tablet"];
  for (let i = 0; i < 360; i++) {
    const fallback = i % 29 === 0;
    const original = 50_000 + Math.floor(rnd() * 400_000);
    msgs.push(
      imageLog(`iq-${i}`, T0 + Math.floor((i / 360) * 3 * HOUR_MS), {
        format: fallback ? "original" : (formats[i % 3] as string),
        device: devices[Math.floor(i / 3) % 3] as string,
        cacheStatus: i % 4 === 0 ? "MISS" : "HIT",
        originalBytes: i % 31 === 5 ? null : original,
        deliveredBytes: fallback ? original : Math.floor(original * (0.1 + 0.5 * rnd())),
        fallback,
        width: fallback ? null : 480,
        ...(i % 5 === 0 ? { sampleRate: 0.5 } : {}),
      }),
    );
  }
  await storeMessages(env.DB, msgs);
  await downsampleImages(env.DB, NOW, 5 * 60_000);
});

const RANGE = `from=${new Date(T0).toISOString()}&to=${new Date(T0 + 3 * HOUR_MS).toISOString()}`;

describe("GET /v1/images", () => {
  it("totals equal the sums of the inserted records (hour rows + minute rows)", async () => {
    const r = await get(`/v1/images?${RANGE}`);
    expect(r.status).toBe(200);
    expect(r.body.total).toEqual(expected(msgs));
    expect(r.body.sources.map((s: { granularity: string }) => s.granularity)).toEqual(["hour", "minute"]);
    expect(r.body.resolution).toMatchObject({ exact: true, note: null });
    expect(r.body.total.bytesSaved).toBeGreaterThan(0);
  });

  it("groups by format, device and cache status", async () => {
    for (const [groupBy, field] of [
      ["format", "format"],
      ["device", "device"],
      ["cacheStatus", "cacheStatus"],
    ] as const) {
      const r = await get(`/v1/images?${RANGE}&groupBy=${groupBy}`);
      expect(r.status).toBe(200);
      const keys = [...new Set(msgs.map((m) => m[field]))].sort();
      expect(r.body.groups.map((g: { key: string }) => g.key).sort()).toEqual(keys);
      for (const g of r.body.groups) {
        const { key, ...stats } = g;
        expect(stats).toEqual(expected(msgs.filter((m) => m[field] === key)));
      }
    }
  });

  it("filters (comma lists) and a partial range read minute rows", async () => {
    const from = T0 + 30 * 60_000;
    const to = T0 + 2 * HOUR_MS + 15 * 60_000;
    const r = await get(
      `/v1/images?from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}&device=mobile,tablet&format=avif&cacheStatus=HIT`,
    );
    expect(r.status).toBe(200);
    const want = msgs.filter(
      (m) =>
        m.ts >= from && m.ts < to && m.device !== "desktop" && m.format === "avif" && m.cacheStatus === "HIT",
    );
    expect(want.length).toBeGreaterThan(5);
    expect(r.body.total).toEqual(expected(want));
    expect(r.body.sources.map((s: { granularity: string }) => s.granularity)).toEqual([
      "minute",
      "hour",
      "minute",
    ]);
  });

  it("returns an hourly series whose points add up to the total", async () => {
    const r = await get(`/v1/images?${RANGE}&interval=hour`);
    expect(r.body.interval).toBe("hour");
    expect(r.body.series).toHaveLength(3);
    for (let h = 0; h < 3; h++) {
      const inHour = msgs.filter((m) => m.ts >= T0 + h * HOUR_MS && m.ts < T0 + (h + 1) * HOUR_MS);
      const { ts, ...stats } = r.body.series[h];
      expect(ts).toBe(new Date(T0 + h * HOUR_MS).toISOString());
      expect(stats).toEqual(expected(inHour));
    }
    const grouped = await get(`/v1/images?${RANGE}&interval=hour&groupBy=device`);
    for (const g of grouped.body.groups) expect(g.series.length).toBe(3);
  });

  it("answers zeros and a null ratio for an empty selection", async () => {
    const r = await get(`/v1/images?${RANGE}&site=nosuchsite`);
    expect(r.status).toBe(200);
    expect(r.body.total).toMatchObject({ count: 0, originalBytes: 0, bytesSaved: 0, savedRatio: null });
  });
});

describe("GET /v1/images rejections", () => {
  it("401 without a token or with a wrong one, 503 when the API is disabled", async () => {
    expect((await get("/v1/images", null)).status).toBe(401);
    const wrong = await get("/v1/images", "nope");
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toMatch(/invalid/);
    const off = createQueryRoutes({ db: env.DB, queryToken: "", now: () => NOW });
    expect((await off.request("/v1/images", { headers: { Authorization: "Bearer x" } })).status).toBe(503);
  });

  it.each([
    ["pageGroup=product", /unknown parameter "pageGroup"/],
    ["metric=lcp", /unknown parameter "metric"/],
    ["format=webp&format=avif", /given more than once/],
    ["from=yesterday", /invalid "from"/],
    ["to=2026-13-45T00:00:00Z", /invalid "to"/],
    [`from=${T0}&to=${T0}`, /"from" must be before "to"/],
    ["from=2024-01-01T00:00:00Z&to=2026-01-01T00:00:00Z", /400 days/],
    ["groupBy=pageGroup", /unknown dimension "pageGroup"/],
    ["groupBy=site", /unknown dimension "site"/],
    ["interval=week", /invalid "interval"/],
    ["interval=minute&from=2026-10-01T00:00:00Z&to=2026-11-01T00:00:00Z", /too many points/],
    ["device=mobile,,desktop", /invalid "device"/],
    [`format=${Array.from({ length: 51 }, (_, i) => `f${i}`).join(",")}`, /too many values for "format"/],
  ])("400 for %s", async (qs, reason) => {
    const r = await get(`/v1/images?${qs}`);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatch(reason);
  });
});
