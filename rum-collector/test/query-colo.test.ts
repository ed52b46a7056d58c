import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import type { PageViewMessage } from "../../common/src/rum-types.ts";
import { createQueryRoutes } from "../src/query/routes.ts";
import { downsample } from "../src/store/cron.ts";
import { HOUR_MS } from "../src/store/metrics.ts";
import { storeMessages } from "../src/store/write-messages.ts";
import { pageView, resetRumTables, withEdgeLogs } from "./store-fixtures.ts";

const TOKEN = "test-query-token";
const T0 = Date.UTC(2026, 10, 23, 8, 0, 0);
const NOW = T0 + 2 * HOUR_MS + 10 * 60_000;
const app = createQueryRoutes({ db: env.DB, queryToken: TOKEN, now: () => NOW });
const msgs: PageViewMessage[] = [];
const COLOS = ["FRA", "AMS", "LHR", "not a colo!"];

async function get(path: string) {
  const res = await app.request(path, { headers: { Authorization: `Bearer ${TOKEN}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> & { error?: string } };
}

beforeAll(async () => {
  await resetRumTables();
  for (let i = 0; i < 120; i++) {
    msgs.push(
      pageView({
        pvid: `c${String(i).padStart(7, "0")}`,
        ts: T0 + i * 60_000,
        colo: COLOS[i % 4],
        lcp: 500 + i * 10,
        inp: 50,
      }),
    );
  }
  await storeMessages(env.DB, withEdgeLogs(msgs));
  await downsample(env.DB, NOW);
});

describe("colo dimension", () => {
  const range = `from=${new Date(T0).toISOString()}&to=${new Date(T0 + 2 * HOUR_MS).toISOString()}`;

  it("keys rollup rows by colo (invalid codes become unknown) at every granularity", async () => {
    for (const g of ["minute", "hour"]) {
      const r = await env.DB.prepare(
        "SELECT colo, SUM(views) AS v FROM rum_rollups WHERE granularity = ?1 AND device <> '*' GROUP BY colo ORDER BY colo",
      )
        .bind(g)
        .all<{ colo: string; v: number }>();
      expect(r.results).toEqual([
        { colo: "AMS", v: 30 },
        { colo: "FRA", v: 30 },
        { colo: "LHR", v: 30 },
        { colo: "unknown", v: 30 },
      ]);
    }
  });

  it("filters and groups by colo", async () => {
    const grouped = await get(`/v1/query?metric=lcp&percentiles=50&groupBy=colo&${range}`);
    expect(grouped.status).toBe(200);
    const groups = grouped.body.groups as Array<{ key: string; count: number; min: number; max: number }>;
    expect(groups.map((g) => [g.key, g.count]).sort()).toEqual([
      ["AMS", 30],
      ["FRA", 30],
      ["LHR", 30],
      ["unknown", 30],
    ]);
    const fra = groups.find((g) => g.key === "FRA");
    expect(fra?.min).toBe(500);
    expect(fra?.max).toBe(500 + 116 * 10);
    const filtered = await get(`/v1/query?metric=lcp,inp&colo=AMS,LHR&${range}`);
    const results = filtered.body.results as Record<string, { total: { count: number; min: number } }>;
    expect(results.lcp?.total.count).toBe(60);
    expect(results.lcp?.total.min).toBe(510);
    expect(results.inp?.total.count).toBe(60);
  });

  it("an INP update reaches the rollup row of the page view's colo", async () => {
    const m = msgs[1] as PageViewMessage; // AMS
    await storeMessages(
      env.DB,
      withEdgeLogs([
        { ...m, seq: 1, beacon: { ...m.beacon, seq: 1, vitals: { ...m.beacon.vitals, inp: 900 } } },
      ]),
    );
    const r = await get(`/v1/query?metric=inp&colo=AMS&${range}`);
    expect((r.body.total as { max: number; count: number }).max).toBe(900);
    expect((r.body.total as { count: number }).count).toBe(30);
  });
});
