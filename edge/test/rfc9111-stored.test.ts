/**
 * RFC 9111 §3 / §3.1 against the scripted origin: what is stored (never a 1xx) and how a stored
 * response keeps its end-to-end headers, `Content-Encoding` included, byte for byte.
 */
import { describe, expect, it } from "vitest";
import { decideStore } from "../../common/src/http-cache/storability.ts";
import { cacheStatus, makeEdge, route, uniquePath } from "./helpers.ts";

async function pipeBytes(bytes: Uint8Array, t: CompressionStream | DecompressionStream): Promise<Uint8Array> {
  const out = new Response(new Response(bytes).body?.pipeThrough(t));
  return new Uint8Array(await out.arrayBuffer());
}

function base64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

/** Headers an answer carries that are not per-answer (Age, Server-Timing, request id, length). */
function stableHeaders(res: Response): [string, string][] {
  const skip = new Set(["age", "server-timing", "x-request-id", "content-length", "date"]);
  return [...res.headers].filter(([k]) => !skip.has(k));
}

describe("RFC 9111 §3.1: stored headers keep Content-Encoding and the encoded representation", () => {
  it("a gzip body with Content-Encoding: gzip is served on HIT (both tiers) as the origin sent it", async () => {
    const t = makeEdge();
    const p = uniquePath("gzip");
    const plain = new TextEncoder().encode(`{"items":[${"1,".repeat(2000)}1]}`);
    const gz = await pipeBytes(plain, new CompressionStream("gzip"));
    await route(p, {
      headers: {
        "content-type": "application/json",
        "content-encoding": "gzip",
        "cache-control": "max-age=60",
        "content-length": String(gz.byteLength),
        "x-custom": "kept",
        etag: '"gz1"',
      },
      bodyBase64: base64(gz),
    });
    const miss = await t.call(p, { headers: { "accept-encoding": "gzip" } });
    expect(cacheStatus(miss)).toBe("MISS");
    const missBody = new Uint8Array(await miss.arrayBuffer());
    const hit = await t.call(p, { headers: { "accept-encoding": "gzip" } });
    expect(cacheStatus(hit)).toBe("HIT");
    // Another isolate: the copy comes from the Cache API tier.
    const other = makeEdge({}, t.clock);
    const hit2 = await other.call(p, { headers: { "accept-encoding": "gzip" } });
    expect(cacheStatus(hit2)).toBe("HIT");
    for (const r of [miss, hit, hit2]) {
      expect(r.headers.get("content-encoding")).toBe("gzip");
      expect(r.headers.get("x-custom")).toBe("kept");
      expect(r.headers.get("etag")).toBe('"gz1"');
    }
    expect(stableHeaders(hit)).toEqual(stableHeaders(miss));
    expect(stableHeaders(hit2)).toEqual(stableHeaders(miss));
    // The runtime decodes what fetch receives and encodes what the Worker answers with
    // (Content-Encoding: gzip), so the bytes a Worker handles are the decoded representation:
    // MISS and both HITs hold exactly the origin's bytes once decoded, and nothing double-encoded.
    const hitBody = new Uint8Array(await hit.arrayBuffer());
    const hit2Body = new Uint8Array(await hit2.arrayBuffer());
    expect(missBody).toEqual(plain);
    expect(hitBody).toEqual(plain);
    expect(hit2Body).toEqual(plain);
    // Content-Length of the origin (the gzip length) must not be served with the decoded body.
    expect(miss.headers.get("content-length")).toBeNull();
    expect(hit.headers.get("content-length")).toBeNull();
    const head = await t.call(p, { method: "HEAD", headers: { "accept-encoding": "gzip" } });
    expect(head.headers.get("content-encoding")).toBe("gzip");
    expect(head.headers.get("content-length")).toBeNull();
  });

  it("an unencoded body keeps its exact bytes and Content-Length on HIT", async () => {
    const t = makeEdge();
    const p = uniquePath("plain-bytes");
    const bytes = new Uint8Array(3000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919) % 256;
    await route(p, {
      headers: {
        "content-type": "application/octet-stream",
        "content-length": "3000",
        "cache-control": "max-age=60",
        "x-a": "1",
      },
      bodyBase64: base64(bytes),
    });
    await t.call(p);
    const hit = await t.call(p);
    expect(cacheStatus(hit)).toBe("HIT");
    expect(hit.headers.get("x-a")).toBe("1");
    expect(new Uint8Array(await hit.arrayBuffer())).toEqual(bytes);
    const head = await t.call(p, { method: "HEAD" });
    expect(cacheStatus(head)).toBe("HIT");
    expect(head.headers.get("content-length")).toBe("3000");
  });
});

describe("RFC 9111 §3 / RFC 9110 §15.2: 1xx interim responses are never stored", () => {
  // `fetch` consumes interim responses itself (a Worker only ever sees the final one), so the
  // edge's own store decision is what guarantees it: every 1xx is refused, whatever it carries.
  // (common/src/http-cache/http-cache.test.ts covers 100/103 without a rule.)
  it("the edge's store decision refuses every 1xx status, even with explicit freshness or a force rule", () => {
    const headers: Record<string, string> = { "cache-control": "public, max-age=600, s-maxage=600" };
    const force = { force: true, ttl: 600 };
    for (const status of [100, 101, 102, 103, 199]) {
      for (const rule of [undefined, force]) {
        const d = decideStore(status, (n) => headers[n] ?? null, rule, 0, Date.now());
        expect(d.store, String(status)).toBe(false);
      }
    }
    expect(decideStore(200, (n) => headers[n] ?? null, undefined, 0, Date.now()).store).toBe(true);
  });
});
