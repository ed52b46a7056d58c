/** Demo origin configuration, parsed once from the environment. */

export type DemoConfig = {
  /** DEMO_PORT, default 8000 (0 = any free port). */
  port: number;
  /** DEMO_HOST, default 127.0.0.1. */
  host: string;
  /** DEMO_BACKEND_MS, default 40: simulated backend time of a product page (other pages scale it). */
  backendMs: number;
  /** DEMO_JITTER_MS, default 20: uniform random extra backend time in [0, jitter). */
  jitterMs: number;
};

export const DEMO_DEFAULTS: DemoConfig = { port: 8000, host: "127.0.0.1", backendMs: 40, jitterMs: 20 };

function intFromEnv(
  env: Record<string, string | undefined>,
  key: string,
  fallback: number,
  max: number,
): number {
  const raw = env[key];
  if (raw === undefined || raw.trim() === "") return fallback;
  const n = Number(raw);
  if (!/^\s*\d+\s*$/.test(raw) || !Number.isSafeInteger(n) || n > max) {
    throw new Error(`Invalid config ${key}: expected an integer between 0 and ${max} (got "${raw}")`);
  }
  return n;
}

/** Parses DEMO_PORT (8000), DEMO_HOST (127.0.0.1), DEMO_BACKEND_MS (40), DEMO_JITTER_MS (20). */
export function parseDemoConfig(env: Record<string, string | undefined>): DemoConfig {
  const host = env.DEMO_HOST?.trim() || DEMO_DEFAULTS.host;
  return {
    port: intFromEnv(env, "DEMO_PORT", DEMO_DEFAULTS.port, 65535),
    host,
    backendMs: intFromEnv(env, "DEMO_BACKEND_MS", DEMO_DEFAULTS.backendMs, 60_000),
    jitterMs: intFromEnv(env, "DEMO_JITTER_MS", DEMO_DEFAULTS.jitterMs, 60_000),
  };
}
