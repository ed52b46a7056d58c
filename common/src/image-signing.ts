/**
 * HMAC-signed image option sets (`IMAGE_SIGNING_KEY`): base64url without padding of
 * HMAC-SHA256(key, `<canonical options>\n<source>`), 43 characters. Web Crypto only, so the edge
 * signs in a Worker and the image service verifies in Node with the same code. Imported keys are
 * cached per process/isolate.
 */
import { type ImageOptions, imageSignaturePayload } from "./image-options.ts";

const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string, usage: "sign" | "verify"): Promise<CryptoKey> {
  const id = `${usage}\n${secret}`;
  let k = keys.get(id);
  if (k === undefined) {
    k = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
      usage,
    ]);
    keys.set(id, k);
  }
  return k;
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

/** Signature (43 base64url chars) the image service expects in `sig` for these options and source. */
export async function signImageRequest(secret: string, opts: ImageOptions, source: string): Promise<string> {
  const mac = await crypto.subtle.sign(
    "HMAC",
    await hmacKey(secret, "sign"),
    encoder.encode(imageSignaturePayload(opts, source)),
  );
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
  return crypto.subtle.verify(
    "HMAC",
    await hmacKey(secret, "verify"),
    sig,
    encoder.encode(imageSignaturePayload(opts, source)),
  );
}
