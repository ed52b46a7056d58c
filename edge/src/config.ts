/**
 * Edge configuration: parsed and validated ONCE from the Worker's env (wrangler vars + secrets)
 * into a typed object. A bad value throws `Invalid config KEY: reason (got "value")`.
 * Every key is documented in edge/README.md.
 */

import {
  compileParamMatcher,
  DEFAULT_MARKETING_PARAMS,
  type ParamMatcher,
} from "../../common/src/cache-key.ts";
import {
  type CookieMatcher,
  compileCookieMatcher,
  DEFAULT_BYPASS_COOKIES,
} from "../../common/src/http-cache/request-policy.ts";
import { type PageGroupRule, parsePageGroupRules } from "../../common/src/page-group.ts";
import { checkSecretToken, type TokenCheck } from "../../common/src/secret-token.ts";
import type { LogCountrySource } from "./edge-log.ts";
import { bool, ConfigError, globToRegExp, int, list, type RawEnv, str } from "./env-config.ts";

/** One path rule from EDGE_CACHE_RULES (first matching rule wins). */
export interface PathRule {
  /** Glob on the URL path: `*` matches any characters (including `/`). */
  path: string;
  re: RegExp;
  /** Edge TTL in seconds; replaces the origin's freshness and makes responses without any storable. */
  ttl?: number;
  /** stale-while-revalidate seconds (overrides the origin's). */
  swr?: number;
  /** stale-if-error seconds (overrides the origin's and EDGE_STALE_IF_ERROR). */
  sie?: number;
  /** Never cache (always go to the origin). */
  bypass: boolean;
  /** Store even `private`/`no-store`/`Set-Cookie` responses (Set-Cookie is never stored). */
  force: boolean;
  /** false = no RUM beacon injection on these paths. */
  rum: boolean;
  /** Request headers whose (lower-cased, trimmed) values become part of the key (and are forwarded). */
  keyHeaders: string[];
  /** Extra request headers forwarded to the origin on cacheable requests (unkeyed: the origin must not vary on them without `Vary`). */
  forwardHeaders: string[];
  /** Cookies forwarded on cacheable requests (names, `prefix*`); null = none (default). */
  forwardCookies: CookieMatcher | null;
}

export interface EdgeConfig {
  /** Origin base without trailing slash, e.g. `http://127.0.0.1:8000` or `https://o.example/base`. */
  originBase: string;
  /** EDGE_ADMIN_TOKEN as checked by common/src/secret-token.ts (unusable → admin endpoints answer 503). */
  adminToken: TokenCheck;
  /** Zone purge API target (EDGE_PURGE_ZONE_ID + EDGE_PURGE_API_TOKEN), or null. */
  zonePurge: { zoneId: string; apiToken: string } | null;
  marketingParams: readonly string[];
  marketingMatcher: ParamMatcher;
  /** EDGE_BYPASS_COOKIES names (and `prefix*` patterns) as given. */
  bypassCookieNames: readonly string[];
  bypassCookies: CookieMatcher;
  rules: PathRule[];
  /** EDGE_RULES_CASE_SENSITIVE: rule globs match the path case-sensitively (default false). */
  rulesCaseSensitive: boolean;
  originTimeoutMs: number;
  /** EDGE_ORIGIN_BODY_TIMEOUT_MS: deadline for reading an origin body the edge buffers. */
  originBodyTimeoutMs: number;
  /** EDGE_VARY_MAX_VARIANTS: variants stored per URL in one isolate. */
  varyMaxVariants: number;
  defaultStaleIfError: number;
  hotCacheBytes: number;
  hotCacheMaxObjectBytes: number;
  purgeCheckSeconds: number;
  /** EDGE_PURGE_READ_TIMEOUT_MS: how long the first request of an isolate waits for the purge state. */
  purgeReadTimeoutMs: number;
  hitForPassSeconds: number;
  rumInject: boolean;
  rumBeaconSrc: string;
  rumSiteId: string;
  edgeLog: boolean;
  logFlushMs: number;
  /** EDGE_LOG_COUNTRY: where the page-view log takes a view's country from. */
  logCountry: LogCountrySource;
  /** `RUM_PAGE_GROUPS`, the same rules the collector uses, so edge views and beacons join by page group. */
  pageGroupRules: PageGroupRule[];
}

