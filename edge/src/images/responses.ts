/** Headers and error answers shared by every `/cdn-cgi/image/` response. */
import type { CacheStatus } from "../../../common/src/rum-types.ts";

/** On every image-route answer: no sniffing, nothing active if opened as a document, timing readable. */
export const SAFE_IMAGE_HEADERS: Readonly<Record<string, string>> = {
  "x-content-type-options": "nosniff",
  "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
  "timing-allow-origin": "*",
};

/** JSON error `{ "error": … }`, never stored, with the safe headers. */
export function imageError(status: number, error: string, extra?: Record<string, string>): Response {
  return new Response(JSON.stringify({ error }), {
    status,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "cache-control": "no-store",
      ...SAFE_IMAGE_HEADERS,
      ...extra,
    },
  });
}

export function intHeader(h: Headers, name: string): number | null {
  const v = h.get(name);
  if (v === null || !/^\d+$/.test(v)) return null;
  return Number(v);
}

/** `cdn-cache;desc=…` of a Server-Timing value (the edge writes it first). */
export function cacheStatusOf(st: string | null): CacheStatus {
  const m = st === null ? null : /(?:^|,)\s*cdn-cache;desc=([A-Z]+)/.exec(st);
  return (m?.[1] as CacheStatus | undefined) ?? "NONE";
}
