/**
 * Rollup rows in D1 (`rum_rollups`): read a set of rows by key, change their sketches in memory,
 * and write them back with optimistic concurrency (a row's `version` must be unchanged, a new
 * row must still be absent), so two writers never lose each other's page views.
 */

import { Buffer } from "node:buffer";
import { concatBytes } from "../../../common/src/bytes.ts";
import { QuantileSketch } from "../../../common/src/sketch.ts";
import { type Granularity, METRICS } from "./metrics.ts";

export interface RollupKey {
  granularity: Granularity;
  ts: number;
  site: string;
  pageGroup: string;
  device: string;
  country: string;
  connection: string;
  cacheStatus: string;
  /** Edge location (`request.cf.colo`) of the collector that received the beacon; "unknown" if none. */
  colo: string;
}

/** Columns of the rollup primary key, in the order `keyTuple` lists them. */
export const KEY_COLUMNS =
  "granularity, site, ts, page_group, device, country, connection, cache_status, colo" as const;

export function keyTuple(
  k: RollupKey,
): [string, string, number, string, string, string, string, string, string] {
  return [k.granularity, k.site, k.ts, k.pageGroup, k.device, k.country, k.connection, k.cacheStatus, k.colo];
}

export function keyString(k: RollupKey): string {
  return JSON.stringify(keyTuple(k));
}

/** A D1 BLOB as bytes (D1 returns BLOBs as ArrayBuffer or as an array of numbers). */
export function blobBytes(v: unknown): Uint8Array | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Uint8Array) return v;
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (Array.isArray(v)) return Uint8Array.from(v as number[]);
  // hex() of a BLOB (empty for NULL).
  if (typeof v === "string") return v === "" ? null : new Uint8Array(Buffer.from(v, "hex"));
  return null;
}

export class RollupRow {
  readonly key: RollupKey;
  views: number;
  /** Version read from D1, or null for a row that does not exist yet. */
  readonly version: number | null;
  private readonly raw = new Map<string, Uint8Array>();
  private readonly decoded = new Map<string, QuantileSketch>();
  readonly dirty = new Set<string>();
  private viewsChanged = false;

  constructor(key: RollupKey, views = 0, version: number | null = null) {
    this.key = key;
    this.views = views;
    this.version = version;
  }

  setRaw(column: string, bytes: Uint8Array | null): void {
    if (bytes) this.raw.set(column, bytes);
  }

  /** True when the row holds a sketch for `column`. */
  has(column: string): boolean {
    return this.raw.has(column) || this.decoded.has(column);
  }

  /** The sketch of `column` for reading (an empty sketch when there is none). */
  peek(column: string): QuantileSketch {
    const d = this.decoded.get(column);
    if (d) return d;
    const r = this.raw.get(column);
    return r ? QuantileSketch.fromBytes(r) : new QuantileSketch();
  }

  /** The sketch of `column` for changing (marks the column to be written). */
  edit(column: string): QuantileSketch {
    let s = this.decoded.get(column);
    if (!s) {
      s = this.peek(column);
      this.decoded.set(column, s);
    }
    this.dirty.add(column);
    return s;
  }

  /** Replaces the sketch of `column` (used by downsampling, which recomputes whole rows). */
  put(column: string, sketch: QuantileSketch): void {
    this.decoded.set(column, sketch);
    this.dirty.add(column);
  }

  bytes(column: string): Uint8Array | null {
    const s = this.decoded.get(column);
    if (s) return s.count > 0 || s.zeroCount > 0 || s.buckets.size > 0 ? s.toBytes() : null;
    return this.raw.get(column) ?? null;
  }

  /** Adds `n` page views to the row's view count. */
  addViews(n: number): void {
    this.views += n;
    this.viewsChanged = true;
  }

  get changed(): boolean {
    return this.dirty.size > 0 || this.viewsChanged;
  }
}

const SKETCH_COLUMNS = METRICS.map((m) => m.column);
// hex() because D1 hands BLOBs to the Worker as JSON arrays of numbers, which costs ~4× more.
const SELECT_COLUMNS = `${KEY_COLUMNS}, views, version, ${SKETCH_COLUMNS.map((c) => `hex(${c}) AS ${c}`).join(", ")}`;
/** Keys per read statement (one JSON parameter each). */
const READ_CHUNK = 400;

