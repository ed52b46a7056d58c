/**
 * Collector configuration, parsed once from the Worker env into a typed object. Every bad value
 * throws `Invalid config <KEY>: <reason> (got "<value>")`. Keys and defaults are documented in
 * rum-collector/README.md ("Configuration").
 */
import { SITE_ID_PATTERN } from "../../common/src/beacon-schema.ts";
import { type PageGroupRule, parsePageGroupRules } from "../../common/src/page-group.ts";
import { checkSecretToken } from "../../common/src/secret-token.ts";

export interface RateLimit {
  /** Requests allowed per window (also the burst size). */
  limit: number;
  windowMs: number;
}

export interface CollectorConfig {
  /** Registered sites: id → allowed browser origins (normalised `scheme://host[:port]`). */
  sites: ReadonlyMap<string, readonly string[]>;
  /** Reverse index: origin → site id (an origin belongs to exactly one site). */
  siteByOrigin: ReadonlyMap<string, string>;
  /** Share of page views kept, 0–1 (decided per page-view id). */
  sampleRate: number;
  /** Per-client limit, or null when disabled. */
  rateLimit: RateLimit | null;
  /** Bearer token of the query API when usable; null when the query API answers 503 (`queryTokenError`). */
  queryToken: string | null;
  /** Why the query API answers 503 (names RUM_QUERY_TOKEN, never its value); null when the token is usable. */
  queryTokenError: string | null;
  /** Page-group rules from `RUM_PAGE_GROUPS` (empty = built-in grouping). */
  pageGroupRules: readonly PageGroupRule[];
  /** Page views per queue `sendBatch` (`RUM_INTAKE_BATCH_SIZE`); 1 = one awaited send per beacon. */
  intakeBatchSize: number;
  /** Longest wait of an accepted page view before its batch is sent (`RUM_INTAKE_BATCH_MS`). */
  intakeBatchMs: number;
  /**
   * Sites that accept beacons without an `Origin` header (`RUM_NO_ORIGIN_SITES`: server-side
   * senders, boomerang image beacons). Default: none.
   */
  noOriginSites: ReadonlySet<string>;
  /** Page groups whose page views count as conversions (`RUM_CONVERSION_GROUPS`). Default: none. */
  conversionGroups: ReadonlySet<string>;
  /**
   * Prefetch arm shares the served beacon script embeds as its default (`RUM_PREFETCH_ARMS`,
   * normalised `name:share,…`); "" = no experiment.
   */
  prefetchArms: string;
}

export const DEFAULT_SAMPLE_RATE = 1;
export const DEFAULT_RATE_LIMIT = "120/min";
export const DEFAULT_INTAKE_BATCH_SIZE = 100;
export const DEFAULT_INTAKE_BATCH_MS = 50;
/** Cloudflare Queues accept at most 100 messages per sendBatch. */
export const MAX_INTAKE_BATCH_SIZE = 100;
/** Keeps the wait plus the retries far inside the 30 s a waitUntil may run. */
export const MAX_INTAKE_BATCH_MS = 5_000;

const WINDOWS: Record<string, number> = {
  s: 1000,
  sec: 1000,
  second: 1000,
  m: 60_000,
  min: 60_000,
  minute: 60_000,
  h: 3_600_000,
  hour: 3_600_000,
};

/** Builds the `Invalid config KEY: reason (got "value")` error every config check throws. */
export function configError(key: string, reason: string, value: unknown): Error {
  return new Error(`Invalid config ${key}: ${reason} (got ${JSON.stringify(String(value))})`);
}

/**
 * Parses the collector's env vars. Defaults: `RUM_SAMPLE_RATE` 1, `RUM_RATE_LIMIT` "120/min",
 * `RUM_QUERY_TOKEN` unset (query API answers 503), `RUM_PAGE_GROUPS` unset, `RUM_INTAKE_BATCH_SIZE` 100,
 * `RUM_INTAKE_BATCH_MS` 50, `RUM_NO_ORIGIN_SITES` unset (none), `RUM_CONVERSION_GROUPS` unset (none),
 * `RUM_PREFETCH_ARMS` unset (no experiment), `RUM_DEAD_LETTER_QUEUE` "rum-events-dlq";
 * `RUM_SITES` is required.
 */
