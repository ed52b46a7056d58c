import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { parseCompactModel } from "../../common/src/prefetch/compact.ts";
import { modelKey, rebuildPrefetchModels } from "../src/prefetch/rebuild.ts";
import { createQueryRoutes } from "../src/query/routes.ts";

const TOKEN = "test-query-token";
const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 11, 6, 12, 0, 0);
const app = createQueryRoutes({ db: env.DB, queryToken: TOKEN, now: () => NOW });

async function get(path: string) {
  const res = await app.request(path, { headers: { Authorization: `Bearer ${TOKEN}` } });
  // biome-ignore lint/suspicious/noExplicitAny: loosely typed JSON in assertions
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

async function transitions(site: string, rows: Array<[number, string, string, number]>) {
  const stmt = env.DB.prepare(
    "INSERT INTO prefetch_transitions (site, hour, from_path, to_path, n) VALUES (?, ?, ?, ?, ?)",
  );
  await env.DB.batch(rows.map(([hour, from, to, n]) => stmt.bind(site, hour, from, to, n)));
}

beforeEach(async () => {
  await env.DB.batch(
    ["prefetch_transitions", "prefetch_speculations", "prefetch_model_builds", "rum_page_views"].map((t) =>
      env.DB.prepare(`DELETE FROM ${t}`),
    ),
  );
});

describe("prefetch model rebuild (cron)", () => {
  it("builds each site's model from recent transitions into KV", async () => {
    await transitions("a", [
      [NOW - HOUR, "/c/shoes", "/p/1", 30],
      [NOW - HOUR, "/c/shoes", "/p/2", 5],
      [NOW - 2 * HOUR, "/p/1", "/p/2", 8],
    ]);
    await transitions("b", [[NOW - HOUR, "/", "/c/hats", 4]]);
    const res = await rebuildPrefetchModels(env.DB, env.EDGE_KV, NOW);
    expect(res.map((r) => r.site).sort()).toEqual(["a", "b"]);
    const model = parseCompactModel(await env.EDGE_KV.get(modelKey("a"), "json"));
    expect(model.predict(["/c/shoes"], { k: 1 })[0]?.page).toBe("/p/1");
    const build = await env.DB.prepare(
      "SELECT transitions FROM prefetch_model_builds WHERE site = 'a'",
    ).first();
    expect(build?.transitions).toBe(3);
  });

  it("lets recent hours outweigh old ones (decay) and bounds the work", async () => {
    await transitions("c", [
      [NOW - 48 * HOUR, "/c/x", "/p/old", 40],
      [NOW - HOUR, "/c/x", "/p/new", 10],
      [NOW - 20 * 24 * HOUR, "/c/x", "/p/expired", 1],
    ]);
    await rebuildPrefetchModels(env.DB, env.EDGE_KV, NOW);
    const model = parseCompactModel(await env.EDGE_KV.get(modelKey("c"), "json"));
    expect(model.predict(["/c/x"], { k: 1, now: NOW })[0]?.page).toBe("/p/new");
    const left = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM prefetch_transitions WHERE site = 'c'",
    ).first();
    expect(left?.n).toBe(2); // the expired row was removed
    await rebuildPrefetchModels(env.DB, env.EDGE_KV, NOW, { maxRows: 1 });
    const b = await env.DB.prepare("SELECT transitions FROM prefetch_model_builds WHERE site = 'c'").first();
    expect(b?.transitions).toBe(1);
  });
});

/** One tab on site `site`: `paths` in order, each page's beacon received `dwells[i - 1]` ms after the previous one's. */
async function tab(site: string, sid: string, paths: string[], dwells: number[], t0: number) {
  const stmt = env.DB.prepare(
    `INSERT INTO rum_page_views (site, pvid, seq, ts, updated_ts, page_group, path, country, colo, asn, device, browser,
      connection, cache_status, session_id, prev_pvid)
     VALUES (?, ?, 0, ?, ?, ?, ?, 'DE', 'FRA', 1, 'desktop', 'Chrome', '4g', 'HIT', ?, ?)`,
  );
  let ts = t0;
  await env.DB.batch(
    paths.map((path, i) => {
      if (i > 0) ts += dwells[i - 1] as number;
      return stmt.bind(site, `${sid}-${i}`, ts, ts, path, path, sid, i > 0 ? `${sid}-${i - 1}` : null);
    }),
  );
}

