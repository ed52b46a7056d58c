/**
 * The R2 archive of every queue batch:
 *  - Parquet, per site and hour: `parquet/pageviews/site=<site>/date=<yyyy-mm-dd>/hour=<hh>/<ts>-<id>.parquet`
 *    (one row per page-view message: server dimensions, browser timings and vitals, no edge split)
 *    and `parquet/edge/…` (one row per edge log record: the edge's facts by rid). Hive-style
 *    partitions, readable in place by DuckDB, ClickHouse, Spark, Trino or R2 SQL; join the two on
 *    `rid` for the edge split. Written with hyparquet-writer (pure JS, runs in workerd).
 *  - gzipped NDJSON, `raw/<yyyy>/<mm>/<dd>/<hh>/<ts>-<id>.ndjson.gz`: the batch's messages, for replay.
 * Page URLs keep no query string or fragment unless the site allows named parameters
 * (`RUM_ARCHIVE_QUERY_PARAMS`). At-least-once: a retried batch may be written again; readers
 * deduplicate by (site, pvid) keeping the highest seq, and by rid.
 */
import { gzipSync } from "node:zlib";
import { parquetWriteBuffer } from "hyparquet-writer";
import type { EdgeLogMessage, PageViewMessage, RumQueueMessage } from "../../../common/src/rum-types.ts";
import { type PvRow, pageViewRow } from "./page-view-row.ts";

type ColumnType = "STRING" | "INT64" | "DOUBLE" | "TIMESTAMP";

/** Parquet columns of the page-view archive (name → type), in file order. */
export const PAGEVIEW_PARQUET: ReadonlyArray<[string, ColumnType]> = [
  ["ts", "TIMESTAMP"],
  ["site", "STRING"],
  ["pvid", "STRING"],
  ["seq", "INT64"],
  ["rid", "STRING"],
  ["page_group", "STRING"],
  ["path", "STRING"],
  ["url", "STRING"],
  ["country", "STRING"],
  ["colo", "STRING"],
  ["asn", "INT64"],
  ["device", "STRING"],
  ["browser", "STRING"],
  ["connection", "STRING"],
  ["nav_type", "STRING"],
  ["delivery_type", "STRING"],
  ["save_data", "INT64"],
  ["holdout", "INT64"],
  ["sample_rate", "DOUBLE"],
  ["viewport_w", "INT64"],
  ["viewport_h", "INT64"],
  ["dpr", "DOUBLE"],
  ["session_id", "STRING"],
  ["prev_pvid", "STRING"],
  ["arm", "STRING"],
  ["converted", "INT64"],
  ["conversion_value", "DOUBLE"],
  ["invalid_fields", "INT64"],
  ["lcp", "DOUBLE"],
  ["inp", "DOUBLE"],
  ["cls", "DOUBLE"],
  ["fcp", "DOUBLE"],
  ["ttfb", "DOUBLE"],
  ["queueing", "DOUBLE"],
  ["last_mile_connect", "DOUBLE"],
  ["request_to_first_byte", "DOUBLE"],
  ["download", "DOUBLE"],
  ["resource_load_delay", "DOUBLE"],
  ["resource_load_duration", "DOUBLE"],
  ["element_render_delay", "DOUBLE"],
];

/** Parquet columns of the edge archive. */
export const EDGE_PARQUET: ReadonlyArray<[string, ColumnType]> = [
  ["ts", "TIMESTAMP"],
  ["rid", "STRING"],
  ["site", "STRING"],
  ["page_group", "STRING"],
  ["path", "STRING"],
  ["status", "INT64"],
  ["cache_status", "STRING"],
  ["edge_ms", "DOUBLE"],
  ["origin_ms", "DOUBLE"],
  ["app_ms", "DOUBLE"],
  ["country", "STRING"],
  ["colo", "STRING"],
  ["device", "STRING"],
  ["browser", "STRING"],
];

/** `url` without its fragment, and without query parameters other than `allowed` ones. */
export function sanitizeUrl(url: string, allowed: ReadonlySet<string> | undefined): string {
  const noFragment = url.split("#", 1)[0] as string;
  const q = noFragment.indexOf("?");
  if (q === -1) return noFragment;
  const base = noFragment.slice(0, q);
  if (!allowed || allowed.size === 0) return base;
  const kept = new URLSearchParams();
  for (const [k, v] of new URLSearchParams(noFragment.slice(q + 1))) if (allowed.has(k)) kept.append(k, v);
  const s = kept.toString();
  return s ? `${base}?${s}` : base;
}

/** The message as archived: its page URL sanitized (and nothing else changed). */
export function archivedMessage(
  m: RumQueueMessage,
  params: ReadonlyMap<string, ReadonlySet<string>>,
): RumQueueMessage {
  if (m.kind !== "pageview") return m;
  const url = sanitizeUrl(m.beacon.url, params.get(m.site));
  return url === m.beacon.url ? m : { ...m, beacon: { ...m.beacon, url } };
}

