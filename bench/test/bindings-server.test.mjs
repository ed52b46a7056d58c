import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanup, freePort, makeTempDir, startChild, waitForHttp } from "../lib/procs.mjs";

const ports = {};
let base;
const url = (svc, path = "/") => `http://127.0.0.1:${ports[svc]}${path}`;

beforeAll(async () => {
  for (const k of ["cache", "kv", "d1", "queue", "r2", "control"]) ports[k] = await freePort();
  const logDir = makeTempDir("bench-test-");
  const child = startChild(
    "bindings",
    process.execPath,
    ["--disable-warning=ExperimentalWarning", "bench/lib/bindings-server.mjs", JSON.stringify(ports)],
    { logDir },
  );
  base = url("control");
  await waitForHttp(base, child);
});
afterAll(() => cleanup());

function serialised(status, headers, body) {
  const head = [`HTTP/1.1 ${status} OK`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)].join(
    "\r\n",
  );
  return `${head}\r\n\r\n${body}`;
}

const lookup = (path, headers = {}) =>
  fetch(url("cache", path), { headers: { "cache-control": "only-if-cached", ...headers } });

describe("cache service (workerd cacheApiOutbound protocol)", () => {
  it("misses with 504, stores with 204, then hits with the stored response", async () => {
    const miss = await lookup("/a");
    expect(miss.status).toBe(504);
    expect(miss.headers.get("cf-cache-status")).toBe("MISS");
    const put = await fetch(url("cache", "/a"), {
      method: "PUT",
      body: serialised(
        200,
        { "content-type": "text/html", "cache-control": "public, s-maxage=60", etag: '"v1"' },
        "hello",
      ),
    });
    expect(put.status).toBe(204);
    const hit = await lookup("/a");
    expect(hit.status).toBe(200);
    expect(hit.headers.get("cf-cache-status")).toBe("HIT");
    expect(hit.headers.get("content-type")).toBe("text/html");
    expect(hit.headers.get("age")).toBe("0");
    expect(await hit.text()).toBe("hello");
    const notModified = await lookup("/a", { "if-none-match": '"v1"' });
    expect(notModified.status).toBe(304);
  });

  it("refuses to store private, no-store, Set-Cookie and freshness-less responses (413)", async () => {
    const cases = [
      { "cache-control": "private, max-age=60" },
      { "cache-control": "no-store" },
      { "cache-control": "max-age=60", "set-cookie": "a=b" },
      { "content-type": "text/plain" },
      { "cache-control": "max-age=60", age: "60" },
    ];
    for (const [i, headers] of cases.entries()) {
      const put = await fetch(url("cache", `/n${i}`), { method: "PUT", body: serialised(200, headers, "x") });
      expect(put.status, JSON.stringify(headers)).toBe(413);
      expect((await lookup(`/n${i}`)).status).toBe(504);
    }
  });

  it("keys entries by host as well as path", async () => {
    // fetch() cannot set Host, so talk node:http as workerd does.
    const raw = (method, host, body) =>
      new Promise((resolve, reject) => {
        const req = http.request(
          {
            host: "127.0.0.1",
            port: ports.cache,
            path: "/h",
            method,
            headers: { host, "cache-control": "only-if-cached" },
          },
          (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode));
          },
        );
        req.on("error", reject);
        req.end(body);
      });
    expect(await raw("PUT", "a.test", serialised(200, { "cache-control": "max-age=60" }, "a"))).toBe(204);
    expect(await raw("GET", "a.test")).toBe(200);
    expect(await raw("GET", "b.test")).toBe(504);
  });

  it("purges one key (200, then 404)", async () => {
    await fetch(url("cache", "/p"), {
      method: "PUT",
      body: serialised(200, { "cache-control": "max-age=60" }, "p"),
    });
    expect((await fetch(url("cache", "/p"), { method: "PURGE" })).status).toBe(200);
    expect((await fetch(url("cache", "/p"), { method: "PURGE" })).status).toBe(404);
    expect((await lookup("/p")).status).toBe(504);
  });
});

describe("kv, d1 and queue services", () => {
  it("stores KV values with metadata per namespace and lists them", async () => {
    const ns = { "x-bench-namespace": "A" };
    await fetch(url("kv", "/k%201?urlencoded=true"), {
      method: "PUT",
      body: "v",
      headers: { ...ns, "cf-kv-metadata": '{"m":1}' },
    });
    const got = await fetch(url("kv", "/k%201?urlencoded=true"), { headers: ns });
    expect(await got.text()).toBe("v");
    expect(got.headers.get("cf-kv-metadata")).toBe('{"m":1}');
    expect(
      (await fetch(url("kv", "/k%201?urlencoded=true"), { headers: { "x-bench-namespace": "B" } })).status,
    ).toBe(404);
    const list = await (await fetch(url("kv", "/?prefix=k"), { headers: ns })).json();
    expect(list).toMatchObject({ keys: [{ name: "k 1", metadata: '{"m":1}' }], list_complete: true });
  });

  it("runs D1 queries on SQLite with D1's result shape", async () => {
    const q = (body, fmt = "") =>
      fetch(url("d1", `/query${fmt}`), { method: "POST", body: JSON.stringify(body) }).then((r) => r.json());
    await q({ sql: "CREATE TABLE t (a INTEGER, b TEXT)", params: [] });
    const ins = await q({ sql: "INSERT INTO t VALUES (?, ?)", params: [7, "x"] });
    expect(ins[0].meta).toMatchObject({ changes: 1, last_row_id: 1 });
    const sel = await q([{ sql: "SELECT a, b AS bee FROM t", params: [] }]);
    expect(sel[0].results).toEqual([{ a: 7, bee: "x" }]);
    const raw = await q({ sql: "SELECT a FROM t", params: [] }, "?resultsFormat=ROWS_AND_COLUMNS");
    expect(raw[0].results).toEqual({ columns: ["a"], rows: [[7]] });
    const bad = await fetch(url("d1", "/query"), {
      method: "POST",
      body: JSON.stringify({ sql: "SELECT nope FROM missing" }),
    });
    expect(bad.status).toBe(500);
    expect((await bad.json()).success).toBe(false);
  });

  it("counts queue messages and cache lookups", async () => {
    const before = await (await fetch(base)).json();
    await fetch(url("queue", "/message"), { method: "POST", body: "m" });
    await fetch(url("queue", "/batch"), {
      method: "POST",
      body: JSON.stringify({ messages: [{ body: "a" }, { body: "b" }] }),
    });
    // Records: an NDJSON line each, an edge-batch line its page views (base64 as workerd sends).
    const packed = `{"kind":"image"}\n{"kind":"edge-batch","v":1,"ts":[1,2,3]}`;
    await fetch(url("queue", "/batch"), {
      method: "POST",
      body: JSON.stringify({
        messages: [{ contentType: "text", body: Buffer.from(packed).toString("base64") }],
      }),
    });
    await lookup("/counted");
    const after = await (await fetch(base)).json();
    expect(after.queue.records - before.queue.records).toBe(3 + 4);
    expect(after.queue.messages - before.queue.messages).toBe(4);
    expect(after.queue.calls - before.queue.calls).toBe(3);
    expect(after.cache.lookups - before.cache.lookups).toBe(1);
  });
});