describe("prefetch model rebuild: dwell weighting from beacon sessions", () => {
  it("ranks a transition whose visitors bounce below an otherwise equal one", async () => {
    // The edge saw /c → /p/bounce slightly more often than /c → /p/stay, in the same hour.
    await transitions("d", [
      [NOW - HOUR, "/c", "/p/bounce", 24],
      [NOW - HOUR, "/c", "/p/stay", 20],
    ]);
    await rebuildPrefetchModels(env.DB, env.EDGE_KV, NOW);
    let model = parseCompactModel(await env.EDGE_KV.get(modelKey("d"), "json"));
    expect(model.predict(["/c"], { k: 1, now: NOW })[0]?.page).toBe("/p/bounce");
    // Beacons: visitors leave /p/bounce within a second, stay a minute on /p/stay.
    for (let i = 0; i < 6; i++) {
      await tab("d", `b${i}`, ["/c", "/p/bounce", "/c"], [800, 5000], NOW - 2 * HOUR + i * 60_000);
      await tab("d", `s${i}`, ["/c", "/p/stay"], [60_000], NOW - 2 * HOUR + i * 60_000);
    }
    await rebuildPrefetchModels(env.DB, env.EDGE_KV, NOW);
    model = parseCompactModel(await env.EDGE_KV.get(modelKey("d"), "json"));
    expect(model.predict(["/c"], { k: 2, now: NOW }).map((p) => p.page)).toEqual(["/p/stay", "/p/bounce"]);
  });

  it("keeps the edge counts when a transition has fewer beacon observations than the minimum", async () => {
    await transitions("e", [
      [NOW - HOUR, "/c", "/p/bounce", 24],
      [NOW - HOUR, "/c", "/p/stay", 20],
    ]);
    for (let i = 0; i < 4; i++)
      await tab("e", `b${i}`, ["/c", "/p/bounce"], [800], NOW - 2 * HOUR + i * 60_000);
    await rebuildPrefetchModels(env.DB, env.EDGE_KV, NOW);
    let model = parseCompactModel(await env.EDGE_KV.get(modelKey("e"), "json"));
    expect(model.predict(["/c"], { k: 1, now: NOW })[0]?.page).toBe("/p/bounce");
    // The same four observations suffice when the minimum is lowered.
    await rebuildPrefetchModels(env.DB, env.EDGE_KV, NOW, { dwellMinSamples: 4 });
    model = parseCompactModel(await env.EDGE_KV.get(modelKey("e"), "json"));
    expect(model.predict(["/c"], { k: 1, now: NOW })[0]?.page).toBe("/p/stay");
  });
});

async function pageView(arm: string, i: number, prev: boolean, delivery: string, ttfb: number, lcp: number) {
  await env.DB.prepare(
    `INSERT INTO rum_page_views (site, pvid, seq, ts, updated_ts, page_group, path, country, colo, asn, device, browser,
      connection, cache_status, sample_rate, ttfb, lcp, arm, prev_pvid, session_id, delivery_type)
     VALUES ('s', ?, 0, ?, ?, '/p/:id', '/p/1', 'DE', 'FRA', 1, 'desktop', 'Chrome', '4g', 'HIT', 1, ?, ?, ?, ?, 'sid', ?)`,
  )
    .bind(`${arm}-${i}`, NOW - 1000 - i, NOW - 1000 - i, ttfb, lcp, arm, prev ? "p" : null, delivery)
    .run();
}

describe("GET /v1/prefetch", () => {
  it("reports precision, coverage, bytes, origin requests and p75 per arm with a CI vs holdout", async () => {
    for (let i = 0; i < 40; i++) await pageView("holdout", i, i > 0, "", 200, 1500 + i);
    for (let i = 0; i < 40; i++)
      await pageView(
        "ours",
        i,
        i > 0,
        i % 2 === 0 && i > 0 ? "navigational-prefetch" : "",
        i % 2 === 0 ? 5 : 200,
        i % 2 === 0 ? 600 : 1500 + i,
      );
    const spec = env.DB.prepare(
      "INSERT INTO prefetch_speculations (site, hour, arm, kind, requests, bytes, origin_requests) VALUES ('s', ?, ?, ?, ?, ?, ?)",
    );
    await env.DB.batch([
      spec.bind(NOW - HOUR, "ours", "prefetch", 38, 380_000, 3),
      spec.bind(NOW - HOUR, "edge", "warm", 5, 0, 2),
      spec.bind(NOW - HOUR, "unknown", "prefetch", 7, 70_000, 4),
    ]);
    const { status, body } = await get(`/v1/prefetch?site=s&from=${NOW - 2 * HOUR}&to=${NOW}`);
    expect(status).toBe(200);
    const ours = body.arms.find((a: { arm: string }) => a.arm === "ours");
    const holdout = body.arms.find((a: { arm: string }) => a.arm === "holdout");
    expect(ours.nextNavigations).toBe(39);
    expect(ours.prefetchHits).toBe(19);
    expect(ours.coverage).toBeCloseTo(19 / 39, 3);
    expect(ours.precision).toBeCloseTo(19 / 38, 3);
    expect(ours.wastedBytes).toBe(190_000);
    expect(ours.extraOriginRequests).toBe(3);
    expect(holdout.prefetchHits).toBe(0);
    expect(holdout.speculations).toBe(0);
    expect(ours.samples.lcp).toBe(39);
    expect(ours.lcpP75DiffVsHoldout.diff).toBeLessThan(0);
    expect(ours.lcpP75DiffVsHoldout.ci95[0]).toBeLessThanOrEqual(ours.lcpP75DiffVsHoldout.diff);
    expect(holdout.lcpP75DiffVsHoldout).toBeNull();
    expect(body.warming).toEqual({ requests: 5, originRequests: 2 });
    // Untagged speculative requests (no Sec-Speculation-Tags) belong to no arm: reported apart.
    const press = body.arms.find((a: { arm: string }) => a.arm === "press");
    expect(press.speculations).toBe(0);
    expect(press.extraOriginRequests).toBe(0);
    expect(body.unknown).toEqual({ requests: 7, bytes: 70_000, originRequests: 4 });
    expect(body.all).toEqual({ pageViews: 80, prefetchHits: 19 });
  });

  it("rejects bad parameters with a reason", async () => {
    expect((await get("/v1/prefetch")).body.error).toMatch(/site/);
    expect((await get("/v1/prefetch?site=s&bogus=1")).body.error).toMatch(/unknown parameter/);
    expect((await get("/v1/prefetch?site=s&from=yesterday")).status).toBe(400);
    const noAuth = await app.request("/v1/prefetch?site=s");
    expect(noAuth.status).toBe(401);
  });
});