export { DEFAULT_BYPASS_COOKIES };

const TOKEN_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** A comma list of header/cookie names (HTTP tokens; `*` is one), `def` when the key is unset. */
function nameList(env: RawEnv, key: string, def: readonly string[]): string[] {
  const items = list(env, key, def);
  for (const i of items) {
    if (!TOKEN_NAME.test(i)) throw new ConfigError(key, `"${i}" is not a valid name`, str(env, key));
  }
  return items;
}

function headerNames(at: string, v: unknown): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((h) => typeof h !== "string" || !/^[A-Za-z0-9-]+$/.test(h)))
    throw new ConfigError(at, "must be an array of header names", v);
  return (v as string[]).map((h) => h.toLowerCase());
}

function cookieNames(at: string, v: unknown): CookieMatcher | null {
  if (v === undefined) return null;
  if (!Array.isArray(v) || v.some((c) => typeof c !== "string" || !TOKEN_NAME.test(c)))
    throw new ConfigError(at, "must be an array of cookie names (a trailing * matches a prefix)", v);
  return compileCookieMatcher(v as string[]);
}

const RULE_KEYS = new Set([
  "path",
  "ttl",
  "swr",
  "sie",
  "bypass",
  "force",
  "rum",
  "keyHeaders",
  "forwardHeaders",
  "forwardCookies",
]);
const MAX_SECONDS = 31_536_000;

function parseRules(env: RawEnv, caseSensitive: boolean): PathRule[] {
  const key = "EDGE_CACHE_RULES";
  const raw = str(env, key);
  if (raw === undefined) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError(key, "must be a JSON array of rules", raw);
  }
  if (!Array.isArray(parsed)) throw new ConfigError(key, "must be a JSON array of rules", raw);
  return parsed.map((r: unknown, i: number): PathRule => {
    const at = `${key}[${i}]`;
    if (typeof r !== "object" || r === null || Array.isArray(r))
      throw new ConfigError(at, "must be an object", r);
    const o = r as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (!RULE_KEYS.has(k))
        throw new ConfigError(`${at}.${k}`, `unknown rule field (known: ${[...RULE_KEYS].join(", ")})`, o[k]);
    }
    if (typeof o.path !== "string" || !o.path.startsWith("/")) {
      throw new ConfigError(`${at}.path`, 'must be a path glob starting with "/"', o.path);
    }
    const secs = (k: "ttl" | "swr" | "sie"): number | undefined => {
      const v = o[k];
      if (v === undefined) return undefined;
      if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > MAX_SECONDS) {
        throw new ConfigError(
          `${at}.${k}`,
          `must be an integer number of seconds between 0 and ${MAX_SECONDS}`,
          v,
        );
      }
      return v;
    };
    const flag = (k: "bypass" | "force" | "rum", def: boolean): boolean => {
      const v = o[k];
      if (v === undefined) return def;
      if (typeof v !== "boolean") throw new ConfigError(`${at}.${k}`, "must be true or false", v);
      return v;
    };
    const rule: PathRule = {
      path: o.path,
      re: globToRegExp(o.path, caseSensitive),
      bypass: flag("bypass", false),
      force: flag("force", false),
      rum: flag("rum", true),
      keyHeaders: headerNames(`${at}.keyHeaders`, o.keyHeaders),
      forwardHeaders: headerNames(`${at}.forwardHeaders`, o.forwardHeaders),
      forwardCookies: cookieNames(`${at}.forwardCookies`, o.forwardCookies),
    };
    const ttl = secs("ttl");
    const swr = secs("swr");
    const sie = secs("sie");
    if (ttl !== undefined) rule.ttl = ttl;
    if (swr !== undefined) rule.swr = swr;
    if (sie !== undefined) rule.sie = sie;
    return rule;
  });
}

