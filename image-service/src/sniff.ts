/** Input formats the service decodes; anything else is 415 before libvips sees the bytes. */
export type SniffedFormat = "jpeg" | "png" | "gif" | "webp" | "avif" | "heif" | "tiff" | "svg";

function ascii(bytes: Uint8Array, start: number, end: number): string {
  return String.fromCharCode(...bytes.subarray(start, end));
}

/** Identifies the format from magic bytes (not from Content-Type or the file name); undefined = unsupported. */
export function sniffImageFormat(bytes: Uint8Array): SniffedFormat | undefined {
  if (bytes.length < 12) return undefined;
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "jpeg";
  if (ascii(bytes, 0, 8) === "\x89PNG\r\n\x1a\n") return "png";
  if (ascii(bytes, 0, 6) === "GIF87a" || ascii(bytes, 0, 6) === "GIF89a") return "gif";
  if (ascii(bytes, 0, 4) === "RIFF" && ascii(bytes, 8, 12) === "WEBP") return "webp";
  if (ascii(bytes, 4, 8) === "ftyp") {
    const brand = ascii(bytes, 8, 12);
    if (brand === "avif" || brand === "avis") return "avif";
    if (["heic", "heix", "mif1", "msf1", "hevc"].includes(brand)) return "heif";
    return undefined;
  }
  const head = ascii(bytes, 0, 4);
  if (head === "II*\0" || head === "MM\0*") return "tiff";
  const text = new TextDecoder("utf-8", { fatal: false })
    .decode(bytes.subarray(0, 1024))
    .replace(/^\uFEFF/, "");
  if (/^\s*</.test(text) && /<svg[\s>]/i.test(text)) return "svg";
  return undefined;
}