export function parseCollectorConfig(env: Readonly<Record<string, unknown>>): CollectorConfig {
  const { sites, siteByOrigin } = parseSites(env.RUM_SITES);
  // Read by the queue handler only; checked here too so a bad value shows on the first request,
  // not first when a page view has failed max_retries times.
  parseDeadLetterQueue(env.RUM_DEAD_LETTER_QUEUE);
  return {
    sites,
    siteByOrigin,
    noOriginSites: parseNoOriginSites(env.RUM_NO_ORIGIN_SITES, sites),
    conversionGroups: parseConversionGroups(env.RUM_CONVERSION_GROUPS),
    prefetchArms: parsePrefetchArms(env.RUM_PREFETCH_ARMS),
    sampleRate: parseSampleRate(env.RUM_SAMPLE_RATE),
    rateLimit: parseRateLimit(env.RUM_RATE_LIMIT),
    ...parseQueryToken(env.RUM_QUERY_TOKEN, env.ENVIRONMENT),
    pageGroupRules: parseRules(env.RUM_PAGE_GROUPS),
    intakeBatchSize: parseIntegerIn(
      "RUM_INTAKE_BATCH_SIZE",
      env.RUM_INTAKE_BATCH_SIZE,
      DEFAULT_INTAKE_BATCH_SIZE,
      1,
      MAX_INTAKE_BATCH_SIZE,
      "messages per queue batch; 1 = unbatched",
    ),
    intakeBatchMs: parseIntegerIn(
      "RUM_INTAKE_BATCH_MS",
      env.RUM_INTAKE_BATCH_MS,
      DEFAULT_INTAKE_BATCH_MS,
      0,
      MAX_INTAKE_BATCH_MS,
      "milliseconds",
    ),
  };
}

/** The dead-letter queue of the RUM queue when `RUM_DEAD_LETTER_QUEUE` is unset (local wrangler.toml). */
export const DEFAULT_DEAD_LETTER_QUEUE = "rum-events-dlq";

/**
 * `RUM_DEAD_LETTER_QUEUE`: the `dead_letter_queue` of the RUM queue's consumer (wrangler.toml);
 * batches the Worker receives from this queue are parked in R2 for replay instead of stored.
 * Lowercase letters, digits and inner dashes, at most 63 characters.
 */
export function parseDeadLetterQueue(raw: unknown): string {
  if (raw === undefined || raw === null || raw === "") return DEFAULT_DEAD_LETTER_QUEUE;
  const name = String(raw).trim();
  if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(name))
    throw configError(
      "RUM_DEAD_LETTER_QUEUE",
      "expected a queue name (lowercase letters, digits and inner dashes, at most 63 characters)",
      raw,
    );
  return name;
}

/** An integer var in `min…max` (`dflt` when unset or empty). */
function parseIntegerIn(
  key: string,
  raw: unknown,
  dflt: number,
  min: number,
  max: number,
  unit: string,
): number {
  if (raw === undefined || raw === null || raw === "") return dflt;
  const text = String(raw).trim();
  const n = /^\d{1,9}$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= min && n <= max))
    throw configError(key, `expected an integer from ${min} to ${max} (${unit})`, raw);
  return n;
}

/**
 * Parses `RUM_SITES`: `site=origin1,origin2;site2=origin3` (whitespace around separators is
 * ignored). Site ids match `[a-z0-9][a-z0-9_-]{0,63}`; origins are `http(s)://host[:port]`
 * without a path; each site needs ≥ 1 origin and an origin belongs to one site only.
 */
