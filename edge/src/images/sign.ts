/**
 * Signs an option set for the image service (`IMAGE_SIGNING_KEY`): base64url without padding of
 * HMAC-SHA256(key, `<canonical options>\n<source>`) — the payload `imageSignaturePayload` in
 * common defines, which the service verifies. The imported key is cached per isolate.
 */
import { type ImageOptions, imageSignaturePayload } from "../../../common/src/image-options.ts";

const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let k = keys.get(secret);
  if (k === undefined) {
    k = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
    ]);
    keys.set(secret, k);
  }
  return k;
}

/** Signature (43 base64url chars) the image service expects in `sig` for these options and source. */
export async function signImageOptions(secret: string, opts: ImageOptions, source: string): Promise<string> {
  const mac = await crypto.subtle.sign(
    "HMAC",
    await hmacKey(secret),
    encoder.encode(imageSignaturePayload(opts, source)),
  );
  let bin = "";
  for (const b of new Uint8Array(mac)) bin += String.fromCharCode(b);
  return btoa(bin).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}