/**
 * The NDJSON line of `clean` (= `archivedMessage(m, …)`): `JSON.stringify(clean)`, or cheaper,
 * `line`, the JSON text `m` was decoded from (`JSON.parse(line)` gives `m`), when `clean` is `m`,
 * or that line with only its page URL replaced when `clean` differs from `m` only by a sanitized
 * `beacon.url`. The splice is used only when the line holds exactly one `"url":` key and it is
 * followed by the URL's JSON text as `JSON.stringify` writes it (what the intake sends); the result
 * is then the same text `JSON.stringify(clean)` gives. Anything else is serialised again.
 */
export function archiveLine(m: RumQueueMessage, clean: RumQueueMessage, line: string | undefined): string {
  if (line === undefined) return JSON.stringify(clean);
  if (clean === m) return line;
  if (m.kind !== "pageview" || clean.kind !== "pageview") return JSON.stringify(clean);
  const needle = `"url":${JSON.stringify(m.beacon.url)}`;
  const at = line.indexOf(needle);
  if (at === -1 || line.indexOf('"url":') !== at || line.indexOf('"url":', at + 1) !== -1) {
    return JSON.stringify(clean);
  }
  return `${line.slice(0, at)}"url":${JSON.stringify(clean.beacon.url)}${line.slice(at + needle.length)}`;
}

const STATS_COLUMNS: ReadonlySet<string> = new Set(["ts", "page_group", "rid"]);

function parquetOf(
  rows: readonly Record<string, unknown>[],
  spec: ReadonlyArray<[string, ColumnType]>,
): ArrayBuffer {
  return parquetWriteBuffer({
    columnData: spec.map(([name, type]) => ({
      name,
      type,
      // Min/max statistics where readers prune by them (time, page group, rid); elsewhere they
      // cost half the encoding time and buy nothing.
      statistics: STATS_COLUMNS.has(name),
      data: rows.map((r) => {
        const v = r[name];
        if (v === null || v === undefined) return null;
        // Milliseconds as the writer's TIMESTAMP_MILLIS takes them (a Date would be converted back).
        if (type === "TIMESTAMP") return Math.trunc(Number(v));
        if (type === "INT64") return BigInt(Math.trunc(Number(v)));
        if (type === "DOUBLE") return Number(v);
        return String(v);
      }),
    })),
    rowGroupSize: 100_000,
  });
}

function pageViewArchiveRow(m: PageViewMessage): Record<string, unknown> {
  // A fresh row object of this call: completed in place rather than copied.
  const r: PvRow = pageViewRow(m, { unverified: true }, m.ts);
  r.url = m.beacon.url;
  // Unverified attribution: the wire part holds the browser's whole request → first byte.
  r.request_to_first_byte = r.last_mile_wire;
  return r;
}

const p2 = (n: number) => String(n).padStart(2, "0");

function partition(kind: string, site: string, ts: number): string {
  const d = new Date(ts);
  const date = `${d.getUTCFullYear()}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())}`;
  return `parquet/${kind}/site=${encodeURIComponent(site)}/date=${date}/hour=${p2(d.getUTCHours())}`;
}

/** R2 key of a batch's gzipped NDJSON: `raw/<yyyy>/<mm>/<dd>/<hh>/<ts>-<first message id>.ndjson.gz` (UTC). */
export function archiveKey(ts: number, firstId: string): string {
  const d = new Date(ts);
  return `raw/${d.getUTCFullYear()}/${p2(d.getUTCMonth() + 1)}/${p2(d.getUTCDate())}/${p2(d.getUTCHours())}/${ts}-${safeId(firstId)}.ndjson.gz`;
}

/**
 * gzip of a text: the runtime's zlib (node:zlib, in workerd and Node alike) at level 1. The NDJSON
 * is the replay copy, read back whole; level 1 is about 3x faster than the default level 6 for a
 * few percent more bytes, and the synchronous call skips the stream machinery.
 */
export async function gzipText(text: string): Promise<ArrayBuffer> {
  const out = gzipSync(text, { level: 1 });
  return out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength) as ArrayBuffer;
}

/** The text of an archive object body: gunzipped when its key ends in `.gz`. */
export async function archiveText(key: string, body: ReadableStream): Promise<string> {
  const stream = key.endsWith(".gz") ? body.pipeThrough(new DecompressionStream("gzip")) : body;
  return new Response(stream).text();
}

function safeId(id: string): string {
  return id.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 64);
}

/**
 * The objects one batch writes: key → body (Parquet per kind, site and hour; one NDJSON).
 * `lines[i]`, when given, is the JSON text `messages[i]` was decoded from, as the queue's producers
 * (this Worker's intake, edge and replay) write it with `JSON.stringify`; see `archiveLine`.
 */
