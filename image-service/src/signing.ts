// Web Crypto only (no node:* imports), so the same code signs in a Worker and verifies here.
import { type ImageOptions, imageSignaturePayload } from "../../common/src/image-options.ts";

const encoder = new TextEncoder();

function importKey(secret: string, usage: "sign" | "verify"): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    usage,
  ]);
}

function toBase64Url(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9_-]{43}$/.test(text)) return undefined;
  const bin = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/**
 * Signature for an option set and source: base64url (no padding) of
 * HMAC-SHA256(key, `<canonical options>\n<source>`), 43 characters.
 */
export async function signImageRequest(secret: string, opts: ImageOptions, source: string): Promise<string> {
  const key = await importKey(secret, "sign");
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(imageSignaturePayload(opts, source)));
  return toBase64Url(new Uint8Array(mac));
}

/** Checks a signature with `crypto.subtle.verify` (a constant-time comparison); false for any malformed value. */
export async function verifyImageSignature(
  secret: string,
  opts: ImageOptions,
  source: string,
  signature: string | undefined,
): Promise<boolean> {
  const sig = signature === undefined ? undefined : fromBase64Url(signature);
  if (sig === undefined) return false;
  const key = await importKey(secret, "verify");
  return crypto.subtle.verify("HMAC", key, sig, encoder.encode(imageSignaturePayload(opts, source)));
}
