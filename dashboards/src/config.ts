/** Dashboards config, parsed once from the Worker env; errors name the key and the bad value. */

export interface DashConfig {
  /** Shared secret for the login form and `Authorization: Bearer`. */
  token: string;
  /** Site shown when the URL names none. */
  defaultSite: string;
  /** Seconds between reloads of the live page-view list. */
  liveRefreshSeconds: number;
  /** Lifetime of the login cookie in seconds. */
  sessionSeconds: number;
}

function invalid(key: string, why: string, value: unknown): Error {
  return new Error(`Invalid config ${key}: ${why} (got ${JSON.stringify(value)})`);
}

function intIn(env: Record<string, unknown>, key: string, def: number, min: number, max: number): number {
  const raw = env[key];
  if (raw === undefined || raw === "") return def;
  const n = typeof raw === "number" ? raw : Number(String(raw).trim());
  if (!Number.isInteger(n) || n < min || n > max)
    throw invalid(key, `expected an integer ${min}–${max}`, raw);
  return n;
}

/**
 * Parses `DASH_TOKEN` (required, ≥ 8 chars; outside ENVIRONMENT=development also ≥ 32 chars and
 * no `dev-` prefix, checked in index.ts), `DASH_DEFAULT_SITE` (default "demo"),
 * `DASH_LIVE_REFRESH_SECONDS` (default 5) and `DASH_SESSION_SECONDS` (default 43200 = 12 h).
 */
export function parseDashConfig(env: Record<string, unknown>): DashConfig {
  const token = env.DASH_TOKEN;
  if (typeof token !== "string" || token.trim().length < 8)
    // Only the length is echoed: the value is a secret.
    throw invalid(
      "DASH_TOKEN",
      "expected a string of at least 8 characters",
      token === undefined || token === null ? null : `<${String(token).length} chars>`,
    );
  const site = env.DASH_DEFAULT_SITE ?? "demo";
  if (typeof site !== "string" || !/^[A-Za-z0-9_.-]{1,64}$/.test(site))
    throw invalid("DASH_DEFAULT_SITE", "expected a site id of [A-Za-z0-9_.-]", site);
  return {
    token: token.trim(),
    defaultSite: site,
    liveRefreshSeconds: intIn(env, "DASH_LIVE_REFRESH_SECONDS", 5, 1, 3600),
    sessionSeconds: intIn(env, "DASH_SESSION_SECONDS", 43_200, 60, 2_592_000),
  };
}