export function archiveObjects(
  messages: readonly RumQueueMessage[],
  firstId: string,
  params: ReadonlyMap<string, ReadonlySet<string>>,
  lines?: readonly (string | undefined)[],
): Map<string, { body: string | ArrayBuffer; contentType: string }> {
  const out = new Map<string, { body: string | ArrayBuffer; contentType: string }>();
  if (messages.length === 0) return out;
  const clean = messages.map((m) => archivedMessage(m, params));
  let ts = Number.POSITIVE_INFINITY;
  for (const m of clean) if (m.ts < ts) ts = m.ts;
  out.set(archiveKey(ts, firstId), {
    body: `${clean.map((c, i) => archiveLine(messages[i] as RumQueueMessage, c, lines?.[i])).join("\n")}\n`,
    contentType: "application/gzip",
  });
  const groups = new Map<
    string,
    { spec: ReadonlyArray<[string, ColumnType]>; rows: Record<string, unknown>[]; ts: number }
  >();
  const put = (
    kind: string,
    spec: ReadonlyArray<[string, ColumnType]>,
    site: string,
    t: number,
    row: Record<string, unknown>,
  ) => {
    const k = partition(kind, site, t);
    const g = groups.get(k) ?? { spec, rows: [], ts: t };
    g.rows.push(row);
    g.ts = Math.min(g.ts, t);
    groups.set(k, g);
  };
  for (const m of clean) {
    if (m.kind === "pageview") put("pageviews", PAGEVIEW_PARQUET, m.site, m.ts, pageViewArchiveRow(m));
    else if (m.kind === "edge") put("edge", EDGE_PARQUET, m.site, m.ts, edgeArchiveRow(m));
  }
  for (const [prefix, g] of groups)
    out.set(`${prefix}/${g.ts}-${safeId(firstId)}.parquet`, {
      body: parquetOf(g.rows, g.spec),
      contentType: "application/vnd.apache.parquet",
    });
  return out;
}

function edgeArchiveRow(m: EdgeLogMessage): Record<string, unknown> {
  return {
    ts: m.ts,
    rid: m.rid,
    site: m.site,
    page_group: m.pageGroup,
    path: m.path,
    status: m.status,
    cache_status: m.cacheStatus,
    edge_ms: m.edgeMs,
    origin_ms: m.originMs,
    app_ms: m.appMs,
    country: m.country,
    colo: m.colo,
    device: m.device,
    browser: m.browser,
  };
}

/** Writes a batch's archive objects (all of them, concurrently); `lines` as for `archiveObjects`. */
export async function writeArchive(
  bucket: R2Bucket,
  messages: readonly RumQueueMessage[],
  firstId: string,
  params: ReadonlyMap<string, ReadonlySet<string>>,
  lines?: readonly (string | undefined)[],
): Promise<void> {
  const objects = archiveObjects(messages, firstId, params, lines);
  await Promise.all(
    [...objects].map(async ([key, o]) =>
      bucket.put(key, key.endsWith(".gz") && typeof o.body === "string" ? await gzipText(o.body) : o.body, {
        httpMetadata: { contentType: o.contentType },
      }),
    ),
  );
}

/** Deletes per run at most (the next run goes on). */
const MAX_DELETES = 5000;

/** UTC ms of an archive key's hour (both layouts), or null for a foreign key. */
export function archiveKeyHour(key: string): number | null {
  let m = /^raw\/(\d{4})\/(\d{2})\/(\d{2})\/(\d{2})\//.exec(key);
  if (!m) m = /\/date=(\d{4})-(\d{2})-(\d{2})\/hour=(\d{2})\//.exec(key);
  if (!m) return null;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]));
}

/**
 * Deletes archive objects whose hour ended before `cutoff` (at most 5,000 per run). Keys sort by
 * time within each prefix, so each listing stops at the first hour still kept.
 */
export async function deleteOldArchive(bucket: R2Bucket, cutoff: number): Promise<number> {
  let deleted = 0;
  const prefixes = ["raw/"];
  for (const kind of ["pageviews", "edge"]) {
    const sites = await bucket.list({ prefix: `parquet/${kind}/`, delimiter: "/" });
    prefixes.push(...sites.delimitedPrefixes);
  }
  for (const prefix of prefixes) {
    let cursor: string | undefined;
    for (;;) {
      if (deleted >= MAX_DELETES) return deleted;
      const page = await bucket.list({ prefix, cursor, limit: 1000 });
      const old: string[] = [];
      let reachedKept = false;
      for (const o of page.objects) {
        const hour = archiveKeyHour(o.key);
        if (hour === null) continue;
        if (hour + 3_600_000 <= cutoff) old.push(o.key);
        else reachedKept = true;
      }
      const todo = old.slice(0, MAX_DELETES - deleted);
      if (todo.length > 0) await bucket.delete(todo);
      deleted += todo.length;
      if (reachedKept || !page.truncated) break;
      cursor = page.cursor;
    }
  }
  return deleted;
}
