/**
 * Frame size of a plain JPEG read from its header in JavaScript, so the transform does not need a
 * separate libvips header read (one round trip through the thread pool) before it can plan.
 * "Plain" = well-formed marker segments up to the first frame header (SOF) and no APP1 segment:
 * without EXIF there is no orientation or copyright for libvips to report, so width and height
 * are all it would tell. The caller still gives libvips a pixel limit of exactly width × height
 * (libvips refuses, before decoding, any frame its own header read finds larger) and checks the
 * output size against the plan; anything else (EXIF, an unusual segment, a truncated header)
 * returns undefined and libvips reads the header as before.
 */
import { readImageHeader } from "../../common/src/image-header.ts";

const SOF = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

/** Width and height of a plain JPEG (see above), or undefined when libvips must read the header. */
export function plainJpegFrame(bytes: Uint8Array): { width: number; height: number } | undefined {
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  const u16 = (i: number) => ((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0);
  for (let i = 2; i + 4 <= bytes.length; ) {
    if (bytes[i] !== 0xff) return undefined;
    const marker = bytes[i + 1] ?? 0;
    if (marker === 0xff) {
      i += 1; // fill byte
      continue;
    }
    // APP1 (EXIF/XMP), a scan or end of image before the frame header, markers without a length:
    // not plain.
    if (
      marker === 0xe1 ||
      marker === 0xda ||
      marker === 0xd9 ||
      marker < 0xc0 ||
      (marker >= 0xd0 && marker <= 0xd8)
    )
      return undefined;
    const length = u16(i + 2);
    if (length < 2) return undefined;
    if (SOF.has(marker)) {
      // The project's header reader (as the edge uses it) must agree on the frame size.
      const header = readImageHeader(bytes);
      if (!header.ok || header.header.format !== "jpeg") return undefined;
      const { width, height } = header.header;
      return width === u16(i + 7) && height === u16(i + 5) ? { width, height } : undefined;
    }
    i += 2 + length;
  }
  return undefined;
}
