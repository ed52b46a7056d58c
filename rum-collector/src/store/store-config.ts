/**
 * The store's configuration keys, parsed from the Worker env; every bad value throws
 * `Invalid config <KEY>: <reason> (got "<value>")`. Documented in rum-collector/README.md.
 */
import { configError } from "../config.ts";
import { parseRetention, type RetentionConfig } from "./retention.ts";

export { configError };

export interface StoreConfig {
  retention: RetentionConfig;
  /** `RUM_MAX_PAGE_GROUPS`: page groups per site (default 300). */
  maxPageGroups: number;
  /** `RUM_RAW_WINDOW_HOURS`: raw page views and edge log rows kept in D1 (default 48 h). */
  rawWindowMs: number;
  /** `RUM_EDGE_JOIN_MINUTES`: how long a page view waits for its edge record (default 10 min). */
  joinWindowMs: number;
  /** `RUM_ARCHIVE_QUERY_PARAMS`: per site, query parameters the archive may keep (default none). */
  archiveParams: ReadonlyMap<string, ReadonlySet<string>>;
}

const HOUR_MS = 3_600_000;

function intIn(key: string, raw: unknown, dflt: number, min: number, max: number): number {
  if (raw === undefined || raw === null || raw === "") return dflt;
  const s = String(raw).trim();
  if (!/^\d{1,7}$/.test(s) || Number(s) < min || Number(s) > max)
    throw configError(key, `expected an integer ${min}-${max}`, raw);
  return Number(s);
}

/**
 * Parses `RUM_ARCHIVE_QUERY_PARAMS` like `demo=q,page;shop=sku`: the named query parameters of a
 * site's page URLs survive in the archive; everything else of the query and the fragment is cut.
 */
export function parseArchiveParams(raw: unknown): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  if (raw === undefined || raw === null || raw === "") return out;
  if (typeof raw !== "string") throw configError("RUM_ARCHIVE_QUERY_PARAMS", "expected site=a,b;…", raw);
  for (const part of raw.split(";")) {
    const entry = part.trim();
    if (entry === "") continue;
    const m =
      /^([A-Za-z0-9_-]{1,64})\s*=\s*([A-Za-z0-9_.\-[\]]{1,64}(\s*,\s*[A-Za-z0-9_.\-[\]]{1,64})*)$/.exec(
        entry,
      );
    if (!m) throw configError("RUM_ARCHIVE_QUERY_PARAMS", `entry "${entry}" is not site=param[,param…]`, raw);
    out.set(m[1] as string, new Set((m[2] as string).split(",").map((s) => s.trim())));
  }
  return out;
}

/** Parses the store's keys (defaults: see `StoreConfig`). */
export function parseStoreConfig(env: Readonly<Record<string, unknown>>): StoreConfig {
  return {
    retention: parseRetention(env.RUM_RETENTION),
    maxPageGroups: intIn("RUM_MAX_PAGE_GROUPS", env.RUM_MAX_PAGE_GROUPS, 300, 1, 100_000),
    rawWindowMs: intIn("RUM_RAW_WINDOW_HOURS", env.RUM_RAW_WINDOW_HOURS, 48, 1, 24 * 400) * HOUR_MS,
    joinWindowMs: intIn("RUM_EDGE_JOIN_MINUTES", env.RUM_EDGE_JOIN_MINUTES, 10, 1, 24 * 60) * 60_000,
    archiveParams: parseArchiveParams(env.RUM_ARCHIVE_QUERY_PARAMS),
  };
}