function parseOrigin(env: RawEnv): string {
  const key = "ORIGIN_URL";
  const v = str(env, key);
  if (v === undefined)
    throw new ConfigError(key, "is required (the origin the edge proxies to)", env[key] ?? "");
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new ConfigError(key, "must be an absolute http(s) URL", v);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:")
    throw new ConfigError(key, "must use http or https", v);
  if (u.search || u.hash) throw new ConfigError(key, "must not have a query or fragment", v);
  return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, "")}`;
}

/** Parses the edge config from env; defaults are listed in edge/README.md. Throws ConfigError. */
export function parseEdgeConfig(env: RawEnv): EdgeConfig {
  const marketingParams = nameList(env, "EDGE_MARKETING_PARAMS", DEFAULT_MARKETING_PARAMS);
  const hotCacheBytes = int(env, "EDGE_HOT_CACHE_BYTES", 32 * 1024 * 1024, 0, 512 * 1024 * 1024);
  const hotCacheMaxObjectBytes = int(env, "EDGE_HOT_CACHE_MAX_OBJECT_BYTES", 256 * 1024, 0, 64 * 1024 * 1024);
  const site = str(env, "RUM_SITE_ID") ?? "demo";
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(site))
    throw new ConfigError("RUM_SITE_ID", "must be 1-64 chars of [A-Za-z0-9_.-]", site);
  const beacon = str(env, "RUM_BEACON_SRC") ?? "/_rum/beacon.js";
  if (!beacon.startsWith("/") || /["<>\s]/.test(beacon)) {
    throw new ConfigError(
      "RUM_BEACON_SRC",
      'must be a same-origin path starting with "/" without quotes, <, > or spaces',
      beacon,
    );
  }
  const bypassCookieNames = nameList(env, "EDGE_BYPASS_COOKIES", DEFAULT_BYPASS_COOKIES);
  const rulesCaseSensitive = bool(env, "EDGE_RULES_CASE_SENSITIVE", false);
  return {
    originBase: parseOrigin(env),
    adminToken: checkSecretToken("EDGE_ADMIN_TOKEN", str(env, "EDGE_ADMIN_TOKEN"), env.ENVIRONMENT),
    zonePurge: zonePurge(env),
    marketingParams,
    marketingMatcher: compileParamMatcher(marketingParams),
    bypassCookieNames,
    bypassCookies: compileCookieMatcher(bypassCookieNames),
    rules: parseRules(env, rulesCaseSensitive),
    rulesCaseSensitive,
    originTimeoutMs: int(env, "EDGE_ORIGIN_TIMEOUT_MS", 10_000, 1, 300_000),
    originBodyTimeoutMs: int(env, "EDGE_ORIGIN_BODY_TIMEOUT_MS", 30_000, 1, 600_000),
    varyMaxVariants: int(env, "EDGE_VARY_MAX_VARIANTS", 32, 1, 1024),
    defaultStaleIfError: int(env, "EDGE_STALE_IF_ERROR", 300, 0, MAX_SECONDS),
    hotCacheBytes,
    hotCacheMaxObjectBytes: Math.min(hotCacheMaxObjectBytes, hotCacheBytes),
    purgeCheckSeconds: int(env, "EDGE_PURGE_CHECK_SECONDS", 5, 1, 3600),
    purgeReadTimeoutMs: int(env, "EDGE_PURGE_READ_TIMEOUT_MS", 100, 1, 10_000),
    hitForPassSeconds: int(env, "EDGE_HIT_FOR_PASS_SECONDS", 10, 0, 3600),
    rumInject: bool(env, "RUM_INJECT", true),
    rumBeaconSrc: beacon,
    rumSiteId: site,
    edgeLog: bool(env, "EDGE_LOG", true),
    logFlushMs: int(env, "EDGE_LOG_FLUSH_MS", 100, 0, 60_000),
    logCountry: logCountrySource(env),
    pageGroupRules: pageGroupRules(env),
  };
}

function zonePurge(env: RawEnv): EdgeConfig["zonePurge"] {
  const zoneId = str(env, "EDGE_PURGE_ZONE_ID");
  const apiToken = str(env, "EDGE_PURGE_API_TOKEN");
  if (zoneId === undefined && apiToken === undefined) return null;
  if (zoneId === undefined || !/^[0-9a-f]{32}$/.test(zoneId))
    throw new ConfigError(
      "EDGE_PURGE_ZONE_ID",
      "must be a 32-hex-digit zone id when EDGE_PURGE_API_TOKEN is set",
      zoneId ?? "",
    );
  if (apiToken === undefined)
    throw new ConfigError("EDGE_PURGE_API_TOKEN", "is required when EDGE_PURGE_ZONE_ID is set", "");
  return { zoneId, apiToken };
}

const LOG_COUNTRY_SOURCES: readonly LogCountrySource[] = ["header", "cf", "off"];

function logCountrySource(env: RawEnv): LogCountrySource {
  const v = str(env, "EDGE_LOG_COUNTRY");
  if (v === undefined) return "header";
  const l = v.toLowerCase();
  const found = LOG_COUNTRY_SOURCES.find((s) => s === l);
  if (found === undefined) throw new ConfigError("EDGE_LOG_COUNTRY", "must be header, cf or off", v);
  return found;
}

function pageGroupRules(env: RawEnv): PageGroupRule[] {
  const raw = str(env, "RUM_PAGE_GROUPS");
  if (raw === undefined) return [];
  try {
    return parsePageGroupRules(raw);
  } catch (err) {
    throw new ConfigError("RUM_PAGE_GROUPS", err instanceof Error ? err.message : String(err), raw);
  }
}

/** First rule whose glob matches the path, or undefined. */
export function ruleFor(config: EdgeConfig, path: string): PathRule | undefined {
  for (const r of config.rules) if (r.re.test(path)) return r;
  return undefined;
}

/** Config summary safe to show (no secrets), for `GET /_edge/health`. */
export function configSummary(c: EdgeConfig): Record<string, unknown> {
  return {
    originBase: c.originBase,
    purgeEnabled: c.adminToken.ok,
    zonePurge: c.zonePurge !== null,
    marketingParams: c.marketingParams,
    bypassCookies: c.bypassCookieNames,
    rules: c.rules.map(({ re: _re, forwardCookies, ...r }) => ({
      ...r,
      forwardCookies:
        forwardCookies === null
          ? null
          : [...forwardCookies.exact, ...forwardCookies.prefixes.map((p) => `${p}*`)],
    })),
    rulesCaseSensitive: c.rulesCaseSensitive,
    originTimeoutMs: c.originTimeoutMs,
    originBodyTimeoutMs: c.originBodyTimeoutMs,
    varyMaxVariants: c.varyMaxVariants,
    purgeReadTimeoutMs: c.purgeReadTimeoutMs,
    defaultStaleIfError: c.defaultStaleIfError,
    hotCacheBytes: c.hotCacheBytes,
    hotCacheMaxObjectBytes: c.hotCacheMaxObjectBytes,
    purgeCheckSeconds: c.purgeCheckSeconds,
    hitForPassSeconds: c.hitForPassSeconds,
    rumInject: c.rumInject,
    rumBeaconSrc: c.rumBeaconSrc,
    rumSiteId: c.rumSiteId,
    edgeLog: c.edgeLog,
    pageGroupRules: c.pageGroupRules,
    logFlushMs: c.logFlushMs,
    logCountry: c.logCountry,
  };
}
