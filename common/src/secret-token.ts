// One policy for every bearer token the Worker accepts (EDGE_ADMIN_TOKEN, RUM_QUERY_TOKEN,
// DASH_TOKEN): which values are usable in which environment, how a header is parsed, and how
// two tokens are compared. Pure: the environment name is passed in.

/** The value of the `ENVIRONMENT` var that marks local development (`wrangler dev`, tests). */
export const LOCAL_ENVIRONMENT = "development";

/** Minimum token length outside local development. */
export const MIN_TOKEN_LENGTH = 32;

export type TokenCheck = { ok: true; token: string } | { ok: false; key: string; reason: string };

/**
 * True when `ENVIRONMENT` is "development". Anything else, including unset, is treated as a
 * deployed environment, so a forgotten var fails closed.
 */
export function isLocalDevelopment(environment: unknown): boolean {
  return environment === LOCAL_ENVIRONMENT;
}

/**
 * Decides whether a configured secret token may be used. Local development accepts any
 * non-empty token; elsewhere a token must have at least 32 characters and must not start
 * with `dev-`. A missing token is never usable. The reason names the key, never the value.
 */
export function checkSecretToken(key: string, value: unknown, environment: unknown): TokenCheck {
  if (typeof value !== "string" || value.trim() === "") {
    return { ok: false, key, reason: `${key} is not set` };
  }
  if (isLocalDevelopment(environment)) return { ok: true, token: value };
  if (value.length < MIN_TOKEN_LENGTH) {
    return { ok: false, key, reason: `${key} is shorter than ${MIN_TOKEN_LENGTH} characters` };
  }
  if (value.startsWith("dev-")) {
    return { ok: false, key, reason: `${key} is a development token (starts with "dev-")` };
  }
  return { ok: true, token: value };
}

/** The token of an `Authorization: Bearer <token>` header, or null (scheme is case-insensitive). */
export function bearerToken(header: string | null | undefined): string | null {
  if (!header) return null;
  const m = /^bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return m ? (m[1] ?? null) : null;
}

/** Compares two strings in time that depends only on their lengths, not on where they differ. */
export function tokensEqual(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) diff |= (a.charCodeAt(i) | 0) ^ (b.charCodeAt(i) | 0);
  return diff === 0;
}
