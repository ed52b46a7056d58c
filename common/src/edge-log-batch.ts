/**
 * The edge's page-view log travels in columns: one queue line `{"kind":"edge-batch","v":1,…}`
 * holds up to LOG_BATCH_MAX_RECORDS `EdgeLogMessage`s, each field a column, the text fields
 * (path, cache status, country, colo, device, browser) as indexes into per-batch dictionaries.
 *
 * Why: the log is written on every HTML page view, cache HITs included, where the edge's own
 * work is a few microseconds. A record appended as numbers to typed-array columns leaves nothing
 * behind for the garbage collector, and a whole batch is turned into JSON once when it leaves; a
 * JSON line per record cost the HIT path about a tenth of its CPU (bench/README.md). The batch
 * is also a third of the bytes on the queue. The consumer expands it back into `EdgeLogMessage`s
 * (`expandEdgeLogBatch`), so storage, archive and queries see the same records as before.
 *
 * Pure: no runtime imports.
 */
import type { CacheStatus, EdgeLogMessage } from "./rum-types.ts";

/** Records per batch at most (the columns are allocated for this many). */
export const LOG_BATCH_MAX_RECORDS = 2000;

/** A batch as it travels (one JSON line of a queue message). */
export interface EdgeLogBatchMessage {
  kind: "edge-batch";
  v: 1;
  site: string;
  /** Distinct paths of the batch, and the page group of each (same index). */
  paths: string[];
  pageGroups: string[];
  /** Distinct cache statuses, countries, colos, device and browser classes. */
  strings: string[];
  ts: number[];
  rid: string[];
  /** Index into `paths`. */
  path: number[];
  status: number[];
  /** Indexes into `strings`. */
  cacheStatus: number[];
  /** Milliseconds rounded to the microsecond; null when unknown. */
  edgeMs: number[];
  originMs: (number | null)[];
  appMs: (number | null)[];
  country: number[];
  colo: number[];
  device: number[];
  browser: number[];
}

/** JSON length bound of any number, its comma included (the longest double is 24 characters). */
const NUMBER_BYTES = 25;
/** … of a millisecond value rounded to the microsecond below 10^6 ("-999999.999,"), or null. */
const MS_BYTES = 12;
/** … of a status ("65535,", a Uint16). */
const STATUS_BYTES = 6;
/** … of a dictionary index ("9999,": a batch adds at most 5 strings per record, ≤ 10,000). */
const INDEX_BYTES = 5;
/** JSON bytes of one record at most, apart from its request id and its own ts and ms values. */
const RECORD_BYTES = STATUS_BYTES + 6 * INDEX_BYTES;
/** Epoch milliseconds up to the year 2286 ("9999999999999,"). */
const TS_BYTES = 14;
/** The line's keys and brackets (215 characters), the site apart. */
const FRAME_BYTES = 240;
/** Request ids as the edge makes them need no JSON escaping. */
const PLAIN = /^[0-9A-Za-z._-]*$/;

/** UTF-8 bytes of a JSON string literal of `s`, at most (escapes counted at their longest). */
function stringBytes(s: string): number {
  if (PLAIN.test(s)) return s.length + 2;
  let n = 2;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // ASCII: 2 covers an escaped quote or backslash; \uXXXX (6) for control characters; 2 UTF-8
    // bytes below U+0800; 6 above, which covers a lone surrogate's \uXXXX as well as 3-byte
    // characters and half of a 4-byte pair.
    n += c < 0x20 ? 6 : c < 0x80 ? 2 : c < 0x800 ? 2 : 6;
  }
  return n;
}

/** JSON bytes of a millisecond column value at most (non-finite ones travel as null). */
function msBytes(ms: number | null): number {
  if (ms === null || !Number.isFinite(ms)) return 5;
  return ms > -1e6 && ms < 1e6 ? MS_BYTES : NUMBER_BYTES;
}

function rounded(ms: number | null): number {
  return ms === null || !Number.isFinite(ms) ? Number.NaN : Math.round(ms * 1000) / 1000;
}

/**
 * One batch being filled. `add` appends a record unless it would make the JSON line longer than
 * `maxBytes` (counted as an upper bound, so the line is never longer) or the batch holds
 * LOG_BATCH_MAX_RECORDS records.
 */
