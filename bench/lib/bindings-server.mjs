/**
 * Binding services for running the Worker on bare workerd (child process entry). One Node
 * process, one loopback listener per service, all in memory:
 * - cache: the HTTP protocol workerd speaks to `cacheApiOutbound` (GET + `only-if-cached` →
 *   stored response + `CF-Cache-Status: HIT`, or 504 MISS; PUT of a serialised response →
 *   204 or 413; PURGE → 200/404), keyed by cache namespace + host + URL, honouring s-maxage/max-age/
 *   Expires/Age, never storing `no-store`/`private`/`Set-Cookie`/TTL 0.
 * - kv: workerd's KV namespace protocol (GET/PUT/DELETE /<key>, POST /bulk/get, GET / list).
 * - d1: workerd's D1 protocol (POST /query|/execute) on an in-memory node:sqlite database with
 *   the wrangler migrations applied.
 * - queue: accepts POST /message and /batch, counts the messages and drops them (no consumer).
 * - r2: not implemented; every call is counted and answered 500.
 * `GET /__stats` on the control listener returns per-service call counters.
 * Usage: node bindings-server.mjs '<json {cache,kv,d1,queue,r2,control} ports>' [migrationsDir]
 */
import { readdirSync, readFileSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";

const ports = JSON.parse(process.argv[2]);
const migrationsDir = process.argv[3];

const stats = {
  cache: { lookups: 0, hits: 0, misses: 0, stores: 0, notStored: 0, purges: 0 },
  kv: { gets: 0, puts: 0, deletes: 0, lists: 0 },
  d1: { queries: 0, errors: 0 },
  queue: { messages: 0, records: 0, batches: 0, calls: 0 },
  r2: { calls: 0 },
};

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function listen(port, name, handler) {
  const server = http.createServer((req, res) => {
    Promise.resolve(handler(req, res)).catch((err) => {
      console.error(`${name}: ${err?.stack ?? err}`);
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end(String(err?.message ?? err));
    });
  });
  // workerd keeps pooled connections to services; do not close them between rounds.
  server.keepAliveTimeout = 60_000;
  server.headersTimeout = 65_000;
  server.listen(port, "127.0.0.1");
  return server;
}

// ---- cache -------------------------------------------------------------------------------
const cache = new Map();

/** Seconds of freshness the stored response has left, or 0 if it must not be stored. */
function freshnessSeconds(headers) {
  if (headers.has("set-cookie")) return 0;
  const cc = (headers.get("cache-control") ?? "").toLowerCase();
  if (/(^|[\s,])(no-store|private)\b/.test(cc)) return 0;
  const age = Number.parseInt(headers.get("age") ?? "0", 10) || 0;
  const sMax = /s-maxage\s*=\s*"?(\d+)/.exec(cc);
  const max = /(?:^|[\s,])max-age\s*=\s*"?(\d+)/.exec(cc);
  if (sMax) return Number(sMax[1]) - age;
  if (max) return Number(max[1]) - age;
  const expires = headers.get("expires");
  if (expires) {
    const base = Date.parse(headers.get("date") ?? "") || Date.now();
    const t = Date.parse(expires);
    return Number.isNaN(t) ? 0 : Math.floor((t - base) / 1000) - age;
  }
  return 0;
}

/** Parses `HTTP/1.1 200 OK\r\n<headers>\r\n\r\n<body>` as workerd serialises a cache PUT. */
function parseSerialisedResponse(buf) {
  const end = buf.indexOf("\r\n\r\n");
  if (end === -1) throw new Error("cache PUT: no blank line in serialised response");
  const [statusLine, ...lines] = buf.subarray(0, end).toString("latin1").split("\r\n");
  const m = /^HTTP\/\d(?:\.\d)? (\d+)/.exec(statusLine ?? "");
  if (!m) throw new Error(`cache PUT: bad status line ${JSON.stringify(statusLine)}`);
  const headers = new Headers();
  for (const line of lines) {
    const i = line.indexOf(":");
    if (i > 0) headers.append(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  return { status: Number(m[1]), headers, body: buf.subarray(end + 4) };
}

/** workerd sends the key URL as Host + path: both are part of the key, as is a named cache. */
function cacheKey(req) {
  return `${req.headers["cf-cache-namespace"] ?? ""} ${req.headers.host ?? ""}${req.url}`;
}

listen(ports.cache, "cache", async (req, res) => {
  const key = cacheKey(req);
  if (req.method === "GET" || req.method === "HEAD") {
    stats.cache.lookups++;
    const entry = cache.get(key);
    const now = Date.now();
    if (!entry || entry.expiresAt <= now) {
      if (entry) cache.delete(key);
      stats.cache.misses++;
      res.writeHead(504, { "cf-cache-status": "MISS", "content-length": 0 });
      res.end();
      return;
    }
    stats.cache.hits++;
    const age = entry.baseAge + Math.floor((now - entry.storedAt) / 1000);
    const inm = req.headers["if-none-match"];
    if (inm && entry.etag && inm.split(",").some((t) => t.trim().replace(/^W\//, "") === entry.etag)) {
      res.writeHead(304, [...entry.headerList, "age", String(age), "cf-cache-status", "HIT"]);
      res.end();
      return;
    }
    res.writeHead(entry.status, [...entry.headerList, "age", String(age), "cf-cache-status", "HIT"]);
    res.end(req.method === "HEAD" ? undefined : entry.body);
    return;
  }
  if (req.method === "PUT") {
    const { status, headers, body } = parseSerialisedResponse(await readBody(req));
    const ttl = freshnessSeconds(headers);
    if (ttl <= 0) {
      stats.cache.notStored++;
      res.writeHead(413, { "content-length": 0 });
      res.end();
      return;
    }
    const baseAge = Number.parseInt(headers.get("age") ?? "0", 10) || 0;
    headers.delete("age");
    headers.delete("content-length");
    headers.delete("transfer-encoding");
    headers.delete("cf-cache-status");
    const headerList = [];
    for (const [k, v] of headers) headerList.push(k, v);
    headerList.push("content-length", String(body.length));
    const etag = headers.get("etag")?.replace(/^W\//, "");
    cache.set(key, {
      status,
      headerList,
      body,
      etag,
      baseAge,
      storedAt: Date.now(),
      expiresAt: Date.now() + ttl * 1000,
    });
    stats.cache.stores++;
    res.writeHead(204);
    res.end();
    return;
  }
  if (req.method === "PURGE") {
    stats.cache.purges++;
    const existed = cache.delete(key);
    res.writeHead(existed ? 200 : 404, { "content-length": 0 });
    res.end();
    return;
  }
  res.writeHead(405, { "content-length": 0 });
  res.end();
});

// ---- kv ----------------------------------------------------------------------------------
const namespaces = new Map();

/** One Map per namespace (workerd injects `x-bench-namespace` per KV binding). */
function kvFor(req) {
  const ns = req.headers["x-bench-namespace"] ?? "";
  let m = namespaces.get(ns);
  if (!m) {
    m = new Map();
    namespaces.set(ns, m);
  }
  return m;
}

function kvLive(kv, key) {
  const e = kv.get(key);
  if (e && e.expiration !== undefined && e.expiration * 1000 <= Date.now()) {
    kv.delete(key);
    return undefined;
  }
  return e;
}

listen(ports.kv, "kv", async (req, res) => {
  const kv = kvFor(req);
  const url = new URL(req.url, "http://kv");
  const rawKey = url.pathname.slice(1);
  const key =
    url.searchParams.get("urlencoded")?.toLowerCase() === "true" ? decodeURIComponent(rawKey) : rawKey;
  if (req.method === "POST" && url.pathname === "/bulk/get") {
    const { keys = [], type = "text", withMetadata = false } = JSON.parse((await readBody(req)).toString());
    stats.kv.gets += keys.length;
    const out = {};
    for (const k of keys) {
      const e = kvLive(kv, k);
      let v = e ? e.value.toString() : null;
      if (v !== null && type === "json") v = JSON.parse(v);
      out[k] = withMetadata
        ? e
          ? { value: v, metadata: e.metadata ? JSON.parse(e.metadata) : null }
          : null
        : v;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(out));
    return;
  }
  if (req.method === "GET" && url.pathname === "/") {
    stats.kv.lists++;
    const prefix = url.searchParams.get("prefix") ?? "";
    const limit = Number(url.searchParams.get("key_count_limit") ?? 1000);
    const start = Number(url.searchParams.get("cursor") ?? 0) || 0;
    const names = [...kv.keys()].filter((k) => k.startsWith(prefix) && kvLive(kv, k)).sort();
    const page = names.slice(start, start + limit);
    const done = start + limit >= names.length;
    const keys = page.map((name) => {
      const e = kv.get(name);
      return { name, expiration: e.expiration, metadata: e.metadata };
    });
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify(
        done
          ? { keys, list_complete: true, cacheStatus: null }
          : { keys, list_complete: false, cursor: String(start + limit), cacheStatus: null },
      ),
    );
    return;
  }
  if (req.method === "GET") {
    stats.kv.gets++;
    const e = kvLive(kv, key);
    if (!e) {
      res.writeHead(404, { "content-length": 0 });
      res.end();
      return;
    }
    const headers = { "content-length": e.value.length };
    if (e.expiration !== undefined) headers["CF-Expiration"] = String(e.expiration);
    if (e.metadata !== undefined) headers["CF-KV-Metadata"] = e.metadata;
    res.writeHead(200, headers);
    res.end(e.value);
    return;
  }
  if (req.method === "PUT") {
    stats.kv.puts++;
    const value = await readBody(req);
    const nowS = Math.floor(Date.now() / 1000);
    const ttl = url.searchParams.get("expiration_ttl");
    const abs = url.searchParams.get("expiration");
    const expiration = ttl !== null ? nowS + Number(ttl) : abs !== null ? Number(abs) : undefined;
    kv.set(key, { value, expiration, metadata: req.headers["cf-kv-metadata"] });
    res.writeHead(200, { "content-length": 0 });
    res.end();
    return;
  }
  if (req.method === "DELETE") {
    stats.kv.deletes++;
    kv.delete(key);
    res.writeHead(200, { "content-length": 0 });
    res.end();
    return;
  }
  res.writeHead(405, { "content-length": 0 });
  res.end();
});

// ---- d1 ----------------------------------------------------------------------------------
const db = new DatabaseSync(":memory:");
if (migrationsDir) {
  for (const f of readdirSync(migrationsDir)
    .filter((f) => f.endsWith(".sql"))
    .sort()) {
    db.exec(readFileSync(join(migrationsDir, f), "utf8"));
  }
}
const changesStmt = db.prepare("SELECT changes() AS changes, last_insert_rowid() AS lastRowId");

function runQuery(query, format) {
  const params = (query.params ?? []).map((p) => (Array.isArray(p) ? Uint8Array.from(p) : p));
  const started = performance.now();
  const stmt = db.prepare(query.sql);
  let columns = [];
  let rows;
  try {
    columns = stmt.columns().map((c) => c.name);
  } catch {
    columns = [];
  }
  if (columns.length > 0) {
    stmt.setReturnArrays(true);
    rows = stmt.all(...params).map((r) => (Array.isArray(r) ? r : columns.map((c) => r[c])));
  } else {
    stmt.run(...params);
    rows = [];
  }
  const { changes, lastRowId } = changesStmt.get();
  const duration = performance.now() - started;
  const plain = rows.map((r) =>
    r.map((v) => (v instanceof Uint8Array ? Array.from(v) : typeof v === "bigint" ? Number(v) : v)),
  );
  const results =
    format === "ROWS_AND_COLUMNS"
      ? { columns, rows: plain }
      : plain.map((r) => Object.fromEntries(columns.map((c, i) => [c, r[i]])));
  return {
    success: true,
    results,
    meta: {
      served_by: "bench.d1",
      served_by_primary: true,
      duration,
      timings: { sql_duration_ms: duration },
      changes: columns.length > 0 ? 0 : Number(changes),
      last_row_id: Number(lastRowId),
      changed_db: columns.length === 0 && Number(changes) > 0,
      size_after: 0,
      rows_read: rows.length,
      rows_written: columns.length > 0 ? 0 : Number(changes),
    },
  };
}

listen(ports.d1, "d1", async (req, res) => {
  const url = new URL(req.url, "http://d1");
  const parsed = JSON.parse((await readBody(req)).toString());
  const queries = (Array.isArray(parsed) ? parsed : [parsed]).filter((q) =>
    q.sql.replace(/^\s*--.*$/gm, "").trim(),
  );
  stats.d1.queries += queries.length;
  try {
    db.exec("BEGIN");
    const results = queries.map((q) => runQuery(q, url.searchParams.get("resultsFormat")));
    db.exec("COMMIT");
    res.writeHead(200, { "content-type": "application/json", "x-cf-d1-session-commit-token": "bench" });
    res.end(JSON.stringify(results));
  } catch (err) {
    if (db.isTransaction) db.exec("ROLLBACK");
    stats.d1.errors++;
    res.writeHead(500, { "content-type": "application/json" });
    res.end(JSON.stringify({ success: false, error: String(err?.message ?? err) }));
  }
});

// ---- queue -------------------------------------------------------------------------------
/**
 * Records in one queued message: lines of an NDJSON text body (packed batch), each edge-batch
 * line counting the page views in its columns (common/src/edge-log-batch.ts), else 1.
 */
function recordsIn(m) {
  if (m.contentType !== "text" || typeof m.body !== "string") return 1;
  // workerd sends message bodies base64-encoded; fall back to the raw string.
  const text = /^[A-Za-z0-9+/]+=*$/.test(m.body) ? Buffer.from(m.body, "base64").toString("utf8") : m.body;
  let n = 0;
  for (const line of text.split("\n")) {
    if (line === "") continue;
    if (!line.startsWith('{"kind":"edge-batch"')) n++;
    else {
      try {
        n += JSON.parse(line).ts.length;
      } catch {
        n++;
      }
    }
  }
  return n;
}
const queueReply = JSON.stringify({
  metadata: { metrics: { backlogCount: 0, backlogBytes: 0, oldestMessageTimestamp: 0 } },
});
listen(ports.queue, "queue", async (req, res) => {
  const body = await readBody(req);
  const path = new URL(req.url, "http://q").pathname;
  stats.queue.calls++;
  if (path === "/batch") {
    stats.queue.batches++;
    const messages = JSON.parse(body.toString()).messages ?? [];
    stats.queue.messages += messages.length;
    for (const m of messages) stats.queue.records += recordsIn(m);
  } else {
    stats.queue.messages++;
    stats.queue.records++;
  }
  res.writeHead(200, { "content-type": "application/json" });
  res.end(queueReply);
});

// ---- r2 ----------------------------------------------------------------------------------
listen(ports.r2, "r2", async (req, res) => {
  await readBody(req);
  stats.r2.calls++;
  res.writeHead(500, { "content-type": "application/json" });
  res.end(
    JSON.stringify({ version: 0, v4code: 10001, message: "R2 is not served by the benchmark harness" }),
  );
});

// ---- control -----------------------------------------------------------------------------
listen(ports.control, "control", (_req, res) => {
  res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(JSON.stringify({ ...stats, cacheEntries: cache.size }));
});

console.log(`binding services listening: ${JSON.stringify(ports)}`);
