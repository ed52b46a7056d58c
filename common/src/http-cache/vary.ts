/**
 * Vary (RFC 9110 §12.5.5, RFC 9111 §4.1): the request headers a stored response was selected by.
 * A cache stores one variant per combination of those headers' values; here the values are
 * normalised (whitespace around commas and at the ends collapsed, names lower-cased) and the
 * combination becomes a short, collision-resistant suffix of the cache key.
 */

/** Parsed `Vary`: `star` for `Vary: *` (never served from a cache), else the listed names. */
export interface ParsedVary {
  star: boolean;
  /** Lower-cased, de-duplicated, sorted; `accept-encoding` left out (see `parseVary`). */
  names: string[];
}

/**
 * Parses one or more `Vary` values. `Accept-Encoding` is left out: the edge stores decoded bytes
 * and the runtime encodes each answer for its client, so one stored copy serves every encoding.
 */
export function parseVary(value: string | null): ParsedVary {
  if (value === null || value.trim() === "") return { star: false, names: [] };
  const names = new Set<string>();
  for (const raw of value.split(",")) {
    const n = raw.trim().toLowerCase();
    if (n === "") continue;
    if (n === "*") return { star: true, names: [] };
    if (n !== "accept-encoding") names.add(n);
  }
  return { star: false, names: [...names].sort() };
}

/** A request header value as it takes part in a variant: trimmed, spaces around commas removed. */
export function normalizeVaryValue(v: string | null): string {
  if (v === null) return "\u0000";
  return v
    .trim()
    .replace(/\s*,\s*/g, ",")
    .replace(/\s+/g, " ");
}

/** Union of two sorted name lists, sorted. */
export function mergeNames(a: readonly string[], b: readonly string[]): string[] {
  if (a.length === 0) return [...b];
  if (b.length === 0) return [...a];
  return [...new Set([...a, ...b])].sort();
}

/** 64-bit FNV-1a over UTF-16 code units, as 16 hex chars (two independent 32-bit lanes). */
export function hash64(s: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
  }
  return (a >>> 0).toString(16).padStart(8, "0") + (b >>> 0).toString(16).padStart(8, "0");
}

/**
 * The variant of a request for the header `names` (sorted, lower-case): each name with its
 * normalised value (absent and empty differ), one per line. The cache key holds its `hash64`;
 * the stored object holds the string itself and a lookup compares it, so a crafted hash collision
 * is a miss, never another client's variant. `get` reads one request header.
 */
export function variantOf(names: readonly string[], get: (name: string) => string | null): string {
  let s = "";
  for (const n of names) s += `${n}:${normalizeVaryValue(get(n))}\n`;
  return s;
}