function rowFromResult(r: Record<string, unknown>): RollupRow {
  const key: RollupKey = {
    granularity: r.granularity as Granularity,
    ts: Number(r.ts),
    site: String(r.site),
    pageGroup: String(r.page_group),
    device: String(r.device),
    country: String(r.country),
    connection: String(r.connection),
    cacheStatus: String(r.cache_status),
    colo: String(r.colo),
  };
  const row = new RollupRow(key, Number(r.views), Number(r.version));
  for (const c of SKETCH_COLUMNS) row.setRaw(c, blobBytes(r[c]));
  return row;
}

/** Reads the rows for `keys`; keys without a row get a new, empty `RollupRow` (version null). */
export async function readRollupRows(
  db: D1Database,
  keys: Iterable<RollupKey>,
): Promise<Map<string, RollupRow>> {
  const wanted = new Map<string, RollupKey>();
  for (const k of keys) wanted.set(keyString(k), k);
  const out = new Map<string, RollupRow>();
  const all = [...wanted.values()];
  const stmts: D1PreparedStatement[] = [];
  for (let i = 0; i < all.length; i += READ_CHUNK) {
    const json = JSON.stringify(all.slice(i, i + READ_CHUNK).map(keyTuple));
    stmts.push(
      db
        .prepare(
          `SELECT ${SELECT_COLUMNS} FROM rum_rollups WHERE (${KEY_COLUMNS}) IN (SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7, value->>8 FROM json_each(?1))`,
        )
        .bind(json),
    );
  }
  if (stmts.length > 0) {
    const results = await db.batch<Record<string, unknown>>(stmts);
    for (const res of results) {
      for (const r of res.results) {
        const row = rowFromResult(r);
        out.set(keyString(row.key), row);
      }
    }
  }
  for (const [s, k] of wanted) if (!out.has(s)) out.set(s, new RollupRow(k));
  return out;
}

/** Rows per page when reading a range (keeps each D1 result small). */
const RANGE_PAGE = 1000;
const PAGE_KEY = "site, ts, page_group, device, country, connection, cache_status, colo";

/**
 * Reads every row of one granularity with ts in [from, to) (downsampling input), page by page
 * in primary-key order (keyset pagination), so no single D1 result holds the whole bucket.
 */
export async function readRollupRange(
  db: D1Database,
  granularity: Granularity,
  from: number,
  to: number,
): Promise<RollupRow[]> {
  const out: RollupRow[] = [];
  let after: unknown[] | null = null;
  for (;;) {
    const res: D1Result<Record<string, unknown>> = after
      ? await db
          .prepare(
            `SELECT ${SELECT_COLUMNS} FROM rum_rollups WHERE granularity = ?1 AND ts >= ?2 AND ts < ?3 AND (${PAGE_KEY}) > (?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) ORDER BY ${PAGE_KEY} LIMIT ${RANGE_PAGE}`,
          )
          .bind(granularity, from, to, ...after)
          .all<Record<string, unknown>>()
      : await db
          .prepare(
            `SELECT ${SELECT_COLUMNS} FROM rum_rollups WHERE granularity = ?1 AND ts >= ?2 AND ts < ?3 ORDER BY ${PAGE_KEY} LIMIT ${RANGE_PAGE}`,
          )
          .bind(granularity, from, to)
          .all<Record<string, unknown>>();
    for (const r of res.results) out.push(rowFromResult(r));
    if (res.results.length < RANGE_PAGE) return out;
    const last = res.results[res.results.length - 1] as Record<string, unknown>;
    after = PAGE_KEY.split(", ").map((c) => last[c]);
  }
}

/**
 * Fails the whole D1 batch unless the previous statement changed exactly `expected` rows
 * (see `rum_write_guard` in migrations/0002_rum.sql).
 */
export function guardChanges(db: D1Database, expected: number): D1PreparedStatement {
  return db
    .prepare("INSERT INTO rum_write_guard (ok) VALUES (changes() = ?1) ON CONFLICT DO NOTHING")
    .bind(expected);
}

/** Message D1 reports when a guard fails (a concurrent writer changed the same rows). */
export function isGuardFailure(err: unknown): boolean {
  return /CHECK constraint failed/i.test(String(err instanceof Error ? err.message : err));
}

/** JSON bytes per bulk statement at most (D1 takes up to 2 MB per bound value). */
const BULK_JSON_BYTES = 500_000;

/** Hex of a sketch's bytes (the runtime's native encoder; a JS loop cost most of a batch's CPU). */
function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

const KEY_SELECT = KEY_COLUMNS.split(", ")
  .map((_c, i) => `value->>'$.k[${i}]' AS k${i}`)
  .join(", ");
