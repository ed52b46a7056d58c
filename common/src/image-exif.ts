/**
 * Reads the EXIF Copyright tag (0x8298, IFD0) from a raw EXIF block (TIFF structure, with or
 * without the `Exif\0\0` prefix), for Cloudflare's default `metadata=copyright`. Pure.
 */
export function readExifCopyright(exif: Uint8Array | undefined): string | undefined {
  if (exif === undefined || exif.length < 14) return undefined;
  let base = 0;
  if (String.fromCharCode(...exif.subarray(0, 4)) === "Exif") base = 6;
  const order = String.fromCharCode(exif[base] ?? 0, exif[base + 1] ?? 0);
  if (order !== "II" && order !== "MM") return undefined;
  const le = order === "II";
  const u16 = (i: number) =>
    le ? (exif[i] ?? 0) | ((exif[i + 1] ?? 0) << 8) : ((exif[i] ?? 0) << 8) | (exif[i + 1] ?? 0);
  const u32 = (i: number) => (le ? u16(i) + u16(i + 2) * 65536 : u16(i) * 65536 + u16(i + 2));
  const ifd = base + u32(base + 4);
  const count = u16(ifd);
  for (let e = 0; e < count && ifd + 2 + e * 12 + 12 <= exif.length; e++) {
    const at = ifd + 2 + e * 12;
    if (u16(at) !== 0x8298 || u16(at + 2) !== 2) continue; // ASCII
    const n = u32(at + 4);
    const start = n <= 4 ? at + 8 : base + u32(at + 8);
    if (n > 4096 || start + n > exif.length) return undefined;
    const text = new TextDecoder("latin1").decode(exif.subarray(start, start + n)).replace(/\0+$/, "");
    return text === "" ? undefined : text;
  }
  return undefined;
}
