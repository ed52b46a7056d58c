/**
 * Injects the RUM beacon `<script src="/_rum/beacon.js" async></script>` (and the tags other
 * parts registered, html-additions.ts, in the same pass) into HTML once: before
 * the first `</body>` (or at the document end when there is none), unless a `<script>` before
 * that point already loads the beacon (also a versioned `/_rum/beacon.<hash>.js`). The scanning
 * is `common/src/beacon-inject.ts` (why not HTMLRewriter: see there).
 */

import { BeaconInjector, type InjectTag, injectIntoBytes } from "../../common/src/beacon-inject.ts";
import { htmlAdditions } from "./html-additions.ts";

/**
 * Bodies with a `Content-Length` up to this size are read whole and rewritten in one pass.
 * The origin already had the whole page when it sent the length, so holding it back costs one
 * transfer of at most this many bytes, while a JS-driven stream costs CPU on every response
 * (on workerd about 0.3–0.5 ms per page, measured with `npm run bench:edge`).
 */
export const INJECT_BUFFER_MAX_BYTES = 256 * 1024;

const beacons = new Map<string, InjectTag>();

/** The beacon tag for a beacon `src` (may carry a query), and the path matched against existing scripts. */
export function beaconTag(src: string): InjectTag {
  let b = beacons.get(src);
  if (b === undefined) {
    // `/_rum/beacon.js` also matches versioned copies (`/_rum/beacon.<hash>.js`) the collector serves.
    b = {
      html: `<script src="${src}" async></script>`,
      path: (src.split("?")[0] ?? src).replace(/\.js$/, ""),
    };
    beacons.set(src, b);
  }
  return b;
}

/** Streams `body` with `tags` injected (one pass; see common/src/beacon-inject.ts). */
export function injectTags(
  body: ReadableStream<Uint8Array>,
  tags: readonly InjectTag[],
): ReadableStream<Uint8Array> {
  const inj = new BeaconInjector(tags);
  const ts = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, out) {
      if (inj.settled) out.enqueue(chunk);
      else inj.push(chunk, (bytes) => out.enqueue(bytes));
    },
    flush(out) {
      inj.end((bytes) => out.enqueue(bytes));
    },
  });
  return body.pipeThrough(ts);
}

/** Streams `body` with the beacon tag for `src` injected. */
export function injectBeacon(body: ReadableStream<Uint8Array>, src: string): ReadableStream<Uint8Array> {
  return injectTags(body, [beaconTag(src)]);
}

/**
 * The body of origin response `res` with `tags` injected in one pass: read whole and returned as
 * bytes when its `Content-Length` is at most INJECT_BUFFER_MAX_BYTES, streamed otherwise.
 */
export async function injectHtml(
  res: Response,
  tags: readonly InjectTag[],
): Promise<Uint8Array | ReadableStream<Uint8Array> | null> {
  const body = res.body;
  if (body === null) return null;
  const len = res.headers.get("content-length");
  if (len !== null && Number(len) <= INJECT_BUFFER_MAX_BYTES)
    return injectIntoBytes(new Uint8Array(await res.arrayBuffer()), tags);
  return injectTags(body, tags);
}

/**
 * What the edge injects into a page: the tags other parts registered (html-additions.ts), then
 * the beacon when `beaconSrc` is given. Empty when there is nothing to inject.
 */
export function pageTags(res: Response, beaconSrc: string | null): readonly InjectTag[] {
  const extra = htmlAdditions(res)?.tags ?? [];
  if (beaconSrc === null) return extra;
  return extra.length === 0 ? [beaconTag(beaconSrc)] : [...extra, beaconTag(beaconSrc)];
}

/**
 * A page read whole for injection reaches the client only once its last byte came from the
 * origin, so that wait is origin time (middle mile), not edge time: added to `ctx.originMs`
 * (`started` = performance.now() before the read). A streamed body adds nothing here.
 */
export function addBodyRead(
  ctx: { originMs: number | null },
  injected: Uint8Array | ReadableStream<Uint8Array> | null,
  started: number,
): void {
  if (ctx.originMs !== null && injected instanceof Uint8Array) ctx.originMs += performance.now() - started;
}

/** True for an HTML content type. */
export function isHtml(contentType: string | null): boolean {
  return contentType?.toLowerCase().startsWith("text/html") === true;
}