const KEY_MATCH = KEY_COLUMNS.split(", ")
  .map((c, i) => `rum_rollups.${c} = j.k${i}`)
  .join(" AND ");

/** New rows: one INSERT for a whole chunk; unset sketch columns stay NULL. */
const BULK_INSERT_SQL = `INSERT INTO rum_rollups (${KEY_COLUMNS}, views, version, ${SKETCH_COLUMNS.join(", ")}) SELECT ${KEY_COLUMNS.split(
  ", ",
)
  .map((_, i) => `value->>'$.k[${i}]'`)
  .join(
    ", ",
  )}, value->>'views', 0, ${SKETCH_COLUMNS.map((c) => `unhex(value->>'${c}')`).join(", ")} FROM json_each(?1) WHERE true ON CONFLICT DO NOTHING`;

/**
 * Changed rows: one UPDATE … FROM for a whole chunk, each row only where its version is still the
 * one read. A sketch column absent from a row's JSON keeps its value; JSON null clears it.
 */
const BULK_UPDATE_SQL = `UPDATE rum_rollups SET views = j.views, version = rum_rollups.version + 1, ${SKETCH_COLUMNS.map(
  (c) => `${c} = CASE WHEN j.t_${c} IS NULL THEN rum_rollups.${c} ELSE unhex(j.${c}) END`,
).join(
  ", ",
)} FROM (SELECT ${KEY_SELECT}, value->>'views' AS views, value->>'version' AS version, ${SKETCH_COLUMNS.map(
  (c) => `value->>'${c}' AS ${c}, json_type(value, '$.${c}') AS t_${c}`,
).join(", ")} FROM json_each(?1)) AS j WHERE ${KEY_MATCH} AND rum_rollups.version = j.version`;

/**
 * Rows as the JSON elements of the bulk statements: the key tuple, views, version and the dirty
 * sketches as hex. Every dirty sketch of the batch is copied into one buffer and hex-encoded by
 * one native call (a call per sketch cost more than the encoding), then cut per sketch.
 */
function rowJsons(rows: readonly RollupRow[]): string[] {
  const parts: (Uint8Array | null)[] = [];
  let total = 0;
  for (const row of rows)
    for (const c of row.dirty) {
      const b = row.bytes(c);
      parts.push(b);
      if (b) total += b.byteLength;
    }
  const all = concatBytes(
    parts.filter((b): b is Uint8Array => b !== null),
    total,
  );
  const hexAll = hex(all);
  const out: string[] = [];
  let k = 0;
  let pos = 0;
  for (const row of rows) {
    const o: Record<string, unknown> = { k: keyTuple(row.key), views: row.views, version: row.version };
    for (const c of row.dirty) {
      const b = parts[k++];
      if (b) {
        o[c] = hexAll.slice(pos, pos + 2 * b.byteLength);
        pos += 2 * b.byteLength;
      } else o[c] = null;
    }
    out.push(JSON.stringify(o));
  }
  return out;
}

function bulk(db: D1Database, sql: string, items: string[]): D1PreparedStatement[] {
  const out: D1PreparedStatement[] = [];
  let part: string[] = [];
  let bytes = 0;
  const flush = () => {
    if (part.length === 0) return;
    out.push(db.prepare(sql).bind(`[${part.join(",")}]`));
    // Every row of the chunk must have been written: otherwise a concurrent writer won.
    out.push(guardChanges(db, part.length));
    part = [];
    bytes = 0;
  };
  for (const item of items) {
    if (bytes + item.length > BULK_JSON_BYTES) flush();
    part.push(item);
    bytes += item.length + 1;
  }
  flush();
  return out;
}

/**
 * Statements writing every changed row, in bulk: new rows by one INSERT per chunk (none may exist
 * yet), changed rows by one UPDATE … FROM per chunk (each only at the version read); each chunk is
 * followed by a guard that exactly its rows changed, so a concurrent writer fails the batch.
 */
export function writeRollupStatements(db: D1Database, rows: Iterable<RollupRow>): D1PreparedStatement[] {
  const changed: RollupRow[] = [];
  for (const row of rows) if (row.changed) changed.push(row);
  const jsons = rowJsons(changed);
  const inserts: string[] = [];
  const updates: string[] = [];
  for (const [i, row] of changed.entries())
    (row.version === null ? inserts : updates).push(jsons[i] as string);
  return [...bulk(db, BULK_INSERT_SQL, inserts), ...bulk(db, BULK_UPDATE_SQL, updates)];
}
