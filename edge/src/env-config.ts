/**
 * Reading Worker vars: one error type and the typed readers shared by the edge and image-variant
 * configs, so every bad value is reported the same way (`Invalid config KEY: reason (got "value")`).
 */
export class ConfigError extends Error {
  key: string;
  constructor(key: string, reason: string, value: unknown) {
    const shown = typeof value === "string" ? value : JSON.stringify(value);
    super(`Invalid config ${key}: ${reason} (got ${JSON.stringify(shown ?? String(value))})`);
    this.name = "ConfigError";
    this.key = key;
  }
}

export type RawEnv = Record<string, unknown>;

export function str(env: RawEnv, key: string): string | undefined {
  const v = env[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw new ConfigError(key, "must be a string", v);
  const t = v.trim();
  return t === "" ? undefined : t;
}

export function int(env: RawEnv, key: string, def: number, min: number, max: number): number {
  const v = str(env, key);
  if (v === undefined) return def;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
    throw new ConfigError(key, `must be an integer between ${min} and ${max}`, v);
  }
  return Number(v);
}

export function bool(env: RawEnv, key: string, def: boolean): boolean {
  const v = str(env, key);
  if (v === undefined) return def;
  const l = v.toLowerCase();
  if (["true", "1", "on", "yes"].includes(l)) return true;
  if (["false", "0", "off", "no"].includes(l)) return false;
  throw new ConfigError(key, "must be true/false (also 1/0, on/off, yes/no)", v);
}

/** A comma-separated list (items trimmed, empty ones dropped); `def` when the key is unset. */
export function list(env: RawEnv, key: string, def: readonly string[]): string[] {
  const v = str(env, key);
  if (v === undefined) return [...def];
  return v
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/** A glob (`*` = any run of characters, nothing else special) as an anchored RegExp. */
export function globToRegExp(glob: string, caseSensitive = true): RegExp {
  const src = glob.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
  return new RegExp(`^${src}$`, caseSensitive ? "" : "i");
}
