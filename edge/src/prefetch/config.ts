/**
 * Prefetch config from Worker vars, parsed once (a bad value throws a ConfigError naming the
 * key). Every key and default is listed in edge/PREFETCH.md.
 */
import {
  DEFAULT_SPECULATION_POLICY,
  type Ect,
  type SpeculationPolicy,
} from "../../../common/src/prefetch/safety.ts";
import { bool, ConfigError, int, list, type RawEnv, str } from "../env-config.ts";

export interface PrefetchConfig {
  /** PREFETCH_ENABLED (default true): rules header, rules document, arm script. */
  enabled: boolean;
  /** PREFETCH_LEARN (default true): record Referer transitions and flush them to D1. */
  learn: boolean;
  /** PREFETCH_THRESHOLD (default 0.15): least probability of a prefetched candidate. */
  threshold: number;
  /** PREFETCH_MAX_PER_PAGE (default 2): most pages speculated per page. */
  maxPerPage: number;
  /** PREFETCH_PRERENDER (default false): prerender the top candidate above the prerender threshold. */
  prerender: boolean;
  /** PREFETCH_PRERENDER_THRESHOLD (default 0.6). */
  prerenderThreshold: number;
  /**
   * PREFETCH_RULES_DELIVERY (default "header"): "header" = `Speculation-Rules` header naming the
   * rules document (CSP-friendly, computed per view); "inline" = `<script type="speculationrules">`
   * written into the page when the edge stores it (no extra request; needs CSP
   * 'inline-speculation-rules'; candidates as of the page's last origin fetch).
   */
  rulesDelivery: "header" | "inline";
  /** PREFETCH_PRESS_RULES (default false): a press-arm rule (prefetch any allowed link on pointerdown) in the rules document; off because the RUM beacon implements the press arm itself. */
  pressRules: boolean;
  /** PREFETCH_WARM_PER_SECOND (default 2; 0 = no warming): origin requests/s for warming, per isolate. */
  warmPerSecond: number;
  /** PREFETCH_MODEL_REFRESH_SECONDS (default 60): how often the in-isolate model is re-read from KV. */
  modelRefreshMs: number;
  /** PREFETCH_FLUSH_SECONDS (default 30): how often learned counts are written to D1. */
  flushMs: number;
  /** Deny rules: PREFETCH_DENY_PATHS, PREFETCH_QUERY_DENY_PATHS, PREFETCH_SESSION_COOKIES (comma lists), PREFETCH_MIN_ECT. */
  policy: SpeculationPolicy;
}

function share(env: RawEnv, key: string, def: number): number {
  const v = str(env, key);
  if (v === undefined) return def;
  const x = Number(v);
  if (!/^(0|1|0?\.\d+|1\.0*)$/.test(v) || !(x >= 0 && x <= 1))
    throw new ConfigError(key, "must be a number from 0 to 1", v);
  return x;
}

function paths(env: RawEnv, key: string, def: readonly string[]): string[] {
  const items = list(env, key, def);
  for (const p of items)
    if (!p.startsWith("/")) throw new ConfigError(key, "every path must start with /", p);
  return items;
}

function delivery(env: RawEnv): "header" | "inline" {
  const v = (str(env, "PREFETCH_RULES_DELIVERY") ?? "header").toLowerCase();
  if (v !== "header" && v !== "inline")
    throw new ConfigError("PREFETCH_RULES_DELIVERY", "must be header or inline", v);
  return v;
}

const ECTS: readonly Ect[] = ["slow-2g", "2g", "3g", "4g"];

/** Parses the PREFETCH_* vars (defaults above). */
export function parsePrefetchConfig(env: RawEnv): PrefetchConfig {
  const minEct = (str(env, "PREFETCH_MIN_ECT") ?? DEFAULT_SPECULATION_POLICY.minEct).toLowerCase() as Ect;
  if (!ECTS.includes(minEct))
    throw new ConfigError("PREFETCH_MIN_ECT", "must be one of slow-2g, 2g, 3g, 4g", minEct);
  const threshold = share(env, "PREFETCH_THRESHOLD", 0.15);
  const prerenderThreshold = share(env, "PREFETCH_PRERENDER_THRESHOLD", 0.6);
  if (prerenderThreshold < threshold)
    throw new ConfigError(
      "PREFETCH_PRERENDER_THRESHOLD",
      `must be at least PREFETCH_THRESHOLD (${threshold})`,
      String(prerenderThreshold),
    );
  return {
    enabled: bool(env, "PREFETCH_ENABLED", true),
    learn: bool(env, "PREFETCH_LEARN", true),
    threshold,
    maxPerPage: int(env, "PREFETCH_MAX_PER_PAGE", 2, 0, 10),
    prerender: bool(env, "PREFETCH_PRERENDER", false),
    prerenderThreshold,
    rulesDelivery: delivery(env),
    pressRules: bool(env, "PREFETCH_PRESS_RULES", false),
    warmPerSecond: int(env, "PREFETCH_WARM_PER_SECOND", 2, 0, 1000),
    modelRefreshMs: int(env, "PREFETCH_MODEL_REFRESH_SECONDS", 60, 1, 86_400) * 1000,
    flushMs: int(env, "PREFETCH_FLUSH_SECONDS", 30, 0, 3600) * 1000,
    policy: {
      denyPaths: paths(env, "PREFETCH_DENY_PATHS", DEFAULT_SPECULATION_POLICY.denyPaths),
      queryDenyPaths: paths(env, "PREFETCH_QUERY_DENY_PATHS", DEFAULT_SPECULATION_POLICY.queryDenyPaths),
      sessionCookies: list(env, "PREFETCH_SESSION_COOKIES", DEFAULT_SPECULATION_POLICY.sessionCookies),
      minEct,
    },
  };
}
