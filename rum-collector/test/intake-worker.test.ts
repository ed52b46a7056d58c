import { env } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

// Through the real root Worker (worker/index.ts → createCollectorFromEnv) with wrangler.toml vars.
const ORIGIN = "http://localhost:8000";

function beacon(pvid: string) {
  return JSON.stringify({
    v: 1,
    site: "demo",
    pvid,
    seq: 0,
    url: `${ORIGIN}/p/42`,
    vitals: { ttfb: 80, lcp: 600 },
  });
}

describe("collector behind the root Worker", () => {
  it("accepts a text/plain beacon from a registered origin (204)", async () => {
    const res = await exports.default.fetch("http://localhost:8787/_rum/v1/beacon", {
      method: "POST",
      headers: { "content-type": "text/plain;charset=UTF-8", origin: ORIGIN },
      body: beacon("pv_worker_000001"),
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(ORIGIN);
  });

  it("refuses an unregistered origin (403) and unknown paths (404)", async () => {
    const res = await exports.default.fetch("http://localhost:8787/_rum/v1/beacon", {
      method: "POST",
      headers: { "content-type": "text/plain", origin: "https://evil.example" },
      body: beacon("pv_worker_000002"),
    });
    expect(res.status).toBe(403);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    const missing = await exports.default.fetch("http://localhost:8787/_rum/nope");
    expect(missing.status).toBe(404);
  });

  it("mounts the query API under /_rum (bearer token)", async () => {
    const denied = await exports.default.fetch("http://localhost:8787/_rum/v1/pageviews");
    expect(denied.status).toBe(401);
    const ok = await exports.default.fetch("http://localhost:8787/_rum/v1/pageviews?limit=1", {
      headers: { authorization: "Bearer dev-query-token" },
    });
    expect(ok.status).toBe(200);
  });

  it("serves the beacon script at /_rum/beacon.js", async () => {
    const res = await exports.default.fetch("http://localhost:8787/_rum/beacon.js");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("javascript");
    expect(await res.text()).toContain('"demo"');
  });

  it("stores an accepted beacon in D1 through the real queue and consumer, once", async () => {
    const pvid = `pv_e2e_${crypto.randomUUID().slice(0, 8)}`;
    for (let seq = 0; seq < 2; seq++) {
      const res = await exports.default.fetch("http://localhost:8787/_rum/v1/beacon", {
        method: "POST",
        headers: { "content-type": "text/plain", origin: ORIGIN },
        body: beacon(pvid),
      });
      expect(res.status).toBe(204);
    }
    // The queue delivers after max_batch_timeout (1 s); poll rather than sleep a fixed time.
    let rows: { pvid: string; page_group: string; country: string }[] = [];
    for (let i = 0; i < 100 && rows.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      rows = (
        await env.DB.prepare("SELECT pvid, page_group, country FROM rum_page_views WHERE pvid = ?1")
          .bind(pvid)
          .all<{ pvid: string; page_group: string; country: string }>()
      ).results;
    }
    expect(rows).toEqual([{ pvid, page_group: "/p/:id", country: "XX" }]);
  });

  it("stores every one of many concurrent beacons exactly once", async () => {
    const prefix = `pv_conc_${crypto.randomUUID().slice(0, 8)}_`;
    const n = 60;
    const statuses = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        exports.default
          .fetch("http://localhost:8787/_rum/v1/beacon", {
            method: "POST",
            headers: { "content-type": "text/plain", origin: ORIGIN, "cf-connecting-ip": `198.51.100.${i}` },
            body: beacon(`${prefix}${i}`),
          })
          .then((r) => r.status),
      ),
    );
    expect(statuses.every((s) => s === 204)).toBe(true);
    let count = 0;
    for (let i = 0; i < 100 && count < n; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM rum_page_views WHERE pvid LIKE ?1")
        .bind(`${prefix}%`)
        .first<{ n: number }>();
      count = row?.n ?? 0;
    }
    expect(count).toBe(n);
  });
});