export class EdgeLogBatch {
  readonly site: string;
  readonly maxBytes: number;
  n = 0;
  /** Upper bound of the JSON line's UTF-8 bytes so far. */
  bytes: number;
  /** Set once the batch left (sent, or handed to the sender). */
  closed = false;
  paths: string[] = [];
  pageGroups: string[] = [];
  pathIndex = new Map<string, number>();
  strings: string[] = [];
  stringIndex = new Map<string, number>();
  ts = new Float64Array(LOG_BATCH_MAX_RECORDS);
  rid: string[] = [];
  path = new Uint16Array(LOG_BATCH_MAX_RECORDS);
  status = new Uint16Array(LOG_BATCH_MAX_RECORDS);
  cacheStatus = new Uint16Array(LOG_BATCH_MAX_RECORDS);
  edgeMs = new Float64Array(LOG_BATCH_MAX_RECORDS);
  originMs = new Float64Array(LOG_BATCH_MAX_RECORDS);
  appMs = new Float64Array(LOG_BATCH_MAX_RECORDS);
  country = new Uint16Array(LOG_BATCH_MAX_RECORDS);
  colo = new Uint16Array(LOG_BATCH_MAX_RECORDS);
  device = new Uint16Array(LOG_BATCH_MAX_RECORDS);
  browser = new Uint16Array(LOG_BATCH_MAX_RECORDS);

  constructor(site: string, maxBytes: number) {
    this.site = site;
    this.maxBytes = maxBytes;
    this.bytes = FRAME_BYTES + stringBytes(site);
  }

  /** No room for another record of the usual size (a 64-character id, no new strings). */
  get full(): boolean {
    return (
      this.n >= LOG_BATCH_MAX_RECORDS ||
      this.bytes + RECORD_BYTES + TS_BYTES + 3 * MS_BYTES + 67 > this.maxBytes
    );
  }

  /**
   * Appends one page view; false (nothing appended) when the batch is full. `pageGroup` is
   * called for a path the batch has not seen yet.
   */
  add(
    ts: number,
    rid: string,
    path: string,
    pageGroup: (path: string) => string,
    status: number,
    cacheStatus: CacheStatus,
    edgeMs: number,
    originMs: number | null,
    appMs: number | null,
    country: string,
    colo: string,
    device: string,
    browser: string,
  ): boolean {
    const n = this.n;
    if (n >= LOG_BATCH_MAX_RECORDS) return false;
    // Bytes first: nothing changes when the record does not fit. A new string that appears
    // twice in one record (country "NL", colo "NL") is counted twice: still an upper bound.
    let grow = RECORD_BYTES + stringBytes(rid) + 1;
    grow += Number.isInteger(ts) && ts >= 0 && ts < 1e13 ? TS_BYTES : NUMBER_BYTES;
    grow += msBytes(edgeMs) + msBytes(originMs) + msBytes(appMs);
    const p = this.pathIndex.get(path);
    let group = "";
    if (p === undefined) {
      group = pageGroup(path);
      grow += stringBytes(path) + stringBytes(group) + 2;
    }
    const si = this.stringIndex;
    const cs = si.get(cacheStatus);
    if (cs === undefined) grow += stringBytes(cacheStatus) + 1;
    const c = si.get(country);
    if (c === undefined) grow += stringBytes(country) + 1;
    const o = si.get(colo);
    if (o === undefined) grow += stringBytes(colo) + 1;
    const d = si.get(device);
    if (d === undefined) grow += stringBytes(device) + 1;
    const b = si.get(browser);
    if (b === undefined) grow += stringBytes(browser) + 1;
    if (n > 0 && this.bytes + grow > this.maxBytes) return false;
    if (p === undefined) {
      this.path[n] = this.paths.length;
      this.pathIndex.set(path, this.paths.length);
      this.paths.push(path);
      this.pageGroups.push(group);
    } else this.path[n] = p;
    this.bytes += grow;
    this.ts[n] = Number.isFinite(ts) ? ts : 0;
    this.rid.push(rid);
    this.status[n] = status;
    this.cacheStatus[n] = cs ?? this.intern(cacheStatus);
    this.edgeMs[n] = rounded(edgeMs);
    this.originMs[n] = rounded(originMs);
    this.appMs[n] = rounded(appMs);
    this.country[n] = c ?? this.intern(country);
    this.colo[n] = o ?? this.intern(colo);
    this.device[n] = d ?? this.intern(device);
    this.browser[n] = b ?? this.intern(browser);
    this.n = n + 1;
    return true;
  }

  private intern(s: string): number {
    let i = this.stringIndex.get(s);
    if (i === undefined) {
      i = this.strings.length;
      this.strings.push(s);
      this.stringIndex.set(s, i);
    }
    return i;
  }

