/**
 * Session cookie and bearer checks. The cookie holds `<expiry>.<HMAC-SHA256(token, expiry)>`,
 * so it never contains the token itself, expires on its own and stops working when the token
 * is rotated. Comparisons are constant-time over HMAC outputs.
 */

export const COOKIE_NAME = "dash_session";

const encoder = new TextEncoder();

async function hmacKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
}

function toBase64Url(bytes: ArrayBuffer): string {
  let s = "";
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function sign(secret: string, message: string): Promise<string> {
  return toBase64Url(await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(message)));
}

/** Constant-time string compare (length leaks only, and our inputs have fixed length). */
function sameString(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** Cookie value for a session that ends at `expiresAtMs` (ms since epoch). */
export async function makeSessionValue(token: string, expiresAtMs: number): Promise<string> {
  const exp = String(Math.floor(expiresAtMs / 1000));
  return `${exp}.${await sign(token, `dash-session:${exp}`)}`;
}

/** True when `value` was made by `makeSessionValue` with this token and has not expired at `nowMs`. */
export async function verifySessionValue(token: string, value: string, nowMs: number): Promise<boolean> {
  const dot = value.indexOf(".");
  if (dot <= 0) return false;
  const exp = value.slice(0, dot);
  if (!/^\d{1,12}$/.test(exp) || Number(exp) * 1000 <= nowMs) return false;
  return sameString(value.slice(dot + 1), await sign(token, `dash-session:${exp}`));
}

/** Constant-time check of a presented token against the configured one (compares HMACs). */
export async function tokenMatches(token: string, presented: string): Promise<boolean> {
  const [a, b] = await Promise.all([
    sign(token, `dash-token:${token}`),
    sign(token, `dash-token:${presented}`),
  ]);
  return sameString(a, b);
}