export function parseSites(raw: unknown): Pick<CollectorConfig, "sites" | "siteByOrigin"> {
  const key = "RUM_SITES";
  if (typeof raw !== "string" || raw.trim() === "") {
    throw configError(key, 'required, format "site=origin1,origin2;site2=origin3"', raw ?? "");
  }
  const sites = new Map<string, string[]>();
  const siteByOrigin = new Map<string, string>();
  for (const entry of raw.split(";")) {
    if (entry.trim() === "") continue;
    const eq = entry.indexOf("=");
    if (eq === -1) throw configError(key, `entry "${entry.trim()}" is not site=origin[,origin…]`, raw);
    const id = entry.slice(0, eq).trim();
    if (!SITE_ID_PATTERN.test(id)) {
      throw configError(key, `site id "${id}" must match ${SITE_ID_PATTERN}`, raw);
    }
    if (sites.has(id)) throw configError(key, `site "${id}" is listed twice`, raw);
    const origins: string[] = [];
    for (const o of entry.slice(eq + 1).split(",")) {
      const value = o.trim();
      if (value === "") continue;
      const origin = normaliseOrigin(value);
      if (origin === null) {
        throw configError(key, `"${value}" (site "${id}") is not an origin like https://shop.example`, raw);
      }
      const owner = siteByOrigin.get(origin);
      if (owner !== undefined) {
        throw configError(key, `origin ${origin} is registered for both "${owner}" and "${id}"`, raw);
      }
      siteByOrigin.set(origin, id);
      origins.push(origin);
    }
    if (origins.length === 0) throw configError(key, `site "${id}" has no origins`, raw);
    sites.set(id, origins);
  }
  return { sites, siteByOrigin };
}

