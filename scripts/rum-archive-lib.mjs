/**
 * Shared by `npm run rum:sql` and the RUM benchmark: copies the Parquet archive out of a
 * running Worker (`GET /_rum/v1/archive`, the query token) or an R2 bucket binding into a local
 * folder, and answers SQL over it with DuckDB (views `pageviews` and `edge`, Hive partitions
 * site/date/hour as columns).
 */
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";

/** Copies every `parquet/` object of a Worker's archive not yet in `dir`; returns the count copied. */
export async function syncFromWorker(baseUrl, token, dir) {
  const headers = { Authorization: `Bearer ${token}` };
  let cursor = null;
  let copied = 0;
  do {
    const u = new URL("/_rum/v1/archive", baseUrl);
    u.searchParams.set("prefix", "parquet/");
    if (cursor) u.searchParams.set("cursor", cursor);
    const res = await fetch(u, { headers });
    if (!res.ok) throw new Error(`GET ${u}: ${res.status} ${await res.text()}`);
    const page = await res.json();
    for (const o of page.objects) {
      const file = join(dir, o.key);
      if (existsSync(file) && statSync(file).size === o.size) continue;
      const ou = new URL("/_rum/v1/archive/object", baseUrl);
      ou.searchParams.set("key", o.key);
      const r = await fetch(ou, { headers });
      if (!r.ok) throw new Error(`GET ${ou}: ${r.status}`);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, new Uint8Array(await r.arrayBuffer()));
      copied++;
    }
    cursor = page.cursor;
  } while (cursor);
  return copied;
}

/** Copies every `parquet/` object of an R2 bucket binding (Miniflare's getR2Bucket) into `dir`. */
export async function syncFromBucket(bucket, dir) {
  let cursor;
  let copied = 0;
  do {
    const page = await bucket.list({ prefix: "parquet/", cursor, limit: 1000 });
    for (const o of page.objects) {
      const obj = await bucket.get(o.key);
      const file = join(dir, o.key);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, new Uint8Array(await obj.arrayBuffer()));
      copied++;
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return copied;
}

/** A DuckDB connection with views `pageviews` and `edge` over the Parquet files under `dir`. */
export async function openArchive(dir) {
  const db = await DuckDBInstance.create(":memory:");
  const con = await db.connect();
  for (const [view, kind] of [
    ["pageviews", "pageviews"],
    ["edge", "edge"],
  ]) {
    const glob = join(dir, "parquet", kind, "**", "*.parquet").replaceAll("'", "''");
    const any = existsSync(join(dir, "parquet", kind));
    await con.run(
      any
        ? `CREATE VIEW ${view} AS SELECT * FROM read_parquet('${glob}', hive_partitioning = true, union_by_name = true)`
        : `CREATE VIEW ${view} AS SELECT NULL AS site WHERE false`,
    );
  }
  return con;
}

/** Runs `sql` and returns its rows as plain objects (BigInts as numbers where exact). */
export async function query(con, sql) {
  const reader = await con.runAndReadAll(sql);
  return reader.getRowObjectsJson();
}