  /**
   * The batch's JSON line (an `EdgeLogBatchMessage`). Numeric columns are written with the typed
   * arrays' own `join`, which formats numbers as JSON does; only the dictionaries and ids go
   * through JSON.stringify. Once per batch, but a batch holds up to a few thousand records.
   */
  json(): string {
    const n = this.n;
    const col = (a: Uint16Array | Float64Array) => `[${a.subarray(0, n).join(",")}]`;
    // Unknown milliseconds are NaN in the column and null in JSON.
    const ms = (a: Float64Array) => col(a).replaceAll("NaN", "null");
    return (
      `{"kind":"edge-batch","v":1,"site":${JSON.stringify(this.site)},` +
      `"paths":${JSON.stringify(this.paths)},"pageGroups":${JSON.stringify(this.pageGroups)},` +
      `"strings":${JSON.stringify(this.strings)},"ts":${col(this.ts)},"rid":${JSON.stringify(this.rid)},` +
      `"path":${col(this.path)},"status":${col(this.status)},"cacheStatus":${col(this.cacheStatus)},` +
      `"edgeMs":${col(this.edgeMs).replaceAll("NaN", "0")},"originMs":${ms(this.originMs)},"appMs":${ms(this.appMs)},` +
      `"country":${col(this.country)},"colo":${col(this.colo)},"device":${col(this.device)},"browser":${col(this.browser)}}`
    );
  }
}

function isStringArray(x: unknown): x is string[] {
  return Array.isArray(x) && x.every((v) => typeof v === "string");
}

function isIndexArray(x: unknown, n: number, size: number): x is number[] {
  return Array.isArray(x) && x.length === n && x.every((v) => Number.isInteger(v) && v >= 0 && v < size);
}

function isNumberArray(x: unknown, n: number, nullable: boolean): x is (number | null)[] {
  return (
    Array.isArray(x) &&
    x.length === n &&
    x.every((v) => (typeof v === "number" && Number.isFinite(v)) || (nullable && v === null))
  );
}

/**
 * The records of an `edge-batch` line, or the reason it is malformed (column lengths differ, an
 * index is out of range, a value has the wrong type). All or nothing: a batch is one producer's
 * write, so a bad one is a bug to see, not records to guess.
 */
export function expandEdgeLogBatch(x: Record<string, unknown>): EdgeLogMessage[] | string {
  if (x.kind !== "edge-batch") return 'kind is not "edge-batch"';
  if (x.v !== 1) return `unknown edge-batch version ${JSON.stringify(x.v)}`;
  if (typeof x.site !== "string") return "site must be a string";
  if (!isStringArray(x.paths) || !isStringArray(x.pageGroups) || x.paths.length !== x.pageGroups.length)
    return "paths and pageGroups must be string arrays of one length";
  if (!isStringArray(x.strings)) return "strings must be a string array";
  if (!isNumberArray(x.ts, Array.isArray(x.ts) ? x.ts.length : 0, false))
    return "ts must be an array of numbers";
  const n = x.ts.length;
  if (!isStringArray(x.rid) || x.rid.length !== n) return `rid must be ${n} strings`;
  if (!isIndexArray(x.path, n, x.paths.length)) return `path must be ${n} indexes into paths`;
  if (!isNumberArray(x.status, n, false)) return `status must be ${n} numbers`;
  if (!isNumberArray(x.edgeMs, n, false)) return `edgeMs must be ${n} numbers`;
  if (!isNumberArray(x.originMs, n, true) || !isNumberArray(x.appMs, n, true))
    return `originMs and appMs must be ${n} numbers or nulls`;
  const size = x.strings.length;
  for (const k of ["cacheStatus", "country", "colo", "device", "browser"] as const) {
    if (!isIndexArray(x[k], n, size)) return `${k} must be ${n} indexes into strings`;
  }
  const s = x.strings;
  const out: EdgeLogMessage[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const p = (x.path as number[])[i] as number;
    out[i] = {
      kind: "edge",
      ts: x.ts[i] as number,
      rid: x.rid[i] as string,
      site: x.site,
      pageGroup: x.pageGroups[p] as string,
      path: x.paths[p] as string,
      status: x.status[i] as number,
      cacheStatus: s[(x.cacheStatus as number[])[i] as number] as CacheStatus,
      edgeMs: x.edgeMs[i] as number,
      originMs: x.originMs[i] as number | null,
      appMs: x.appMs[i] as number | null,
      country: s[(x.country as number[])[i] as number] as string,
      colo: s[(x.colo as number[])[i] as number] as string,
      device: s[(x.device as number[])[i] as number] as string,
      browser: s[(x.browser as number[])[i] as number] as string,
    };
  }
  return out;
}
