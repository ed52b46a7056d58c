/**
 * Local secrets. The Worker's bearer tokens live outside wrangler.toml: `npm start` keeps them in
 * `.dev.vars` (git-ignored, read by `wrangler dev`), writing random ones on first run and reusing
 * them afterwards; the test projects pass the fixed TEST_TOKENS as bindings in their vitest
 * configs, so no test depends on `.dev.vars`.
 *
 * Types: scripts/dev-vars.d.mts.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

/** The secrets the Worker needs in every environment (wrangler.toml `[secrets] required`). */
export const SECRET_KEYS = Object.freeze(["EDGE_ADMIN_TOKEN", "RUM_QUERY_TOKEN", "DASH_TOKEN"]);

/** Fixed tokens of the test projects (ENVIRONMENT=development accepts them; production never does). */
export const TEST_TOKENS = Object.freeze({
  EDGE_ADMIN_TOKEN: "dev-admin-token",
  RUM_QUERY_TOKEN: "dev-query-token",
  DASH_TOKEN: "dev-dash-token",
});

/** A random token: 32 bytes as base64url (43 characters), long enough for the production policy too. */
export function randomToken() {
  return randomBytes(32).toString("base64url");
}

/** `KEY=value` / `KEY="value"` lines of a dotenv file (comments and blank lines skipped). */
export function parseDotenv(text) {
  const out = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m || line.trimStart().startsWith("#")) continue;
    let value = m[2];
    const q = value[0];
    if ((q === '"' || q === "'") && value.endsWith(q) && value.length >= 2) value = value.slice(1, -1);
    out[m[1]] = value;
  }
  return out;
}

/**
 * Makes sure `<root>/.dev.vars` holds every key of SECRET_KEYS: a missing file is created with
 * random tokens, a file missing some keys gets random ones appended; existing values are kept.
 * Returns the file's path, its tokens and which keys were written now.
 */
export function ensureDevVars(root) {
  const file = path.join(root, ".dev.vars");
  const before = existsSync(file) ? readFileSync(file, "utf8") : "";
  const existing = parseDotenv(before);
  const added = SECRET_KEYS.filter((k) => !existing[k]);
  if (added.length > 0) {
    const header =
      before === ""
        ? "# Local secrets for wrangler dev, written by npm start (git-ignored). Replace freely.\n"
        : "";
    const sep = before !== "" && !before.endsWith("\n") ? "\n" : "";
    const lines = added.map((k) => `${k}="${randomToken()}"`).join("\n");
    writeFileSync(file, `${before}${sep}${header}${lines}\n`, { mode: 0o600 });
  }
  const tokens = parseDotenv(readFileSync(file, "utf8"));
  return { file, tokens: Object.fromEntries(SECRET_KEYS.map((k) => [k, tokens[k]])), added };
}

/**
 * For the workerd vitest configs: wrangler reads the required secrets from process.env when there
 * is no `.dev.vars` and warns once per test file when they are missing. Giving it the same fixed
 * test tokens (only where unset) keeps the output clean; the configs' bindings still decide.
 */
export function quietRequiredSecrets() {
  for (const [k, v] of Object.entries(TEST_TOKENS)) process.env[k] ??= v;
}

/**
 * A token for the operator scripts that talk to a local Worker: `$KEY` in the environment, else
 * `.dev.vars` under `root` (what `npm start` wrote), else undefined.
 */
export function localToken(key, root = path.resolve(import.meta.dirname, "..")) {
  if (process.env[key]) return process.env[key];
  const file = path.join(root, ".dev.vars");
  return existsSync(file) ? parseDotenv(readFileSync(file, "utf8"))[key] || undefined : undefined;
}
