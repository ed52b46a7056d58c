/**
 * The R2 archive: Parquet per site and hour (page views and edge records), readable by any
 * Parquet reader; page URLs without query strings or fragments unless the site allows named
 * parameters; objects older than the retention deleted by the cron.
 */
import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { parquetReadObjects } from "hyparquet";
import { beforeEach, describe, expect, it } from "vitest";
import { packNdjson, readMessageBody } from "../../common/src/queue-contract.ts";
import type { RumQueueMessage } from "../../common/src/rum-types.ts";
import {
  archivedMessage,
  archiveKeyHour,
  archiveObjects,
  archiveText,
  deleteOldArchive,
  sanitizeUrl,
} from "../src/store/archive.ts";
import { handleQueue } from "../src/store/consumer.ts";
import { pageView, resetRumTables, withEdgeLogs } from "./store-fixtures.ts";

const T0 = Date.UTC(2026, 10, 24, 10, 0, 0);
let n = 0;

async function run(bodies: RumQueueMessage[], e: Env = env) {
  n++;
  const batch = createMessageBatch<RumQueueMessage>(
    "rum-events",
    bodies.map((body, i) => ({ id: `arc${n}-m${i}`, timestamp: new Date(T0), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await handleQueue(batch, e, ctx);
  return getQueueResult(batch, ctx);
}

async function clearArchive() {
  for (const prefix of ["raw/", "parquet/", "dlq/"]) {
    const l = await env.RUM_ARCHIVE.list({ prefix });
    if (l.objects.length) await env.RUM_ARCHIVE.delete(l.objects.map((o) => o.key));
  }
}

async function readParquet(prefix: string) {
  const l = await env.RUM_ARCHIVE.list({ prefix });
  const rows: Record<string, unknown>[] = [];
  for (const o of l.objects) {
    const buf = await (await env.RUM_ARCHIVE.get(o.key))?.arrayBuffer();
    if (buf) rows.push(...(await parquetReadObjects({ file: buf })));
  }
  return { keys: l.objects.map((o) => o.key), rows };
}

describe("R2 archive", () => {
  beforeEach(async () => {
    await resetRumTables();
    await clearArchive();
  });

  it("writes Parquet per site and hour that a Parquet reader reads back", async () => {
    const a = pageView({ pvid: "parq0001", ts: T0 + 60_000, lcp: 1234 });
    const b = pageView({ pvid: "parq0002", ts: T0 + 3_600_000 + 60_000, lcp: 2345 });
    const c = pageView({ pvid: "parq0003", ts: T0 + 120_000, site: "shop" });
    const res = await run(withEdgeLogs([a, b, c]));
    expect(res.retryMessages).toEqual([]);
    const pv = await readParquet("parquet/pageviews/");
    expect(pv.keys.map((k) => k.split("/").slice(2, 5).join("/")).sort()).toEqual([
      "site=demo/date=2026-11-24/hour=10",
      "site=demo/date=2026-11-24/hour=11",
      "site=shop/date=2026-11-24/hour=10",
    ]);
    const byId = new Map(pv.rows.map((r) => [r.pvid, r]));
    expect(byId.get("parq0001")).toMatchObject({
      site: "demo",
      page_group: "product",
      lcp: 1234,
      device: "mobile",
    });
    expect((byId.get("parq0001")?.ts as Date | undefined)?.getTime()).toBe(T0 + 60_000);
    const edge = await readParquet("parquet/edge/");
    expect(edge.rows.map((r) => r.rid).sort()).toEqual(["rid-parq0001", "rid-parq0002", "rid-parq0003"]);
    expect(edge.rows[0]).toMatchObject({ cache_status: "MISS", edge_ms: 150 });
  });

  it("keeps no query string or fragment unless the site allows the parameter", async () => {
    const m = pageView({ pvid: "priv0001", ts: T0 });
    m.beacon.url = "https://shop.example/p/1?email=a%40b.c&q=shoes&page=2#token=secret";
    const o = pageView({ pvid: "priv0002", ts: T0 });
    o.beacon.url = "https://shop.example/search?q=shoes&email=x#frag";
    await run([m, o]);
    const pv = await readParquet("parquet/pageviews/");
    expect(pv.rows.find((r) => r.pvid === "priv0001")?.url).toBe("https://shop.example/p/1");
    const raw = await env.RUM_ARCHIVE.list({ prefix: "raw/" });
    const rawObj = await env.RUM_ARCHIVE.get(raw.objects[0]?.key ?? "");
    const text = rawObj ? await archiveText(".gz", rawObj.body) : "";
    expect(text).toContain("priv0001");
    expect(text).not.toMatch(/email|secret|shoes|token/);

    await clearArchive();
    await resetRumTables();
    await run([o], { ...env, RUM_ARCHIVE_QUERY_PARAMS: "demo=q,page" } as Env);
    const kept = await readParquet("parquet/pageviews/");
    expect(kept.rows[0]?.url).toBe("https://shop.example/search?q=shoes");
  });

  it("the NDJSON replay log reuses the decoded lines and still writes exactly the sanitized records", () => {
    const urls = [
      "https://shop.example/p/1",
      "https://shop.example/p/1?email=a%40b.c&q=shoes#token=secret",
      'https://shop.example/s?q="quoted"&x=\\zzback&u=\u00e9\u2028#f',
      "https://shop.example/s?q=1&url=https://evil.example/?x=1",
    ];
    const messages: RumQueueMessage[] = urls.map((url, i) => {
      const m = pageView({ pvid: `line${i}`, ts: T0 });
      m.beacon.url = url;
      return m;
    });
    // A foreign producer's lines: a second "url" key with the same value (an unknown extra key),
    // and a URL written with escaped slashes (valid JSON, not as JSON.stringify writes it).
    const twice = { ...(messages[1] as RumQueueMessage), extra: { url: urls[1] } };
    const lines = [...messages, twice].map((m) => JSON.stringify(m));
    lines.push(JSON.stringify(messages[1]).replaceAll("https://", "https:\\/\\/"));
    for (const params of [new Map(), new Map([["demo", new Set(["q"])]])]) {
      const read = readMessageBody(packNdjson(lines).body);
      const decoded = read.messages;
      expect(decoded).toHaveLength(lines.length);
      const objects = archiveObjects(decoded, "m1", params, read.lines);
      const [key, raw] = [...objects].find(([k]) => k.startsWith("raw/")) ?? [];
      expect(key).toBeDefined();
      const expected = `${decoded.map((m) => JSON.stringify(archivedMessage(m, params))).join("\n")}\n`;
      expect(raw?.body).toBe(expected);
      // Every page URL is sanitized (line 4 keeps its foreign extra key as it came, as before).
      const out = String(raw?.body).split("\n");
      for (const [i, l] of out.entries())
        if (i !== 4) expect(l).not.toMatch(/email|secret|token|zzback|evil/);
      // Nothing of the decoded records was changed by the archive.
      expect(decoded.map((m) => (m.kind === "pageview" ? m.beacon.url : ""))).toEqual([
        ...urls,
        urls[1],
        urls[1],
      ]);
    }
  });

  it("a batch of NDJSON text archives every record once, sanitized and with its capped page group", async () => {
    const m = pageView({ pvid: "ndj00001", ts: T0 });
    m.beacon.url = "https://shop.example/p/1?email=a%40b.c#token=secret";
    const o = pageView({ pvid: "ndj00002", ts: T0, pageGroup: "cart" });
    const p = pageView({ pvid: "ndj00003", ts: T0 });
    const body = packNdjson([m, o, p].map((x) => JSON.stringify(x))).body;
    const batch = createMessageBatch<string>("rum-events", [
      { id: "ndj-m0", timestamp: new Date(T0), attempts: 1, body },
    ]);
    const ctx = createExecutionContext();
    // One page group per site: "cart" (second seen) is counted as "(other)", a changed record.
    await handleQueue(batch, { ...env, RUM_MAX_PAGE_GROUPS: "1" } as Env, ctx);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(["ndj-m0"]);
    const raw = await env.RUM_ARCHIVE.list({ prefix: "raw/" });
    expect(raw.objects).toHaveLength(1);
    const obj = await env.RUM_ARCHIVE.get(raw.objects[0]?.key ?? "");
    const lines = (obj ? await archiveText(".gz", obj.body) : "").trimEnd().split("\n");
    const clean = { ...m, beacon: { ...m.beacon, url: "https://shop.example/p/1" } };
    expect(lines).toEqual([
      JSON.stringify(clean),
      JSON.stringify({ ...o, pageGroup: "(other)" }),
      JSON.stringify(p),
    ]);
  });

  it("sanitizeUrl keeps only allowed parameters, in order, and never the fragment", () => {
    expect(sanitizeUrl("https://a.b/x?b=2&a=1&b=3#f", new Set(["b"]))).toBe("https://a.b/x?b=2&b=3");
    expect(sanitizeUrl("https://a.b/x#f?q=1", new Set(["q"]))).toBe("https://a.b/x");
    expect(sanitizeUrl("https://a.b/x?", undefined)).toBe("https://a.b/x");
  });

  it("the cron deletes archive objects older than the retention, keeps newer ones", async () => {
    const old = T0 - 40 * 86_400_000 + 60_000;
    await run(withEdgeLogs([pageView({ pvid: "oldarc01", ts: old })]));
    await run(withEdgeLogs([pageView({ pvid: "newarc01", ts: T0 })]));
    const before = (await env.RUM_ARCHIVE.list()).objects.map((o) => o.key);
    expect(before.filter((k) => archiveKeyHour(k) === Math.floor(old / 3_600_000) * 3_600_000)).toHaveLength(
      3,
    );
    const deleted = await deleteOldArchive(env.RUM_ARCHIVE, T0 - 30 * 86_400_000);
    expect(deleted).toBe(3);
    const after = (await env.RUM_ARCHIVE.list()).objects.map((o) => o.key);
    expect(after).toHaveLength(before.length - 3);
    for (const k of after) expect(archiveKeyHour(k)).toBeGreaterThanOrEqual(T0 - 3_600_000);
  });
});
