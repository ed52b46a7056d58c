/**
 * The purge document's single writer (edge/src/purge-coordinator.ts): purges sent at the same
 * instant from different isolates all reach the KV document the other locations read.
 */
import { env } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { purgeWriterFromEnv } from "../src/purge-coordinator.ts";
import { mergePurge, PURGE_LOG_MAX, PURGE_STATE_KEY, type PurgeDoc } from "../src/purge-state.ts";
import { Clock, cacheStatus, makeEdge, purge, TOKEN, uniquePath } from "./helpers.ts";

describe("mergePurge", () => {
  it("later times win per key, every list is bounded (the oldest fold into all), the version goes up", () => {
    const a = mergePurge(null, { urls: ["u1"], tags: ["t1"] }, 100);
    expect(a).toEqual({ v: 1, all: 0, urls: { u1: 100 }, tags: { t1: 100 } });
    const b = mergePurge(a, { urls: ["u1", "u2"], all: true }, 50);
    expect(b).toEqual({ v: 2, all: 50, urls: { u1: 100, u2: 50 }, tags: { t1: 100 } });
    expect(a.urls).toEqual({ u1: 100 }); // the input is not changed
    const full: PurgeDoc = {
      v: 7,
      all: 0,
      urls: {},
      tags: Object.fromEntries(Array.from({ length: PURGE_LOG_MAX }, (_, i) => [`k${i}`, 1000 + i])),
    };
    const doc = mergePurge(mergePurge(full, { tags: ["new-1"] }, 9000), { tags: ["new-2"] }, 9001);
    expect(doc.v).toBe(9);
    expect(Object.keys(doc.tags).length).toBe(PURGE_LOG_MAX);
    expect(doc.all).toBe(1001); // k0 and k1 folded: purging more, never less
    expect(doc.tags["new-2"]).toBe(9001);
    expect(doc.tags.k0).toBeUndefined();
  });
});

describe("purge coordinator (binding PURGE_COORDINATOR)", () => {
  it("is bound in wrangler.toml, so the Worker uses it", () => {
    expect(purgeWriterFromEnv(env)).not.toBeNull();
  });

  it("purges from two isolates at the same instant all reach KV, and every other isolate drops those objects", async () => {
    const writer = purgeWriterFromEnv(env);
    const clock = new Clock();
    const viewer = makeEdge({}, clock);
    const paths = Array.from({ length: 8 }, (_, i) => uniquePath(`coord-${i}`));
    for (const p of paths) await viewer.call(p);
    for (const p of paths) expect(cacheStatus(await viewer.call(p))).toBe("HIT");
    clock.advance(1);
    const a = makeEdge({}, clock, { purgeWriter: writer });
    const b = makeEdge({}, clock, { purgeWriter: writer });
    // Every purge starts before any has finished: each would read the same old document.
    const answers = await Promise.all(paths.map((p, i) => purge(i % 2 === 0 ? a : b, { urls: [p] })));
    for (const r of answers) expect(r.status).toBe(200);
    expect(a.edge.purge.lastWrite).toBe("coordinator");
    const doc = await env.EDGE_KV.get<PurgeDoc>(PURGE_STATE_KEY, "json");
    const keys = Object.keys(doc?.urls ?? {});
    for (const p of paths) expect(keys.some((k) => k.endsWith(p))).toBe(true);
    // Another isolate reads the document and drops every purged object (its hot copy included).
    const other = makeEdge({}, clock);
    for (const p of paths) await other.call(p); // a MISS stores them in `other` after the purge time
    clock.advance(6_000); // past EDGE_PURGE_CHECK_SECONDS: `viewer` reads the document again
    await viewer.call(uniquePath("coord-tick"));
    for (const p of paths) expect(cacheStatus(await viewer.call(p)), p).toBe("MISS");
  });

  it("works through the Worker entry across requests (a stub per call, not one per isolate)", async () => {
    const page = uniquePath("coord-entry");
    // The first requests build the edge part (and its purge writer) in their own request context.
    await (await exports.default.fetch(`http://shop.test${page}`)).arrayBuffer();
    await (await exports.default.fetch(`http://shop.test${page}`)).arrayBuffer();
    const auth = { authorization: `Bearer ${TOKEN}` };
    for (let i = 0; i < 2; i++) {
      const r = await exports.default.fetch("http://shop.test/_edge/purge", {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify({ urls: [page] }),
      });
      expect(r.status).toBe(200);
      await r.arrayBuffer();
    }
    const health = await exports.default.fetch("http://shop.test/_edge/health", { headers: auth });
    const state = ((await health.json()) as { purge: Record<string, unknown> }).purge;
    expect(state, JSON.stringify(state)).toMatchObject({
      writer: "coordinator",
      lastWrite: "coordinator",
      writerError: null,
    });
  });

  it("refuses anything but POST /record with a {p, now} body (404/400 with the reason)", async () => {
    const ns = env.PURGE_COORDINATOR;
    const stub = ns.get(ns.idFromName("edge:purges-validation"));
    const get = await stub.fetch("https://c.internal/record");
    expect(get.status).toBe(404);
    await get.arrayBuffer();
    for (const body of ["nope", "{}", '{"p":{"urls":[1]},"now":1}', '{"p":{},"now":"x"}']) {
      const r = await stub.fetch("https://c.internal/record", { method: "POST", body });
      expect(r.status, body).toBe(400);
      expect(((await r.json()) as { error: string }).error).toMatch(/\{p: \{all\?, urls\?, tags\?\}, now\}/);
    }
  });

  it("when the coordinator fails the purge is written to KV directly, with a warning", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const t = makeEdge({}, new Clock(), {
      purgeWriter: {
        record: () => Promise.reject(new Error("coordinator down")),
      },
    });
    const p = uniquePath("coord-down");
    expect((await purge(t, { urls: [p] })).status).toBe(200);
    const doc = await env.EDGE_KV.get<PurgeDoc>(PURGE_STATE_KEY, "json");
    expect(Object.keys(doc?.urls ?? {}).some((k) => k.endsWith(p))).toBe(true);
    expect(warn.mock.calls.map((c) => String(c[0])).join("\n")).toMatch(
      /purge coordinator failed.*coordinator down/,
    );
    expect(t.edge.purge.lastWrite).toBe("direct");
    warn.mockRestore();
  });
});
