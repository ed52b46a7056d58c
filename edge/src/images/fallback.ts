/**
 * The original bytes when the image service is unavailable (time-out, refused connection, 5xx,
 * paused, not configured) — and only then, and only for a raster within IMAGE_FALLBACK_MAX_BYTES /
 * _PIXELS / _FRAMES, checked from its header without decoding (`refuseRaster` in
 * common/src/image-header.ts). Anything else is a 4xx with the reason. The content type sent is
 * the one read from the bytes, never the origin's claim; a source redirect is never passed on.
 */
import { concatBytes } from "../../../common/src/bytes.ts";
import { RASTER_CONTENT_TYPES, refuseRaster } from "../../../common/src/image-header.ts";
import type { ImageLogMessage } from "../../../common/src/rum-types.ts";
import type { Edge } from "../edge.ts";
import { IMAGE_ACCEPT_CH, type ImageConfig } from "./config.ts";
import { cacheStatusOf, imageError, SAFE_IMAGE_HEADERS } from "./responses.ts";

export interface FallbackDeps {
  config: ImageConfig;
  originals: Edge;
  log(
    m: Omit<ImageLogMessage, "kind" | "ts" | "site" | "rid">,
    rid: string | null,
    ctx: ExecutionContext,
  ): void;
  device(ua: string | null): ImageLogMessage["device"];
}

export interface FallbackRequest {
  request: Request;
  /** `https://host` of the request. */
  base: string;
  /** Source path + (allowed) query. */
  source: string;
  /** The variant attempt that failed (its timing and request id lead), or null. */
  failed: Response | null;
  reason: string;
}

/** Reads at most `max` bytes; null when the body is longer. */
async function readBounded(body: ReadableStream<Uint8Array> | null, max: number): Promise<Uint8Array | null> {
  if (body === null) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  return concatBytes(chunks, total);
}

/** Serves the checked original, or a 4xx/502 naming why it may not be passed on. */
export async function serveOriginal(
  deps: FallbackDeps,
  f: FallbackRequest,
  ctx: ExecutionContext,
): Promise<Response> {
  const failedSt = f.failed?.headers.get("server-timing") ?? null;
  const failedRid = f.failed?.headers.get("x-request-id") ?? null;
  await f.failed?.body?.cancel();
  const oh = new Headers();
  for (const n of ["accept", "user-agent"]) {
    const v = f.request.headers.get(n);
    if (v !== null) oh.set(n, v);
  }
  // Always GET: the bytes must be checked before anything about them is answered.
  const orig = await deps.originals.handle(new Request(`${f.base}${f.source}`, { headers: oh }), ctx);
  const origSt = orig.headers.get("server-timing");
  let st = failedSt ?? origSt ?? "";
  st += `${st ? ", " : ""}img-fallback;desc=${f.reason}`;
  if (failedSt !== null) st += `, img-src-cache;desc=${cacheStatusOf(origSt)}`;
  const refuse = (status: number, error: string): Response => {
    const r = imageError(status, error);
    r.headers.set("server-timing", st);
    return r;
  };
  if (orig.status !== 200) {
    await orig.body?.cancel();
    if (orig.status === 404 || orig.status === 410) return refuse(404, "Source image not found");
    if (orig.status >= 300 && orig.status < 400) {
      // The Location is the origin's to give, not ours to pass on (it may point anywhere).
      return refuse(
        502,
        `Source answered a redirect (${orig.status}); redirects are not followed for originals`,
      );
    }
    return refuse(502, `Source answered ${orig.status}`);
  }
  const { maxBytes } = deps.config.fallback;
  const declared = Number(orig.headers.get("content-length") ?? Number.NaN);
  if (declared > maxBytes) {
    await orig.body?.cancel();
    return refuse(413, `Source image over the ${maxBytes} byte limit`);
  }
  const bytes = await readBounded(orig.body, maxBytes);
  if (bytes === null) return refuse(413, `Source image over the ${maxBytes} byte limit`);
  const verdict = refuseRaster(bytes, deps.config.fallback);
  if (verdict.status !== 200) return refuse(verdict.status, verdict.error);

  const h = new Headers(SAFE_IMAGE_HEADERS);
  h.set("content-type", RASTER_CONTENT_TYPES[verdict.header.format]);
  h.set("content-length", String(bytes.byteLength));
  h.set("cache-control", "no-store");
  h.set("server-timing", `${st}, img-orig;desc=${bytes.byteLength}, img-out;desc=${bytes.byteLength}`);
  const rid = failedRid ?? orig.headers.get("x-request-id");
  if (rid) h.set("x-request-id", rid);
  const lm = orig.headers.get("last-modified");
  if (lm !== null) h.set("last-modified", lm);
  if (deps.config.acceptCh) h.set("accept-ch", IMAGE_ACCEPT_CH);
  if (f.request.method === "GET") {
    deps.log(
      {
        format: "original",
        device: deps.device(f.request.headers.get("user-agent")),
        width: verdict.header.width,
        cacheStatus: cacheStatusOf(failedSt ?? origSt),
        originalBytes: bytes.byteLength,
        deliveredBytes: bytes.byteLength,
        fallback: true,
      },
      rid,
      ctx,
    );
  }
  return new Response(f.request.method === "HEAD" ? null : bytes, { status: 200, headers: h });
}
