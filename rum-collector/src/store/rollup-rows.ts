/**
 * Rollup rows in D1 (`rum_rollups`): read a set of rows by key, change their sketches in memory,
 * and write them back with optimistic concurrency (a row's `version` must be unchanged, a new
 * row must still be absent), so two writers never lose each other's page views.
 */
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
const SELECT_COLUMNS = `${KEY_COLUMNS}, views, version, ${SKETCH_COLUMNS.join(", ")}`;
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

/**
 * Statements writing every changed row: UPDATE … WHERE version = read version, or INSERT for
 * new rows, each followed by a guard that exactly one row changed.
 */
export function writeRollupStatements(db: D1Database, rows: Iterable<RollupRow>): D1PreparedStatement[] {
  const out: D1PreparedStatement[] = [];
  for (const row of rows) {
    if (!row.changed) continue;
    const cols = [...row.dirty];
    const blobs = cols.map((c) => row.bytes(c));
    if (row.version === null) {
      const names = [...cols, "views", "version"];
      const placeholders = names.map((_, i) => `?${i + 10}`).join(", ");
      out.push(
        db
          .prepare(
            `INSERT INTO rum_rollups (${KEY_COLUMNS}, ${names.join(", ")}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ${placeholders}) ON CONFLICT DO NOTHING`,
          )
          .bind(...keyTuple(row.key), ...blobs, row.views, 0),
      );
    } else {
      const sets = cols.map((c, i) => `${c} = ?${i + 12}`);
      out.push(
        db
          .prepare(
            `UPDATE rum_rollups SET views = ?10, version = version + 1${sets.length ? `, ${sets.join(", ")}` : ""} WHERE granularity = ?1 AND site = ?2 AND ts = ?3 AND page_group = ?4 AND device = ?5 AND country = ?6 AND connection = ?7 AND cache_status = ?8 AND colo = ?9 AND version = ?11`,
          )
          .bind(...keyTuple(row.key), row.views, row.version, ...blobs),
      );
    }
    out.push(guardChanges(db, 1));
  }
  return out;
}