function normaliseOrigin(value: string): string | null {
  if (!/^https?:\/\//i.test(value)) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if ((url.pathname !== "/" && url.pathname !== "") || url.search || url.hash || url.username) return null;
  return url.origin;
}

function parseSampleRate(raw: unknown): number {
  if (raw === undefined || raw === null || raw === "") return DEFAULT_SAMPLE_RATE;
  const n = typeof raw === "number" ? raw : Number(String(raw).trim());
  if (!Number.isFinite(n) || n < 0 || n > 1 || String(raw).trim() === "") {
    throw configError("RUM_SAMPLE_RATE", "expected a number between 0 and 1", raw);
  }
  return n;
}

/** Parses `RUM_RATE_LIMIT`: `<n>/<s|sec|second|m|min|minute|h|hour>`, or `off` (default "120/min"). */
export function parseRateLimit(raw: unknown): RateLimit | null {
  const value = raw === undefined || raw === null || raw === "" ? DEFAULT_RATE_LIMIT : String(raw).trim();
  if (value === "off") return null;
  const m = /^(\d{1,7})\s*\/\s*([a-z]+)$/.exec(value);
  // Own keys only: "constructor" or "__proto__" must not resolve through the prototype.
  const windowMs = m?.[2] && Object.hasOwn(WINDOWS, m[2]) ? WINDOWS[m[2]] : undefined;
  const limit = Number(m?.[1]);
  if (!m || windowMs === undefined || !(limit >= 1)) {
    throw configError(
      "RUM_RATE_LIMIT",
      'expected "<n>/<s|min|hour>" with n ≥ 1 (e.g. "120/min"), or "off"',
      raw,
    );
  }
  return { limit, windowMs };
}

/**
 * `RUM_QUERY_TOKEN` under the shared secret-token policy (common/src/secret-token.ts): with
 * `ENVIRONMENT` "development" any token, elsewhere ≥ 32 characters and no `dev-` prefix. A token
 * that fails answers only the query API with 503 naming the key; beacon intake keeps working.
 */
function parseQueryToken(
  raw: unknown,
  environment: unknown,
): Pick<CollectorConfig, "queryToken" | "queryTokenError"> {
  const check = checkSecretToken("RUM_QUERY_TOKEN", raw, environment);
  if (!check.ok) return { queryToken: null, queryTokenError: check.reason };
  if (/\s/.test(check.token)) {
    return { queryToken: null, queryTokenError: "RUM_QUERY_TOKEN contains whitespace" };
  }
  return { queryToken: check.token, queryTokenError: null };
}

/** `RUM_PAGE_GROUPS`: `/p/:id=product,/c/:slug=category` (see common/src/page-group.ts); unset = none. */
function parseRules(raw: unknown): PageGroupRule[] {
  if (raw === undefined || raw === null || raw === "") return [];
  if (typeof raw !== "string") throw configError("RUM_PAGE_GROUPS", "expected a string", raw);
  try {
    return parsePageGroupRules(raw);
  } catch (err) {
    throw configError("RUM_PAGE_GROUPS", err instanceof Error ? err.message : String(err), raw);
  }
}

/**
 * `RUM_NO_ORIGIN_SITES`: comma-separated ids of registered sites that accept beacons without an
 * `Origin` header, or `*` for every site. Unset or empty: none (browser beacons only).
 */
export function parseNoOriginSites(raw: unknown, sites: ReadonlyMap<string, unknown>): ReadonlySet<string> {
  const key = "RUM_NO_ORIGIN_SITES";
  if (raw === undefined || raw === null || raw === "") return new Set();
  if (typeof raw !== "string") throw configError(key, "expected a comma-separated list of site ids", raw);
  if (raw.trim() === "*") return new Set(sites.keys());
  const out = new Set<string>();
  for (const part of raw.split(",")) {
    const id = part.trim();
    if (id === "") continue;
    if (!sites.has(id)) throw configError(key, `site "${id}" is not registered in RUM_SITES`, raw);
    out.add(id);
  }
  return out;
}

/** Longest page-group name `RUM_CONVERSION_GROUPS` accepts. */
const MAX_GROUP_LENGTH = 256;

/**
 * `RUM_CONVERSION_GROUPS`: comma-separated page groups (as the collector names them, e.g.
 * `/checkout/done,order-confirmation`) whose page views count as conversions. Unset: none.
 */
export function parseConversionGroups(raw: unknown): ReadonlySet<string> {
  const key = "RUM_CONVERSION_GROUPS";
  if (raw === undefined || raw === null || raw === "") return new Set();
  if (typeof raw !== "string") throw configError(key, "expected a comma-separated list of page groups", raw);
  const out = new Set<string>();
  for (const part of raw.split(",")) {
    const group = part.trim();
    if (group === "") continue;
    if (group.length > MAX_GROUP_LENGTH || /\s/.test(group)) {
      throw configError(
        key,
        `page group "${group.slice(0, 40)}" must be 1-${MAX_GROUP_LENGTH} chars without whitespace`,
        raw,
      );
    }
    out.add(group);
  }
  return out;
}

/**
 * `RUM_PREFETCH_ARMS`: prefetch arm shares `name:share` comma-separated, names `holdout`, `ours`,
 * `press` (each at most once), shares ≥ 0 with a positive sum, e.g. `holdout:0.1,ours:0.8,press:0.1`.
 * Returned normalised (no spaces) for the beacon script; unset or empty → "" (no experiment).
 */
export function parsePrefetchArms(raw: unknown): string {
  const key = "RUM_PREFETCH_ARMS";
  if (raw === undefined || raw === null || raw === "") return "";
  if (typeof raw !== "string") throw configError(key, 'expected "holdout:0.1,ours:0.8,press:0.1"', raw);
  const parts: string[] = [];
  const seen = new Set<string>();
  let total = 0;
  for (const entry of raw.split(",")) {
    if (entry.trim() === "") continue;
    const m = /^\s*(holdout|ours|press)\s*:\s*(\d+(?:\.\d+)?)\s*$/.exec(entry);
    if (!m?.[1] || m[2] === undefined) {
      throw configError(key, `entry "${entry.trim()}" is not <holdout|ours|press>:<share ≥ 0>`, raw);
    }
    if (seen.has(m[1])) throw configError(key, `arm "${m[1]}" is listed twice`, raw);
    seen.add(m[1]);
    total += Number(m[2]);
    parts.push(`${m[1]}:${m[2]}`);
  }
  if (!(total > 0)) throw configError(key, "the shares must add up to more than 0", raw);
  return parts.join(",");
}
