/**
 * Injects the RUM beacon `<script src="/_rum/beacon.js" async></script>` into HTML once: before
 * the first `</body>` (or at the document end when there is none), unless a `<script>` before
 * that point already loads the beacon (also a versioned `/_rum/beacon.<hash>.js`). The scanning
 * is `common/src/beacon-inject.ts` (why not HTMLRewriter: see there).
 */

import { BeaconInjector, injectIntoBytes } from "../../common/src/beacon-inject.ts";

/**
 * Bodies with a `Content-Length` up to this size are read whole and rewritten in one pass.
 * The origin already had the whole page when it sent the length, so holding it back costs one
 * transfer of at most this many bytes, while a JS-driven stream costs CPU on every response
 * (on workerd about 0.3–0.5 ms per page, measured with `npm run bench:edge`).
 */
export const INJECT_BUFFER_MAX_BYTES = 256 * 1024;

interface Beacon {
  tag: string;
  path: string;
}

const beacons = new Map<string, Beacon>();

/** The tag and the path matched against existing scripts, for a beacon `src` (may carry a query). */
function beaconFor(src: string): Beacon {
  let b = beacons.get(src);
  if (b === undefined) {
    // `/_rum/beacon.js` also matches versioned copies (`/_rum/beacon.<hash>.js`) the collector serves.
    b = {
      tag: `<script src="${src}" async></script>`,
      path: (src.split("?")[0] ?? src).replace(/\.js$/, ""),
    };
    beacons.set(src, b);
  }
  return b;
}

/** Streams `body` with the beacon tag for `src` injected. */
export function injectBeacon(body: ReadableStream<Uint8Array>, src: string): ReadableStream<Uint8Array> {
  const b = beaconFor(src);
  const inj = new BeaconInjector(b.tag, b.path);
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

/**
 * The body of origin response `res` with the beacon injected: read whole and returned as bytes
 * when its `Content-Length` is at most INJECT_BUFFER_MAX_BYTES, streamed otherwise.
 */
export async function beaconBody(
  res: Response,
  src: string,
): Promise<Uint8Array | ReadableStream<Uint8Array> | null> {
  const body = res.body;
  if (body === null) return null;
  const len = res.headers.get("content-length");
  if (len !== null && Number(len) <= INJECT_BUFFER_MAX_BYTES) {
    const b = beaconFor(src);
    return injectIntoBytes(new Uint8Array(await res.arrayBuffer()), b.tag, b.path);
  }
  return injectBeacon(body, src);
}

/** True for an HTML content type. */
export function isHtml(contentType: string | null): boolean {
  return contentType?.toLowerCase().startsWith("text/html") === true;
}
