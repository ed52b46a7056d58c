import { parseHttpDate } from "./http-cache/http-date.ts";

/**
 * `Cache-Control` parsing and shared-cache freshness (RFC 9111 + RFC 5861 extensions), as the
 * edge page cache applies them. Pure: the caller passes the current time.
 */

/** Parsed `Cache-Control` (response or request). Absent numeric directives are undefined. */
export interface CacheControl {
  maxAge?: number;
  sMaxage?: number;
  staleWhileRevalidate?: number;
  staleIfError?: number;
  noStore: boolean;
  noCache: boolean;
  private: boolean;
  public: boolean;
  mustRevalidate: boolean;
  proxyRevalidate: boolean;
  immutable: boolean;
  noTransform: boolean;
}

type NumericKey = "maxAge" | "sMaxage" | "staleWhileRevalidate" | "staleIfError";
const NUMERIC: Record<string, NumericKey> = {
  "max-age": "maxAge",
  "s-maxage": "sMaxage",
  "stale-while-revalidate": "staleWhileRevalidate",
  "stale-if-error": "staleIfError",
};

/** Splits on commas outside double quotes. */
function splitDirectives(header: string): string[] {
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < header.length; i++) {
    const c = header.charCodeAt(i);
    if (c === 34 /* " */) quoted = !quoted;
    else if (c === 92 /* \ */ && quoted) i++;
    else if (c === 44 /* , */ && !quoted) {
      out.push(header.slice(start, i));
      start = i + 1;
    }
  }
  out.push(header.slice(start));
  return out;
}

/**
 * Parses a `Cache-Control` header (null/empty → all flags false). Unknown directives are ignored;
 * a malformed delta-seconds value counts as 0 (treated as stale, the safe reading); a repeated
 * numeric directive keeps the smallest value; `private="…"`/`no-cache="…"` count as plain
 * `private`/`no-cache` (the conservative reading for a shared cache).
 */
export function parseCacheControl(header: string | null | undefined): CacheControl {
  const cc: CacheControl = {
    noStore: false,
    noCache: false,
    private: false,
    public: false,
    mustRevalidate: false,
    proxyRevalidate: false,
    immutable: false,
    noTransform: false,
  };
  if (!header) return cc;
  for (const part of splitDirectives(header)) {
    const eq = part.indexOf("=");
    const name = (eq === -1 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (!name) continue;
    const numKey = NUMERIC[name];
    if (numKey) {
      let raw = eq === -1 ? "" : part.slice(eq + 1).trim();
      if (raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"')) raw = raw.slice(1, -1);
      const n = /^\d+$/.test(raw) ? Math.min(Number(raw), 2 ** 31) : 0;
      const prev = cc[numKey];
      cc[numKey] = prev === undefined ? n : Math.min(prev, n);
      continue;
    }
    switch (name) {
      case "no-store":
        cc.noStore = true;
        break;
      case "no-cache":
        cc.noCache = true;
        break;
      case "private":
        cc.private = true;
        break;
      case "public":
        cc.public = true;
        break;
      case "must-revalidate":
        cc.mustRevalidate = true;
        break;
      case "proxy-revalidate":
        cc.proxyRevalidate = true;
        break;
      case "immutable":
        cc.immutable = true;
        break;
      case "no-transform":
        cc.noTransform = true;
        break;
    }
  }
  return cc;
}

/** Response headers that freshness depends on (raw header values or null). */
export interface FreshnessHeaders {
  cacheControl: string | null;
  expires: string | null;
  date: string | null;
  age: string | null;
}

/** What a shared cache may do with a response, before any edge rule overrides it. */
export interface SharedFreshness {
  cc: CacheControl;
  /** Freshness lifetime in seconds counted from generation at the origin; null = none given. */
  lifetime: number | null;
  /** Age the response already had when received (seconds, from the `Age` header). */
  age: number;
  /** Seconds it may be served stale while revalidating / on origin error (0 when not given). */
  staleWhileRevalidate: number;
  staleIfError: number;
}

/** Parses an `Age` header value: non-negative integer seconds; anything else → 0. */
export function parseAge(value: string | null | undefined): number {
  if (!value) return 0;
  const v = value.trim();
  return /^\d+$/.test(v) ? Math.min(Number(v), 2 ** 31) : 0;
}

/**
 * Shared-cache freshness of a response: lifetime from `s-maxage`, else `max-age`, else
 * `Expires` − `Date` (`Date` missing or not an HTTP-date → `nowMs`; an `Expires` that is not an
 * HTTP-date → 0, already stale, RFC 9111 §5.3); `age` from the `Age` header only, ignored unless
 * a plain non-negative integer (apparent age from `Date` is skipped on purpose: origin clock skew
 * would otherwise expire objects early). `must-revalidate`/`proxy-revalidate` disable serving
 * stale. `cacheControl` is whichever field targets this cache (see http-cache/storability.ts).
 */
export function sharedFreshness(h: FreshnessHeaders, nowMs: number): SharedFreshness {
  const cc = parseCacheControl(h.cacheControl);
  let lifetime: number | null = null;
  if (cc.sMaxage !== undefined) lifetime = cc.sMaxage;
  else if (cc.maxAge !== undefined) lifetime = cc.maxAge;
  else if (h.expires !== null) {
    const exp = parseHttpDate(h.expires, nowMs);
    const date = parseHttpDate(h.date, nowMs);
    const base = date === null ? nowMs : date;
    lifetime = exp === null ? 0 : Math.max(0, Math.floor((exp - base) / 1000));
  }
  const noStale = cc.mustRevalidate || cc.proxyRevalidate;
  return {
    cc,
    lifetime,
    age: parseAge(h.age),
    staleWhileRevalidate: noStale ? 0 : (cc.staleWhileRevalidate ?? 0),
    staleIfError: noStale ? 0 : (cc.staleIfError ?? 0),
  };
}
